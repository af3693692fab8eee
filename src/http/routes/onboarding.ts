/**
 * GET /api/onboarding/jobs/:job_id/targets?run_id=&limit= — the onboarding targets of a job's
 * runs (newest run first, then in target order), each with its `events` timeline
 * (scheduled_job_onboarding_target_events by target_row_id, oldest first) and `approval`: the
 * device_approvals row whose approval_reference the target carries, or null. Only non-secret
 * approval fields are returned (no nonces, public key or enrollment code).
 */
import { z } from '@hono/zod-openapi';
import { readOnboardingTimelines } from '../../executors/onboarding/timelines.js';
import type { ApiApp } from '../context.js';
import { notFound } from '../errors.js';
import { idParam, intQuery, MAX_BIGINT_ID, MAX_INT_ID, querySchema } from '../params.js';
import { apiJson, defineRoute, jsonResponse, JsonObject, NOT_FOUND } from '../route.js';
import { MAX_LIMIT } from './work-items.js';

const DEFAULT_TARGET_LIMIT = 1000;

const targetsRoute = defineRoute('viewer', {
  method: 'get',
  path: '/api/onboarding/jobs/{job_id}/targets',
  tags: ['runs'],
  summary: "An onboarding job's targets with their timelines and approvals",
  request: {
    params: z.object({ job_id: idParam(MAX_INT_ID, 'scheduled job id') }),
    query: querySchema({
      run_id: intQuery({ min: 1, max: MAX_BIGINT_ID }, 'only this run'),
      limit: intQuery({ min: 1, max: MAX_LIMIT, default: DEFAULT_TARGET_LIMIT }),
    }),
  },
  responses: {
    200: jsonResponse('targets', z.object({ job: JsonObject, limit: z.number(), truncated: z.boolean(), targets: z.array(JsonObject) })),
    ...NOT_FOUND,
  },
});

export function registerOnboardingRoutes(app: ApiApp): void {
  app.openapi(targetsRoute, async (c) => {
    const { job_id: jobId } = c.req.valid('param');
    const { run_id: runId, limit } = c.req.valid('query');
    const found = await readOnboardingTimelines(c.get('store'), jobId, { runId, limit });
    if (!found) throw notFound(`scheduled job ${jobId} not found`);
    return c.json(apiJson({ job: found.job, limit, truncated: found.truncated, targets: found.targets }), 200);
  });
}

/**
 * GET /api/scheduled-jobs/:id/runs?limit= — a job's runs, newest occurrence first.
 * GET /api/runs/:id — one run with its frozen targets, its activity and its work items.
 */
import { z } from '@hono/zod-openapi';
import { listJobRuns, readRunDetail } from '../../schedule/run-detail.js';
import type { ApiApp } from '../context.js';
import { notFound } from '../errors.js';
import { idParam, intQuery, MAX_BIGINT_ID, MAX_INT_ID, querySchema } from '../params.js';
import { apiJson, defineRoute, jsonResponse, JsonObject, NOT_FOUND } from '../route.js';
import { DEFAULT_LIMIT, MAX_LIMIT } from './work-items.js';

const jobRunsRoute = defineRoute('viewer', {
  method: 'get',
  path: '/api/scheduled-jobs/{id}/runs',
  tags: ['runs'],
  summary: "A job's runs, newest occurrence first",
  request: {
    params: z.object({ id: idParam(MAX_INT_ID, 'scheduled job id') }),
    query: querySchema({ limit: intQuery({ min: 1, max: MAX_LIMIT, default: DEFAULT_LIMIT }) }),
  },
  responses: {
    200: jsonResponse('the job and its runs', z.object({ job: JsonObject, limit: z.number(), runs: z.array(JsonObject) })),
    ...NOT_FOUND,
  },
});

const runRoute = defineRoute('viewer', {
  method: 'get',
  path: '/api/runs/{id}',
  tags: ['runs'],
  summary: 'One run with its frozen targets, activity and work items',
  request: { params: z.object({ id: idParam(MAX_BIGINT_ID, 'run id') }), query: querySchema({}) },
  responses: { 200: jsonResponse('the run', JsonObject), ...NOT_FOUND },
});

export function registerRunReadRoutes(app: ApiApp): void {
  app.openapi(jobRunsRoute, async (c) => {
    const { id } = c.req.valid('param');
    const { limit } = c.req.valid('query');
    const found = await listJobRuns(c.get('store'), id, limit);
    if (!found) throw notFound(`scheduled job ${id} not found`);
    return c.json(apiJson({ job: found.job, limit, runs: found.runs }), 200);
  });
  app.openapi(runRoute, async (c) => {
    const { id } = c.req.valid('param');
    const detail = await readRunDetail(c.get('store'), id);
    if (!detail) throw notFound(`run ${id} not found`);
    return c.json(apiJson(detail), 200);
  });
}

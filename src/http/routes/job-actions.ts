/**
 * Job actions (operator): POST /api/jobs/{id}/run-now, /enable, /disable — the same functions as
 * `jobyard jobs run-now|enable|disable` (src/schedule/operator-actions.ts), each audited.
 * (Jobs CRUD lives in jobs.ts.)
 */
import { z } from '@hono/zod-openapi';
import { runNowAsOperator, setEnabledAsOperator } from '../../schedule/operator-actions.js';
import { actorOf, type ApiApp } from '../context.js';
import { idParam, MAX_INT_ID } from '../params.js';
import { apiJson, defineRoute, jsonResponse, JsonObject, NOT_FOUND } from '../route.js';

const jobId = z.object({ id: idParam(MAX_INT_ID, 'scheduled job id') });

const runNowRoute = defineRoute('operator', {
  method: 'post',
  path: '/api/jobs/{id}/run-now',
  tags: ['jobs'],
  summary: 'Fire one occurrence of a job now (its schedule is unchanged)',
  request: { params: jobId },
  responses: { 201: jsonResponse('the new run', z.object({ run_id: z.number() })), ...NOT_FOUND },
});

const toggleRoute = (verb: 'enable' | 'disable') =>
  defineRoute('operator', {
    method: 'post',
    path: `/api/jobs/{id}/${verb}`,
    tags: ['jobs'],
    summary: verb === 'enable' ? 'Enable a job; it next runs at its first occurrence from now' : 'Disable a job; it stops being scheduled',
    request: { params: jobId },
    responses: { 200: jsonResponse('the job', z.object({ job: JsonObject })), ...NOT_FOUND },
  });

export function registerJobActionRoutes(app: ApiApp): void {
  app.openapi(runNowRoute, async (c) => {
    const runId = await runNowAsOperator(c.get('store'), c.req.valid('param').id, actorOf(c), { now: c.get('clock')() });
    return c.json({ run_id: runId }, 201);
  });
  for (const verb of ['enable', 'disable'] as const) {
    app.openapi(toggleRoute(verb), async (c) => {
      const job = await setEnabledAsOperator(c.get('store'), c.req.valid('param').id, verb === 'enable', actorOf(c), { now: c.get('clock')() });
      return c.json(apiJson({ job }), 200);
    });
  }
}

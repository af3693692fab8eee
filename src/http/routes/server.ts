/**
 * GET /api/server/workers?history_seconds=N — worker rows: every live one (starting, running,
 * idle, …) plus terminal ones (stopped, lost) that ended within the window. A terminal row's end
 * is stopped_at, or updated_at when stopped_at is missing, so an old row is hidden either way.
 * GET /api/server/services — the rows of job_scheduler_service_snapshots.
 */
import { z } from '@hono/zod-openapi';
import { listRecentWorkers } from '../../fleet/worker-rows.js';
import { listServiceSnapshots } from '../../services/snapshots.js';
import type { ApiApp } from '../context.js';
import { intQuery, querySchema } from '../params.js';
import { apiJson, defineRoute, jsonResponse, JsonObject } from '../route.js';

export const DEFAULT_HISTORY_SECONDS = 60;
const MAX_HISTORY_SECONDS = 7 * 24 * 3600;

const workersRoute = defineRoute('viewer', {
  method: 'get',
  path: '/api/server/workers',
  tags: ['server'],
  summary: 'Live site workers and those that ended recently',
  request: {
    query: querySchema({
      history_seconds: intQuery({ min: 0, max: MAX_HISTORY_SECONDS, default: DEFAULT_HISTORY_SECONDS }, 'also list workers that ended within this many seconds'),
    }),
  },
  responses: {
    200: jsonResponse('worker rows', z.object({ generated_at: z.number(), history_seconds: z.number(), workers: z.array(JsonObject) })),
  },
});

const servicesRoute = defineRoute('viewer', {
  method: 'get',
  path: '/api/server/services',
  tags: ['server'],
  summary: 'Compose service snapshots',
  request: { query: querySchema({}) },
  responses: { 200: jsonResponse('snapshot rows', z.object({ generated_at: z.number(), services: z.array(JsonObject) })) },
});

export function registerServerRoutes(app: ApiApp): void {
  app.openapi(workersRoute, async (c) => {
    const { history_seconds: historySeconds } = c.req.valid('query');
    const now = c.get('clock')();
    const workers = await listRecentWorkers(c.get('store'), { endedSince: now - historySeconds * 1000 });
    return c.json(apiJson({ generated_at: now, history_seconds: historySeconds, workers }), 200);
  });
  app.openapi(servicesRoute, async (c) => {
    const services = await listServiceSnapshots(c.get('store'));
    return c.json(apiJson({ generated_at: c.get('clock')(), services }), 200);
  });
}

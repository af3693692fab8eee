/**
 * Compose services (admin): GET /api/services — the snapshots and the allow-list this server
 * knows; POST /api/services/{name}/actions { action } — enqueue restart|stop|start for
 * `<project>/<service>` (URL-encode the slash: `myproj%2Fapi`), the same function as
 * `jobyard services` (src/services/enqueue.ts), audited. Only services on SERVICE_ACTION_ALLOW
 * are acted on: refused here when the server knows the list, and by the consumer in any case.
 */
import { z } from '@hono/zod-openapi';
import { enqueueServiceActionAsOperator } from '../../services/enqueue.js';
import { SERVICE_ACTIONS } from '../../services/service-key.js';
import { listServiceSnapshots } from '../../services/snapshots.js';
import { actorOf, type ApiApp } from '../context.js';
import { oneOf, querySchema } from '../params.js';
import { apiJson, BODY_ERRORS, defineRoute, jsonResponse, JsonObject } from '../route.js';

const listRoute = defineRoute('admin', {
  method: 'get',
  path: '/api/services',
  tags: ['services'],
  summary: 'Compose services: snapshots and the action allow-list',
  request: { query: querySchema({}) },
  responses: {
    200: jsonResponse(
      'services',
      z.object({ generated_at: z.number(), allow: z.array(z.string()).nullable().openapi({ description: 'SERVICE_ACTION_ALLOW, or null when this server does not know it' }), services: z.array(JsonObject) }),
    ),
  },
});

const actionRoute = defineRoute('admin', {
  method: 'post',
  path: '/api/services/{name}/actions',
  tags: ['services'],
  summary: 'Restart, stop or start a compose service (run by the scheduler)',
  request: {
    params: z.object({ name: z.string().max(300).openapi({ description: '<project>/<service>, the slash URL-encoded (%2F)' }) }),
    body: { required: true, content: { 'application/json': { schema: z.strictObject({ action: z.enum(SERVICE_ACTIONS, oneOf(SERVICE_ACTIONS)) }) } } },
  },
  responses: { 202: jsonResponse('queued', z.object({ work_item_id: z.number(), item: JsonObject })), ...BODY_ERRORS },
});

export function registerServiceRoutes(app: ApiApp): void {
  app.openapi(listRoute, async (c) => {
    const allow = c.get('serviceAllow');
    const services = await listServiceSnapshots(c.get('store'));
    return c.json(apiJson({ generated_at: c.get('clock')(), allow: allow ? [...allow] : null, services }), 200);
  });
  app.openapi(actionRoute, async (c) => {
    const { name } = c.req.valid('param');
    const { action } = c.req.valid('json');
    const allow = c.get('serviceAllow');
    const item = await enqueueServiceActionAsOperator(c.get('store'), { action, service: name }, actorOf(c), {
      now: c.get('clock')(),
      ...(allow ? { allow } : {}),
    });
    return c.json(apiJson({ work_item_id: item.id, item }), 202);
  });
}

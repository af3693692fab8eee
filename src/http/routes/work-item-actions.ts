/**
 * Work-item writes (operator): POST /api/work-items (enqueue), POST /api/work-items/{id}/retry,
 * POST /api/work-items/{id}/cancel — the same functions as `jobyard enqueue|items retry|cancel`
 * (src/queue/operator-actions.ts), each audited in the transaction of its change.
 */
import { z } from '@hono/zod-openapi';
import { ConflictError } from '../../errors.js';
import { cancelAsOperator, enqueueAsOperator, retryAsOperator } from '../../queue/operator-actions.js';
import { WORK_KINDS } from '../../queue/kinds.js';
import { actorOf, type ApiApp } from '../context.js';
import { idParam, MAX_BIGINT_ID, MAX_INT_ID, oneOf } from '../params.js';
import { apiJson, BODY_ERRORS, CONFLICT, defineRoute, jsonResponse, JsonObject, NOT_FOUND } from '../route.js';

const INT32 = { min: -2_147_483_648, max: 2_147_483_647 };

export const EnqueueBody = z
  .strictObject({
    kind: z.enum(WORK_KINDS, oneOf(WORK_KINDS)),
    site_id: z.number().int().min(0).max(MAX_INT_ID).nullable().openapi({ description: 'the site whose workers run it; null only for service_action' }),
    payload: z.record(z.string(), z.unknown()).openapi({ description: 'a JSON object without secret-named keys (at most 1 MiB as JSON)' }),
    dedupe_key: z.string().min(1).max(500).optional().openapi({ description: 'an item already holding this key makes this a 409; nothing created' }),
    priority: z.number().int().min(INT32.min).max(INT32.max).optional().openapi({ description: "higher runs first (default: the kind's)" }),
    lane: z.string().min(1).max(100).optional().openapi({ description: 'worker lane (default "default")' }),
    available_at: z.number().int().min(0).optional().openapi({ description: 'epoch ms; not claimable before (default now)' }),
  })
  .openapi('EnqueueRequest');

const itemId = z.object({ id: idParam(MAX_BIGINT_ID, 'work item id') });

const enqueueRoute = defineRoute('operator', {
  method: 'post',
  path: '/api/work-items',
  tags: ['work items'],
  summary: 'Enqueue one work item',
  request: { body: { required: true, content: { 'application/json': { schema: EnqueueBody } } } },
  responses: {
    201: jsonResponse('created', z.object({ id: z.number(), created: z.literal(true), item: JsonObject })),
    ...CONFLICT,
    ...BODY_ERRORS,
  },
});

const retryRoute = defineRoute('operator', {
  method: 'post',
  path: '/api/work-items/{id}/retry',
  tags: ['work items'],
  summary: 'Make an item claimable now (a finished one gets one more attempt; a running one is refused)',
  request: { params: itemId },
  responses: { 200: jsonResponse('the updated item', JsonObject), ...NOT_FOUND, ...CONFLICT },
});

const cancelRoute = defineRoute('operator', {
  method: 'post',
  path: '/api/work-items/{id}/cancel',
  tags: ['work items'],
  summary: "Cancel a queued or running item (a running item's worker aborts it)",
  request: { params: itemId },
  responses: { 200: jsonResponse('the updated item', JsonObject), ...NOT_FOUND, ...CONFLICT },
});

export function registerWorkItemActionRoutes(app: ApiApp): void {
  app.openapi(enqueueRoute, async (c) => {
    const body = c.req.valid('json');
    const { item, created } = await enqueueAsOperator(
      c.get('store'),
      {
        kind: body.kind,
        siteId: body.site_id,
        payload: body.payload,
        ...(body.dedupe_key !== undefined ? { dedupeKey: body.dedupe_key } : {}),
        ...(body.priority !== undefined ? { priority: body.priority } : {}),
        ...(body.lane !== undefined ? { lane: body.lane } : {}),
        ...(body.available_at !== undefined ? { availableAt: body.available_at } : {}),
      },
      actorOf(c),
      { now: c.get('clock')() },
    );
    if (!created) {
      throw new ConflictError(`dedupe_key: ${JSON.stringify(item.dedupe_key)} is already held by work item ${item.id} (${item.status} ${item.kind}); nothing created`);
    }
    return c.json(apiJson({ id: item.id, created: true, item }), 201);
  });
  app.openapi(retryRoute, async (c) => {
    const item = await retryAsOperator(c.get('store'), c.req.valid('param').id, actorOf(c), { now: c.get('clock')() });
    return c.json(apiJson(item), 200);
  });
  app.openapi(cancelRoute, async (c) => {
    const item = await cancelAsOperator(c.get('store'), c.req.valid('param').id, actorOf(c), { now: c.get('clock')() });
    return c.json(apiJson(item), 200);
  });
}

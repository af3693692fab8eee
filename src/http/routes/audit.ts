/** GET /api/audit (admin): the audit log, newest first, filtered, one page at a time. */
import { z } from '@hono/zod-openapi';
import { listAudit } from '../../audit/audit-log.js';
import type { ApiApp } from '../context.js';
import { pageQuery, querySchema, stringQuery } from '../params.js';
import { apiJson, defineRoute, jsonResponse } from '../route.js';

/** Epoch ms or an ISO-8601 time with Z or an offset. */
export function parseSince(value: string): number | undefined {
  if (/^\d+$/.test(value)) return Number.isSafeInteger(Number(value)) ? Number(value) : undefined;
  if (!/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

const sinceQuery = stringQuery('only rows at or after this time: epoch ms or ISO-8601 (with Z or an offset)', { maxLength: 40 })
  .transform((v, ctx) => {
    if (v === undefined) return undefined;
    const ms = parseSince(v);
    if (ms === undefined) ctx.addIssue({ code: 'custom', message: `"${v}" is not accepted; expected epoch ms or an ISO-8601 time such as 2026-12-01T00:00:00Z` });
    return ms;
  })
  .openapi({ type: 'string' });

const AuditRow = z
  .object({
    id: z.number(),
    at: z.number(),
    actor: z.string(),
    action: z.string(),
    object_type: z.string(),
    object_id: z.string().nullable(),
    summary: z.record(z.string(), z.unknown()),
  })
  .openapi('AuditRow');

const listRoute = defineRoute('admin', {
  method: 'get',
  path: '/api/audit',
  tags: ['audit'],
  summary: 'Audit log: who changed what, newest first',
  request: {
    query: querySchema({
      actor: stringQuery('e.g. token:ci or cli:alice', { maxLength: 200 }),
      action: stringQuery('e.g. work_item.cancel', { maxLength: 200 }),
      type: stringQuery('object type, e.g. job', { maxLength: 200 }),
      id: stringQuery('object id', { maxLength: 200 }),
      since: sinceQuery,
      ...pageQuery,
    }),
  },
  responses: { 200: jsonResponse('a page of audit rows', z.object({ items: z.array(AuditRow), next_cursor: z.string().nullable() })) },
});

export function registerAuditRoutes(app: ApiApp): void {
  app.openapi(listRoute, async (c) => {
    const q = c.req.valid('query');
    const page = await listAudit(c.get('store').db, {
      limit: q.limit,
      ...(q.cursor !== undefined ? { cursor: q.cursor } : {}),
      ...(q.actor !== undefined ? { actor: q.actor } : {}),
      ...(q.action !== undefined ? { action: q.action } : {}),
      ...(q.type !== undefined ? { objectType: q.type } : {}),
      ...(q.id !== undefined ? { objectId: q.id } : {}),
      ...(q.since !== undefined ? { since: q.since } : {}),
    });
    return c.json(apiJson(page), 200);
  });
}

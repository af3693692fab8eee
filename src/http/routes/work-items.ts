/** GET /api/work-items?status=&kind=&site_id=&limit=&cursor= — newest first, one page at a time. */
import { z } from '@hono/zod-openapi';
import { listWorkItems } from '../../queue/admin.js';
import { WORK_KINDS, WORK_STATUSES } from '../../queue/kinds.js';
import { decodeCursor, isIdKey, toPage } from '../../pagination.js';
import type { ApiApp } from '../context.js';
import { checkInteger, csvEnumQuery, intQuery, MAX_INT_ID, querySchema, stringQuery } from '../params.js';
import { apiJson, defineRoute, jsonResponse, JsonObject } from '../route.js';

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;

/** A site id (an integer column: 0 to MAX_INT_ID), `none` for site-less items, or undefined when absent. */
const siteIdQuery = z
  .string()
  .optional()
  .transform((raw, ctx): number | null | undefined => {
    if (raw === undefined || raw === '') return undefined;
    if (raw === 'none') return null;
    const n = /^\d+$/.test(raw) ? checkInteger(raw, { min: 0, max: MAX_INT_ID }) : { problem: 'bad' };
    if (typeof n === 'number') return n;
    ctx.addIssue({ code: 'custom', message: `"${raw}" is not accepted; expected a site id (an integer from 0 to ${MAX_INT_ID}) or none` });
    return z.NEVER;
  })
  .openapi({ type: 'string', description: 'a site id, or "none" for site-less items' });

export const listWorkItemsRoute = defineRoute('viewer', {
  method: 'get',
  path: '/api/work-items',
  tags: ['work items'],
  summary: 'Work items, newest first',
  request: {
    query: querySchema({
      status: csvEnumQuery(WORK_STATUSES, 'only items in these statuses'),
      kind: csvEnumQuery(WORK_KINDS, 'only items of these kinds'),
      site_id: siteIdQuery,
      limit: intQuery({ min: 1, max: MAX_LIMIT, default: DEFAULT_LIMIT }, 'page size'),
      cursor: stringQuery('the next_cursor of the previous page', { maxLength: 500 }),
    }),
  },
  responses: {
    200: jsonResponse('a page of items', z.object({ limit: z.number(), items: z.array(JsonObject), next_cursor: z.string().nullable() })),
  },
});

export function registerWorkItemReadRoutes(app: ApiApp): void {
  app.openapi(listWorkItemsRoute, async (c) => {
    const q = c.req.valid('query');
    const beforeId = q.cursor === undefined ? undefined : decodeCursor(q.cursor, isIdKey);
    const rows = await listWorkItems(c.get('store'), { statuses: q.status, kinds: q.kind, siteId: q.site_id, limit: q.limit + 1, beforeId });
    const page = toPage(rows, q.limit, (r) => r.id);
    return c.json(apiJson({ limit: q.limit, items: page.items, next_cursor: page.next_cursor }), 200);
  });
}

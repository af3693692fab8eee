/**
 * /api/filters: saved device filters — list, create, show, replace, delete, and test (which
 * devices match now, and why) — over the same functions as `jobyard filters`
 * (src/inventory/filter-admin.ts). The criteria are checked by the criteria language's own
 * parser, so problems name the rule and field. GET: viewer; writes: operator.
 */
import { z } from '@hono/zod-openapi';
import { createFilter, deleteFilter, getFilter, listFilterPage, testFilter, updateFilter } from '../../inventory/filter-admin.js';
import { FILTER_REFERENCES } from '../../operator/references.js';
import { actorOf, type ApiApp } from '../context.js';
import { idParam, MAX_INT_ID, pageQuery, querySchema } from '../params.js';
import { apiJson, BODY_ERRORS, CONFLICT, defineRoute, jsonResponse, JsonObject, NOT_FOUND } from '../route.js';

const tags = ['filters'];
const params = z.object({ id: idParam(MAX_INT_ID, 'filter id') });

/** A filter definition; filter-definition.ts checks it fully (criteria with the criteria parser). */
const Definition = z.strictObject({
  name: z.string(),
  description: z.string().nullable().optional(),
  criteria_mode: z.string().optional().openapi({ description: 'basic (default) or advanced (nested groups)' }),
  site_mode: z.string().optional().openapi({ description: 'all (default) or specific' }),
  sites: z.array(z.number().int()).optional().openapi({ description: 'site ids, with site_mode specific' }),
  criteria: JsonObject.openapi({ description: 'criteria language: { "match": "all" | "any", "rules": [ { "field", "operator", "value" } ] }' }),
  archived: z.boolean().optional(),
});
const body = { required: true, content: { 'application/json': { schema: Definition } } };

const list = defineRoute('viewer', {
  method: 'get',
  path: '/api/filters',
  tags,
  summary: 'Saved device filters by id',
  request: { query: querySchema(pageQuery) },
  responses: { 200: jsonResponse('a page of filters', z.object({ items: z.array(JsonObject), next_cursor: z.string().nullable() })) },
});
const create = defineRoute('operator', {
  method: 'post',
  path: '/api/filters',
  tags,
  summary: 'Create a filter',
  request: { body },
  responses: { 201: jsonResponse('the filter', JsonObject), ...CONFLICT, ...BODY_ERRORS },
});
const show = defineRoute('viewer', {
  method: 'get',
  path: '/api/filters/{id}',
  tags,
  summary: 'One filter (problems lists why a stored filter matches nothing)',
  request: { params },
  responses: { 200: jsonResponse('the filter', JsonObject), ...NOT_FOUND },
});
const replace = defineRoute('operator', {
  method: 'put',
  path: '/api/filters/{id}',
  tags,
  summary: 'Replace a filter\'s definition',
  request: { params, body },
  responses: { 200: jsonResponse('the filter', JsonObject), ...NOT_FOUND, ...CONFLICT, ...BODY_ERRORS },
});
const remove = defineRoute('operator', {
  method: 'delete',
  path: '/api/filters/{id}',
  tags,
  summary: 'Delete a filter; 409 while scheduled jobs use it',
  request: { params },
  responses: { 200: jsonResponse('the deleted filter', JsonObject), ...NOT_FOUND, ...CONFLICT },
});
const test = defineRoute('viewer', {
  method: 'get',
  path: '/api/filters/{id}/test',
  tags,
  summary: 'Which devices the filter matches now and why, and the near misses',
  request: { params },
  responses: { 200: jsonResponse('{ filter, problems, examined, matches, near_misses }', JsonObject), ...NOT_FOUND },
});

export function registerFilterRoutes(app: ApiApp): void {
  app.openapi(list, async (c) => {
    const q = c.req.valid('query');
    return c.json(apiJson(await listFilterPage(c.get('store'), { limit: q.limit, ...(q.cursor !== undefined ? { cursor: q.cursor } : {}) })), 200);
  });
  app.openapi(create, async (c) => c.json(apiJson(await createFilter(c.get('store'), c.req.valid('json'), { actor: actorOf(c), now: c.get('clock')() })), 201));
  app.openapi(show, async (c) => c.json(apiJson(await getFilter(c.get('store'), c.req.valid('param').id)), 200));
  app.openapi(replace, async (c) =>
    c.json(apiJson(await updateFilter(c.get('store'), c.req.valid('param').id, c.req.valid('json'), { actor: actorOf(c), now: c.get('clock')() })), 200),
  );
  app.openapi(remove, async (c) =>
    c.json(apiJson(await deleteFilter(c.get('store'), c.req.valid('param').id, { actor: actorOf(c), references: FILTER_REFERENCES, now: c.get('clock')() })), 200),
  );
  app.openapi(test, async (c) => c.json(apiJson(await testFilter(c.get('store'), c.req.valid('param').id, { now: c.get('clock')(), offlineAfterMs: c.get('offlineAfterMs') })), 200));
}

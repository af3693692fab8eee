/**
 * /api/sites: list, create, show (with everything that uses the site), rename, delete — over the
 * same functions as `jobyard sites` (src/inventory/site-admin.ts). GET: viewer; writes: operator.
 */
import { z } from '@hono/zod-openapi';
import { addSite, changeSiteName, deleteSite, getSiteDetail, listSitePage } from '../../inventory/site-admin.js';
import { SITE_REFERENCES } from '../../operator/references.js';
import { actorOf, type ApiApp } from '../context.js';
import { idParam, MAX_INT_ID, pageQuery, querySchema } from '../params.js';
import { apiJson, BODY_ERRORS, CONFLICT, defineRoute, jsonResponse, JsonObject, NOT_FOUND } from '../route.js';

const tags = ['sites'];
const params = z.object({ id: idParam(MAX_INT_ID, 'site id') });
const Page = z.object({ items: z.array(JsonObject), next_cursor: z.string().nullable() });
const json = <S extends z.ZodType>(schema: S) => ({ required: true, content: { 'application/json': { schema } } });

const list = defineRoute('viewer', {
  method: 'get',
  path: '/api/sites',
  tags,
  summary: 'Sites by id, with their device counts',
  request: { query: querySchema(pageQuery) },
  responses: { 200: jsonResponse('a page of sites', Page) },
});

const create = defineRoute('operator', {
  method: 'post',
  path: '/api/sites',
  tags,
  summary: 'Create a site (names are unique regardless of case)',
  request: { body: json(z.strictObject({ name: z.string(), description: z.string().nullable().optional() })) },
  responses: { 201: jsonResponse('the new site', JsonObject), ...CONFLICT, ...BODY_ERRORS },
});

const show = defineRoute('viewer', {
  method: 'get',
  path: '/api/sites/{id}',
  tags,
  summary: 'One site, its device count and everything that uses it (work items, workers, jobs, filters, credentials)',
  request: { params },
  responses: { 200: jsonResponse('the site', JsonObject), ...NOT_FOUND },
});

const rename = defineRoute('operator', {
  method: 'post',
  path: '/api/sites/{id}/rename',
  tags,
  summary: 'Rename a site',
  request: { params, body: json(z.strictObject({ name: z.string() })) },
  responses: { 200: jsonResponse('the site', JsonObject), ...NOT_FOUND, ...CONFLICT, ...BODY_ERRORS },
});

const remove = defineRoute('operator', {
  method: 'delete',
  path: '/api/sites/{id}',
  tags,
  summary: 'Delete a site; 409 with the counts while work items, live workers, jobs, filters, credentials or (unless unassign_devices) devices use it',
  request: {
    params,
    query: querySchema({
      unassign_devices: z.enum(['true', 'false']).optional().openapi({ description: 'true: delete even when devices are assigned; they become unassigned' }),
    }),
  },
  responses: { 200: jsonResponse('the deleted site and how many devices were unassigned', JsonObject), ...NOT_FOUND, ...CONFLICT },
});

export function registerSiteRoutes(app: ApiApp): void {
  app.openapi(list, async (c) => {
    const q = c.req.valid('query');
    const page = await listSitePage(c.get('store'), { limit: q.limit, ...(q.cursor !== undefined ? { cursor: q.cursor } : {}) });
    return c.json(apiJson(page), 200);
  });
  app.openapi(create, async (c) => {
    const body = c.req.valid('json');
    const site = await addSite(c.get('store'), { name: body.name, description: body.description ?? null }, { actor: actorOf(c), now: c.get('clock')() });
    return c.json(apiJson(site), 201);
  });
  app.openapi(show, async (c) => c.json(apiJson(await getSiteDetail(c.get('store'), c.req.valid('param').id, SITE_REFERENCES)), 200));
  app.openapi(rename, async (c) => {
    const site = await changeSiteName(c.get('store'), c.req.valid('param').id, c.req.valid('json').name, { actor: actorOf(c), now: c.get('clock')() });
    return c.json(apiJson(site), 200);
  });
  app.openapi(remove, async (c) => {
    const result = await deleteSite(c.get('store'), c.req.valid('param').id, {
      actor: actorOf(c),
      references: SITE_REFERENCES,
      unassignDevices: c.req.valid('query').unassign_devices === 'true',
      now: c.get('clock')(),
    });
    return c.json(apiJson(result), 200);
  });
}

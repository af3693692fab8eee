/**
 * The job lifecycle over HTTP, thin over src/schedule (job-lifecycle.ts, job-detail.ts,
 * job-export.ts, run-detail.ts): the same validation, messages and audit rows as the CLI.
 *
 * GET    /api/jobs                 jobs in id order, paginated               viewer
 * GET    /api/jobs/{id}            definition, schedule in words, next/last occurrence, recent runs
 * GET    /api/jobs/{id}/export     the definition POST /api/jobs accepts back unchanged
 * GET    /api/jobs/{id}/runs       the job's runs, newest first, paginated
 * POST   /api/jobs                 create from a definition (201)           operator
 * PUT    /api/jobs/{id}            replace the definition (next run recomputed)
 * DELETE /api/jobs/{id}?force=true delete with its history (409 while an occurrence is unfinished, unless force)
 *
 * Bodies are job definitions (README, "A job definition"); they are checked by the domain's
 * validator, so a 400 lists every problem as the CLI prints them (`problems`), and unknown
 * sites, filters and credentials are 400 naming them; unknown hostnames come back as `warnings`.
 */
import { z } from '@hono/zod-openapi';
import { readJobDetail, listJobsPage } from '../../schedule/job-detail.js';
import { exportJob } from '../../schedule/job-export.js';
import { createJob, deleteJob, getJobOrThrow, updateJob } from '../../schedule/job-lifecycle.js';
import { listRunsPage } from '../../schedule/run-detail.js';
import { actorOf, type ApiApp } from '../context.js';
import { idParam, intQuery, MAX_INT_ID, pageQuery, querySchema } from '../params.js';
import { apiJson, BODY_ERRORS, CONFLICT, defineRoute, jsonResponse, JsonObject, NOT_FOUND } from '../route.js';

const jobId = z.object({ id: idParam(MAX_INT_ID, 'job id') });
const Page = z.object({ items: z.array(JsonObject), next_cursor: z.string().nullable() });
const definitionBody = {
  required: true,
  description: 'a job definition, as `jobyard jobs create --file` reads it (README, "A job definition"); GET /api/jobs/{id}/export gives one',
  content: { 'application/json': { schema: JsonObject } },
};
const Written = z.object({ job: JsonObject, warnings: z.array(z.string()) });

const listRoute = defineRoute('viewer', {
  method: 'get',
  path: '/api/jobs',
  tags: ['jobs'],
  summary: 'Jobs in id order, one page at a time',
  request: { query: querySchema({ ...pageQuery }) },
  responses: { 200: jsonResponse('a page of jobs', Page) },
});

const showRoute = defineRoute('viewer', {
  method: 'get',
  path: '/api/jobs/{id}',
  tags: ['jobs'],
  summary: 'A job: definition, schedule in words, next and last occurrence, recent runs with target counts',
  request: { params: jobId, query: querySchema({ recent_runs: intQuery({ min: 1, max: 100, default: 10 }, 'recent runs returned') }) },
  responses: { 200: jsonResponse('the job', JsonObject), ...NOT_FOUND },
});

const exportRoute = defineRoute('viewer', {
  method: 'get',
  path: '/api/jobs/{id}/export',
  tags: ['jobs'],
  summary: 'The job as a definition that POST /api/jobs (and jobs create --file) accepts back unchanged',
  request: { params: jobId, query: querySchema({}) },
  responses: { 200: jsonResponse('the job definition', JsonObject), ...NOT_FOUND },
});

const runsRoute = defineRoute('viewer', {
  method: 'get',
  path: '/api/jobs/{id}/runs',
  tags: ['jobs', 'runs'],
  summary: "A job's runs, newest occurrence first, one page at a time",
  request: { params: jobId, query: querySchema({ ...pageQuery }) },
  responses: { 200: jsonResponse('a page of runs', Page), ...NOT_FOUND },
});

const createRoute = defineRoute('operator', {
  method: 'post',
  path: '/api/jobs',
  tags: ['jobs'],
  summary: 'Create a job from a definition (unknown hostnames are warnings)',
  request: { body: definitionBody },
  responses: { 201: jsonResponse('the new job and any warnings', Written), ...BODY_ERRORS },
});

const updateRoute = defineRoute('operator', {
  method: 'put',
  path: '/api/jobs/{id}',
  tags: ['jobs'],
  summary: "Replace a job's definition; the next occurrence is recomputed, written runs are unaffected",
  request: { params: jobId, body: definitionBody },
  responses: {
    200: jsonResponse('the updated job, warnings and the changed fields', Written.extend({ changed: JsonObject })),
    ...NOT_FOUND,
    ...BODY_ERRORS,
  },
});

const deleteRoute = defineRoute('operator', {
  method: 'delete',
  path: '/api/jobs/{id}',
  tags: ['jobs'],
  summary: 'Delete a job with its runs; 409 while an occurrence is pending or running unless force=true (which cancels its work items)',
  request: {
    params: jobId,
    query: querySchema({ force: z.enum(['true', 'false'], { error: 'expected true or false' }).optional().openapi({ description: 'cancel unfinished work and delete anyway' }) }),
  },
  responses: {
    200: jsonResponse('what was deleted', z.object({ job_id: z.number(), runs_deleted: z.number(), items_cancelled: z.number() })),
    ...NOT_FOUND,
    ...CONFLICT,
  },
});

export function registerJobRoutes(app: ApiApp): void {
  app.openapi(listRoute, async (c) => {
    const { limit, cursor } = c.req.valid('query');
    return c.json(apiJson(await listJobsPage(c.get('store'), { limit, ...(cursor !== undefined ? { cursor } : {}) })), 200);
  });
  app.openapi(showRoute, async (c) => {
    const { id } = c.req.valid('param');
    const { recent_runs } = c.req.valid('query');
    return c.json(apiJson(await readJobDetail(c.get('store'), id, { recentRuns: recent_runs })), 200);
  });
  app.openapi(exportRoute, async (c) => {
    const { id } = c.req.valid('param');
    return c.json(apiJson(exportJob(await getJobOrThrow(c.get('store'), id))), 200);
  });
  app.openapi(runsRoute, async (c) => {
    const { id } = c.req.valid('param');
    const { limit, cursor } = c.req.valid('query');
    return c.json(apiJson(await listRunsPage(c.get('store'), { jobId: id, limit, ...(cursor !== undefined ? { cursor } : {}) })), 200);
  });
  app.openapi(createRoute, async (c) => {
    const body = c.req.valid('json');
    const { job, warnings } = await createJob(c.get('store'), body, { actor: actorOf(c), now: c.get('clock')() });
    return c.json(apiJson({ job, warnings }), 201);
  });
  app.openapi(updateRoute, async (c) => {
    const { id } = c.req.valid('param');
    const body = c.req.valid('json');
    const r = await updateJob(c.get('store'), id, body, { actor: actorOf(c), now: c.get('clock')() });
    return c.json(apiJson({ job: r.job, warnings: r.warnings, changed: r.changed }), 200);
  });
  app.openapi(deleteRoute, async (c) => {
    const { id } = c.req.valid('param');
    const { force } = c.req.valid('query');
    const r = await deleteJob(c.get('store'), id, { actor: actorOf(c), now: c.get('clock')(), force: force === 'true' });
    return c.json(apiJson({ job_id: id, runs_deleted: r.runsDeleted, items_cancelled: r.itemsCancelled }), 200);
  });
}

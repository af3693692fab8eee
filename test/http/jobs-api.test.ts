/**
 * The job lifecycle and runs over HTTP (both backends): viewers read, operators write, every write
 * is audited with the token's actor, bad bodies are 400 listing every problem with the CLI's
 * messages and nothing written, unknown ids 404, conflicts 409. The server's clock is API_T0.
 */
import { beforeEach, expect, it } from 'vitest';
import { assignDeviceToSite, upsertDevice } from '../../src/inventory/devices.js';
import { createSite } from '../../src/inventory/sites.js';
import { describeBackends } from '../helpers/backends.js';
import { API_T0, useApiServer } from '../helpers/http.js';
import { jobDefinition } from '../helpers/jobs.js';

describeBackends('jobs and runs API', (ctx) => {
  const api = useApiServer(ctx);
  let site = 0;
  const def = (overrides: Record<string, unknown> = {}) => jobDefinition({ start_ts: '2099-12-01T02:30:00Z', targets: { sites: [site] }, ...overrides });
  const jobCount = async () => (await ctx.db.selectFrom('scheduled_jobs').select('id').execute()).length;
  const audit = async () =>
    (await ctx.db.selectFrom('audit_log').select(['action', 'actor']).where('object_type', 'in', ['job', 'run']).orderBy('id').execute()).map((a) => `${a.action} ${a.actor}`);

  beforeEach(async () => {
    await ctx.truncateAll();
    await api.resetTokens();
    site = (await createSite(ctx.store, { name: 'berlin' })).id;
    await upsertDevice(ctx.store, { guid: 'g-1', hostname: 'ws-1', status: 'online', last_seen: API_T0 });
    await assignDeviceToSite(ctx.store, 'ws-1', site);
  });

  const createJob = async (d = def()) => {
    const r = await api.request('/api/jobs', { role: 'operator', json: d });
    expect(r.status).toBe(201);
    return r.json.job.id as number;
  };

  it('creates, shows, lists, exports (round trip), updates and deletes a job; writes need an operator', async () => {
    const created = await api.request('/api/jobs', { role: 'operator', json: def({ targets: { sites: [site], hostnames: ['later-1'] } }) });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ job: { name: 'nightly cleanup', next_run_at: Date.UTC(2099, 11, 1, 2, 30) }, warnings: [expect.stringMatching(/^targets.hostnames: no device named "later-1"/)] });
    const id = created.json.job.id as number;

    const shown = await api.request(`/api/jobs/${id}`, { role: 'viewer' });
    expect(shown.status).toBe(200);
    expect(shown.json).toMatchObject({ id, schedule: 'daily at 03:30 (Europe/Berlin)', next_run_at: Date.UTC(2099, 11, 1, 2, 30), recent_runs: [] });

    const exported = await api.request(`/api/jobs/${id}/export`, { role: 'viewer' });
    expect(exported.status).toBe(200);
    const copy = await api.request('/api/jobs', { role: 'operator', json: exported.json });
    expect(copy.status).toBe(201);
    expect((await api.request(`/api/jobs/${copy.json.job.id}/export`, { role: 'viewer' })).json).toEqual(exported.json);

    const list = await api.request('/api/jobs?limit=1', { role: 'viewer' });
    expect(list.json).toMatchObject({ items: [{ id }], next_cursor: expect.any(String) });
    const next = await api.request(`/api/jobs?limit=1&cursor=${list.json.next_cursor}`, { role: 'viewer' });
    expect(next.json).toMatchObject({ items: [{ id: copy.json.job.id }], next_cursor: null });

    const updated = await api.request(`/api/jobs/${id}`, { role: 'operator', method: 'PUT', json: def({ name: 'renamed', schedule_type: 'weekly', start_ts: '2099-12-10T05:00:00Z' }) });
    expect(updated.status).toBe(200);
    expect(updated.json).toMatchObject({ job: { name: 'renamed', next_run_at: Date.UTC(2099, 11, 10, 5, 0) }, changed: { name: { before: 'nightly cleanup', after: 'renamed' } } });

    expect((await api.request(`/api/jobs/${id}`, { role: 'viewer', method: 'DELETE' })).status).toBe(403);
    expect((await api.request('/api/jobs', { role: 'viewer', json: def() })).status).toBe(403);
    expect((await api.request(`/api/jobs/${id}`, { role: null })).status).toBe(401);
    const deleted = await api.request(`/api/jobs/${id}`, { role: 'operator', method: 'DELETE' });
    expect(deleted).toMatchObject({ status: 200, json: { job_id: id, runs_deleted: 0, items_cancelled: 0 } });
    expect((await api.request(`/api/jobs/${id}`, { role: 'viewer' })).status).toBe(404);
    expect(await audit()).toEqual(['job.create token:test-operator', 'job.create token:test-operator', 'job.update token:test-operator', 'job.delete token:test-operator']);
  });

  it('a bad definition is 400 listing every problem as the CLI words them, and nothing is written', async () => {
    const r = await api.request('/api/jobs', { role: 'operator', json: def({ schedule_type: 'sometimes', components: [], targets: { sites: [site] } }) });
    expect(r.status).toBe(400);
    expect(r.json.problems).toEqual([
      expect.stringMatching(/^schedule_type: unknown value "sometimes"; expected one of immediately, once, /),
      'components: must not be empty',
    ]);
    const refs = await api.request('/api/jobs', { role: 'operator', json: def({ targets: { sites: [424242], filters: [4343] }, credential_id: 4444 }) });
    expect(refs).toMatchObject({ status: 400, json: { problems: ['targets.sites: no site with id 424242', 'targets.filters: no device filter with id 4343', 'credential_id: no credential with id 4444'] } });
    expect((await api.request('/api/jobs', { role: 'operator', json: [1, 2] })).status).toBe(400);
    expect(await jobCount()).toBe(0);

    const id = await createJob();
    const put = await api.request(`/api/jobs/${id}`, { role: 'operator', method: 'PUT', json: def({ unknown_field: 1 }) });
    expect(put.status).toBe(400);
    expect(put.json.problems).toEqual([expect.stringMatching(/^unknown_field: unknown field; expected one of name, /)]);
    expect((await api.request('/api/jobs/999999', { role: 'operator', method: 'PUT', json: def() })).status).toBe(404);
    expect((await api.request('/api/jobs/abc', { role: 'viewer' })).status).toBe(400);
    expect((await api.request('/api/jobs?cursor=bogus', { role: 'viewer' })).status).toBe(400);
    expect(await audit()).toEqual(['job.create token:test-operator']);
  });

  it('delete is 409 while an occurrence is unfinished; force=true cancels its items and deletes', async () => {
    const id = await createJob();
    const run = await ctx.db.insertInto('scheduled_job_runs').values({ job_id: id, scheduled_ts: API_T0, status: 'Running', created_at: API_T0, updated_at: API_T0 }).returning('id').executeTakeFirstOrThrow();
    const refused = await api.request(`/api/jobs/${id}`, { role: 'operator', method: 'DELETE' });
    expect(refused.status).toBe(409);
    expect(refused.json.error).toContain(`job ${id} has 1 unfinished occurrence (run ${run.id})`);
    expect((await api.request(`/api/jobs/${id}?force=maybe`, { role: 'operator', method: 'DELETE' })).status).toBe(400);
    expect(await jobCount()).toBe(1);
    const forced = await api.request(`/api/jobs/${id}?force=true`, { role: 'operator', method: 'DELETE' });
    expect(forced).toMatchObject({ status: 200, json: { job_id: id, runs_deleted: 1 } });
    expect(await jobCount()).toBe(0);
  });

  it('shows a run with per-target rows and reruns it once while the rerun is pending', async () => {
    const id = await createJob();
    const runNow = (await import('../../src/schedule/ticker.js')).runJobNow;
    const job = await ctx.db.selectFrom('scheduled_jobs').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    const runId = await runNow(ctx.store, job, { now: API_T0 - 1000 });

    const shown = await api.request(`/api/runs/${runId}`, { role: 'viewer' });
    expect(shown.status).toBe(200);
    expect(shown.json).toMatchObject({ run: { id: runId, status: 'Pending' }, target_rows: [{ hostname: 'ws-1', outcome: 'Pending', resolution_status: 'resolved' }], onboarding: null });
    expect(shown.json.work_items).toHaveLength(1);

    expect((await api.request(`/api/runs/${runId}/rerun`, { role: 'viewer', method: 'POST' })).status).toBe(403);
    const first = await api.request(`/api/runs/${runId}/rerun`, { role: 'operator', method: 'POST' });
    expect(first).toMatchObject({ status: 201, json: { created: true, source_run_id: runId, job_id: id } });
    const second = await api.request(`/api/runs/${runId}/rerun`, { role: 'operator', method: 'POST' });
    expect(second).toMatchObject({ status: 200, json: { created: false, run_id: first.json.run_id } });
    expect((await api.request('/api/runs/987654/rerun', { role: 'operator', method: 'POST' })).status).toBe(404);

    const runs = await api.request(`/api/jobs/${id}/runs?limit=1`, { role: 'viewer' });
    expect(runs.json).toMatchObject({ items: [{ id: first.json.run_id, rerun_of_run_id: runId }], next_cursor: expect.any(String) });
    expect(await audit()).toEqual(['job.create token:test-operator', 'run.rerun token:test-operator']);
  });
});

/**
 * The operator writes over HTTP, on both backends: each answers with the one JSON shape, refuses
 * bad input with 400 naming the field (nothing written), answers 404/409 where the object is
 * missing or in the way, and records exactly one audit row with the token's actor in the same
 * transaction as the change. Also: body limit, non-JSON bodies, token management, the audit list.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { describeBackends } from '../helpers/backends.js';
import { API_T0, useApiServer, type ApiReply } from '../helpers/http.js';
import { insertJob } from '../helpers/jobs.js';

describeBackends('HTTP operator writes', (ctx) => {
  const api = useApiServer(ctx, { bodyLimitBytes: 64 * 1024, serviceAllow: new Set(['proj/api']) });
  let siteId: number;

  beforeEach(async () => {
    await ctx.truncateAll();
    await api.resetTokens();
    siteId = (await ctx.db.insertInto('sites').values({ name: 'HQ', name_lower: 'hq', created_at: API_T0 }).returning('id').executeTakeFirstOrThrow()).id;
  });

  const items = () => ctx.db.selectFrom('job_scheduler_work_items').selectAll().orderBy('id').execute();
  const audit = () => ctx.db.selectFrom('audit_log').selectAll().orderBy('id').execute();
  const expectBadRequest = (r: ApiReply, problems: RegExp[]) => {
    expect(r.status).toBe(400);
    expect(r.json.problems).toEqual(problems.map((p) => expect.stringMatching(p)));
    expect(r.json.error).toBe(r.json.problems.join('; '));
  };

  describe('POST /api/work-items', () => {
    it('enqueues an item, audited with the token as actor', async () => {
      const r = await api.request('/api/work-items', { role: 'operator', json: { kind: 'scheduled_run', site_id: siteId, payload: { n: 1 }, priority: 7, lane: 'fast' } });
      expect(r.status).toBe(201);
      expect(r.json).toMatchObject({ id: expect.any(Number), created: true, item: { kind: 'scheduled_run', site_id: siteId, priority: 7, lane: 'fast', payload_json: { n: 1 }, status: 'queued' } });
      expect(await items()).toHaveLength(1);
      expect(await audit()).toEqual([
        expect.objectContaining({ actor: 'token:test-operator', action: 'work_item.enqueue', object_type: 'work_item', object_id: String(r.json.id), at: API_T0 }),
      ]);
    });

    it('refuses bad input with 400 listing every field, and writes nothing', async () => {
      expectBadRequest(await api.request('/api/work-items', { json: { kind: 'bogus', site_id: 'x', payload: [], extra: 1 } }), [
        /^kind: must be one of service_action, /,
        /^site_id: /,
        /^payload: /,
        /extra/,
      ]);
      expectBadRequest(await api.request('/api/work-items', { json: {} }), [/^kind: is required$/, /^site_id: is required$/, /^payload: is required$/]);
      expectBadRequest(await api.request('/api/work-items', { json: { kind: 'scheduled_run', site_id: null, payload: { password: 'p' } } }), [
        /^site_id: scheduled_run items run on a site's worker/,
        /^payload: secrets never enter payload_json; remove password/,
      ]);
      expectBadRequest(await api.request('/api/work-items', { json: { kind: 'scheduled_run', site_id: 999999, payload: {} } }), [/^site_id: no site with id 999999$/]);
      expectBadRequest(await api.request('/api/work-items', { json: { kind: 'service_action', site_id: null, payload: { action: 'explode', service: 'p/s' } } }), [
        /^payload: action: "explode" is not a service action/,
      ]);
      expectBadRequest(await api.request('/api/work-items', { json: { kind: 'scheduled_run', site_id: siteId, payload: {}, priority: 2 ** 31 } }), [/^priority: /]);
      expect(await items()).toEqual([]);
      expect(await audit()).toEqual([]);
    });

    it('answers 409 when the dedupe key is held, creating nothing', async () => {
      const body = { kind: 'scheduled_run', site_id: siteId, payload: {}, dedupe_key: 'k-1' };
      const first = await api.request('/api/work-items', { json: body });
      expect(first.status).toBe(201);
      const second = await api.request('/api/work-items', { json: body });
      expect(second.status).toBe(409);
      expect(second.json.error).toBe(`dedupe_key: "k-1" is already held by work item ${first.json.id} (queued scheduled_run); nothing created`);
      expect(await items()).toHaveLength(1);
      expect(await audit()).toHaveLength(1);
    });

    it('refuses a body over the limit (413), a non-JSON body (415) and broken JSON (400)', async () => {
      const big = await api.request('/api/work-items', { json: { kind: 'scheduled_run', site_id: siteId, payload: { s: 'x'.repeat(70 * 1024) } } });
      expect(big.status).toBe(413);
      expect(big.json.error).toMatch(/larger than the limit of 65536 bytes/);
      const text = await api.request('/api/work-items', { method: 'POST', body: 'kind=x', headers: { 'content-type': 'text/plain' } });
      expect(text.status).toBe(415);
      expect(text.json).toEqual({ error: 'request body must be JSON: send Content-Type: application/json' });
      const broken = await api.request('/api/work-items', { method: 'POST', body: '{"kind":', headers: { 'content-type': 'application/json' } });
      expect(broken.status).toBe(400);
      expect(broken.json).toEqual({ error: 'request body is not valid JSON' });
      expect(await items()).toEqual([]);
    });
  });

  describe('POST /api/work-items/{id}/retry|cancel', () => {
    it('cancels and retries, audited; 409 when the state forbids it; 404 for an unknown item', async () => {
      const id = (await api.request('/api/work-items', { json: { kind: 'scheduled_run', site_id: siteId, payload: {} } })).json.id;
      const cancelled = await api.request(`/api/work-items/${id}/cancel`, { role: 'operator', method: 'POST' });
      expect(cancelled.status).toBe(200);
      expect(cancelled.json).toMatchObject({ id, status: 'cancelled' });
      const again = await api.request(`/api/work-items/${id}/cancel`, { method: 'POST' });
      expect(again.status).toBe(409);
      expect(again.json.error).toBe(`work item ${id} is already cancelled; only queued or running items can be cancelled`);
      const retried = await api.request(`/api/work-items/${id}/retry`, { role: 'operator', method: 'POST' });
      expect(retried.status).toBe(200);
      expect(retried.json).toMatchObject({ id, status: 'queued' });
      await ctx.db.updateTable('job_scheduler_work_items').set({ status: 'running' }).where('id', '=', id).execute();
      expect((await api.request(`/api/work-items/${id}/retry`, { method: 'POST' })).status).toBe(409);
      const missing = await api.request('/api/work-items/999999/retry', { method: 'POST' });
      expect(missing.status).toBe(404);
      expect(missing.json).toEqual({ error: 'no work item with id 999999' });
      expectBadRequest(await api.request('/api/work-items/abc/cancel', { method: 'POST' }), [/^id: "abc" is not accepted/]);
      expect((await audit()).map((a) => [a.action, a.actor])).toEqual([
        ['work_item.enqueue', 'token:test-admin'],
        ['work_item.cancel', 'token:test-operator'],
        ['work_item.retry', 'token:test-operator'],
      ]);
    });
  });

  describe('job actions', () => {
    it('runs a job now, disables and enables it, each audited; 404 for an unknown job', async () => {
      const job = await insertJob(ctx.db, { at: API_T0, name: 'nightly', next_run_at: API_T0 + 3_600_000 });
      const run = await api.request(`/api/jobs/${job.id}/run-now`, { role: 'operator', method: 'POST' });
      expect(run.status).toBe(201);
      const runRow = await ctx.db.selectFrom('scheduled_job_runs').selectAll().where('id', '=', run.json.run_id).executeTakeFirstOrThrow();
      expect(runRow.job_id).toBe(job.id);
      const disabled = await api.request(`/api/jobs/${job.id}/disable`, { role: 'operator', method: 'POST' });
      expect(disabled.json.job).toMatchObject({ id: job.id, enabled: false, next_run_at: null });
      const enabled = await api.request(`/api/jobs/${job.id}/enable`, { role: 'operator', method: 'POST' });
      expect(enabled.json.job).toMatchObject({ id: job.id, enabled: true });
      expect((await audit()).map((a) => [a.action, a.object_id, a.summary_json])).toEqual([
        ['job.run_now', String(job.id), { name: 'nightly', run_id: run.json.run_id }],
        ['job.disable', String(job.id), { name: 'nightly', next_run_at: null }],
        ['job.enable', String(job.id), { name: 'nightly', next_run_at: expect.any(Number) }],
      ]);
      for (const verb of ['run-now', 'enable', 'disable']) {
        const r = await api.request(`/api/jobs/424242/${verb}`, { method: 'POST' });
        expect({ verb, status: r.status, error: r.json.error }).toEqual({ verb, status: 404, error: 'no job with id 424242' });
      }
      expect(await audit()).toHaveLength(3);
    });
  });

  describe('services', () => {
    it('lists snapshots with the allow-list and queues an allowed action, audited; refuses others', async () => {
      const list = await api.request('/api/services');
      expect(list.json).toEqual({ generated_at: API_T0, allow: ['proj/api'], services: [] });
      const queued = await api.request('/api/services/proj%2Fapi/actions', { json: { action: 'restart' } });
      expect(queued.status).toBe(202);
      expect(queued.json.item).toMatchObject({ kind: 'service_action', site_id: null, payload_json: { action: 'restart', service: 'proj/api' } });
      expect(await audit()).toEqual([expect.objectContaining({ actor: 'token:test-admin', action: 'service.restart', object_type: 'service', object_id: 'proj/api' })]);
      expectBadRequest(await api.request('/api/services/proj%2Fweb/actions', { json: { action: 'stop' } }), [/^service: service proj\/web is not on the allow-list/]);
      expectBadRequest(await api.request('/api/services/proj%2Fapi/actions', { json: { action: 'explode' } }), [/^action: must be one of restart, stop, start$/]);
      expectBadRequest(await api.request('/api/services/nope/actions', { json: { action: 'stop' } }), [/^service: "nope" is not a compose service/]);
      expect(await items()).toHaveLength(1);
    });
  });

  describe('tokens', () => {
    it('creates a token shown once, lists without values (paginated), revokes; each audited', async () => {
      const created = await api.request('/api/tokens', { json: { name: 'ci', role: 'operator' } });
      expect(created.status).toBe(201);
      expect(created.json.token).toMatch(/^jy_[A-Za-z0-9_-]{43}$/);
      expect(created.json.info).toMatchObject({ name: 'ci', role: 'operator', created_by: 'token:test-admin', revoked_at: null });
      expect((await api.request('/api/work-items', { token: created.json.token, method: 'POST', json: {} })).status).toBe(400); // an operator: reaches validation

      const first = await api.request('/api/tokens?limit=2');
      expect(first.json.items.map((t: { name: string }) => t.name)).toEqual(['ci', 'test-admin']);
      expect(first.text).not.toContain(created.json.token);
      expect(first.text).not.toContain('token_hash');
      const second = await api.request(`/api/tokens?limit=2&cursor=${first.json.next_cursor}`);
      expect(second.json).toEqual({ items: [expect.objectContaining({ name: 'test-operator' }), expect.objectContaining({ name: 'test-viewer' })], next_cursor: null });

      expect((await api.request('/api/tokens', { json: { name: 'ci', role: 'viewer' } })).status).toBe(409);
      expectBadRequest(await api.request('/api/tokens', { json: { name: 'bad name!', role: 'root' } }), [/^role: must be one of viewer, operator, admin$/]);
      expectBadRequest(await api.request('/api/tokens', { json: { name: 'bad name!', role: 'viewer' } }), [/^name: must be 1-64 characters/]);
      expectBadRequest(await api.request('/api/tokens?cursor=nonsense'), [/^cursor: not a cursor this list returned/]);

      const revoked = await api.request('/api/tokens/ci/revoke', { method: 'POST' });
      expect(revoked.json).toMatchObject({ name: 'ci', revoked_at: API_T0 });
      expect((await api.request('/api/tokens/ci/revoke', { method: 'POST' })).status).toBe(409);
      expect((await api.request('/api/tokens/nobody/revoke', { method: 'POST' })).status).toBe(404);
      const rows = await audit();
      expect(rows.map((a) => [a.action, a.object_id])).toEqual([
        ['token.create', 'ci'],
        ['token.revoke', 'ci'],
      ]);
      expect(JSON.stringify(rows)).not.toContain(created.json.token);
    });
  });

  describe('GET /api/audit', () => {
    it('lists newest first with filters and cursor pagination; refuses bad filters', async () => {
      for (let i = 0; i < 3; i++) await api.request('/api/work-items', { role: 'operator', json: { kind: 'scheduled_run', site_id: siteId, payload: { i } } });
      await api.request('/api/tokens', { json: { name: 'x', role: 'viewer' } });
      const all = await api.request('/api/audit');
      expect(all.json.items.map((a: { action: string }) => a.action)).toEqual(['token.create', 'work_item.enqueue', 'work_item.enqueue', 'work_item.enqueue']);
      const page1 = await api.request('/api/audit?action=work_item.enqueue&limit=2');
      expect(page1.json.items).toHaveLength(2);
      const page2 = await api.request(`/api/audit?action=work_item.enqueue&limit=2&cursor=${page1.json.next_cursor}`);
      expect(page2.json).toMatchObject({ items: [expect.objectContaining({ action: 'work_item.enqueue' })], next_cursor: null });
      expect((await api.request('/api/audit?actor=token:test-admin&type=token&id=x')).json.items).toHaveLength(1);
      expect((await api.request(`/api/audit?since=${API_T0 + 1}`)).json.items).toEqual([]);
      expect((await api.request('/api/audit?since=2027-01-01T00:00:00Z')).json.items).toHaveLength(4);
      expectBadRequest(await api.request('/api/audit?since=yesterday'), [/^since: "yesterday" is not accepted/]);
      expectBadRequest(await api.request('/api/audit?limit=0'), [/^limit: 0 is out of range/]);
      expectBadRequest(await api.request('/api/audit?object=1'), [/^unknown query parameter "object"; accepted: actor, action, type, id, since, limit, cursor$/]);
    });
  });
});

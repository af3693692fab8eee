/**
 * The dashboard over HTTP, on both backends: sign-in and sessions, CSRF and origin checks, roles
 * enforced by the server, every page rendering under the strict CSP, the page weight, and the
 * actions (single, conflicting, bulk by filter) with their audit rows.
 */
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { enqueueWorkItem } from '../../src/queue/enqueue.js';
import { describeBackends } from '../helpers/backends.js';
import { UiClient } from './client.js';
import { ADMIN, OPERATOR, seedSiteAndJob, startUiServer, VIEWER, type UiServer } from './harness.js';

const NOW = Date.UTC(2099, 0, 5, 12, 0, 0);

describeBackends('dashboard over HTTP', (ctx) => {
  let server: UiServer;
  beforeAll(async () => {
    server = await startUiServer(ctx.store);
  });
  afterAll(() => server.close());
  beforeEach(() => ctx.truncateAll());

  const countRows = async (table: 'ui_sessions' | 'audit_log') =>
    Number((await ctx.db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

  describe('signing in', () => {
    it('sends a visitor without a session to the sign-in page', async () => {
      const res = await new UiClient(server.url).get('/ui/items');
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe('/ui/signin');
    });

    it('refuses an unknown token, names the field, and writes nothing', async () => {
      const res = await new UiClient(server.url).signIn('not-a-token');
      expect(res.status).toBe(401);
      expect(await res.text()).toContain('token: not a valid API token');
      expect(await countRows('ui_sessions')).toBe(0);
    });

    it('sets an HttpOnly, SameSite=Strict session cookie that is stored only hashed', async () => {
      const client = new UiClient(server.url);
      const res = await client.signIn(OPERATOR);
      expect(res.status).toBe(303);
      const cookie = client.lastSetCookie!;
      expect(cookie).toMatch(/HttpOnly/i);
      expect(cookie).toMatch(/SameSite=Strict/i);
      expect(cookie).not.toMatch(/Secure/i);
      const rows = await ctx.db.selectFrom('ui_sessions').selectAll().execute();
      expect(rows).toHaveLength(1);
      expect(rows[0]!.id_hash).not.toBe(client.cookie!.split('=')[1]);
      expect(rows[0]!.role).toBe('operator');
      expect((await client.get('/ui')).status).toBe(200);
    });

    it('marks the cookie Secure behind a TLS proxy', async () => {
      const client = new UiClient(server.url);
      await client.signIn(OPERATOR, { 'x-forwarded-proto': 'https' });
      expect(client.lastSetCookie).toMatch(/Secure/);
    });

    it('signs out: the session row is gone and the cookie no longer works', async () => {
      const client = new UiClient(server.url);
      await client.signIn(OPERATOR);
      const old = client.cookie;
      const res = await client.post('/ui/signout', { _csrf: await client.csrf() });
      expect(res.status).toBe(303);
      expect(await countRows('ui_sessions')).toBe(0);
      client.cookie = old;
      expect((await client.get('/ui')).status).toBe(303);
    });
  });

  describe('pages', () => {
    it('renders every page with the strict CSP, no inline script or style, and links under the base path', async () => {
      const { job } = await seedSiteAndJob(ctx.store, NOW);
      const { runJobNow } = await import('../../src/schedule/ticker.js');
      const runId = await runJobNow(ctx.store, job, { now: NOW });
      const client = new UiClient(server.url);
      await client.signIn(ADMIN);
      for (const path of ['/ui', '/ui/items', '/ui/items?status=queued&payload=a.b=1', '/ui/jobs', `/ui/jobs/${job.id}`, `/ui/runs/${runId}`, '/ui/workers', '/ui/services', '/ui/inventory', '/ui/audit']) {
        const res = await client.get(path);
        expect(res.status, path).toBe(200);
        expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
        expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
        const text = await res.text();
        expect(text, path).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
        expect(text, path).not.toMatch(/\sstyle=/);
        expect(text, path).not.toMatch(/href="\/(?!ui[\/"])/);
      }
    });

    it('shows an Ansible occurrence\'s play recaps per playbook and host on the run page', async () => {
      const { job } = await seedSiteAndJob(ctx.store, NOW);
      const { runJobNow } = await import('../../src/schedule/ticker.js');
      const runId = await runJobNow(ctx.store, job, { now: NOW });
      const occurrence = await ctx.db.selectFrom('scheduled_job_runs').select(['scheduled_ts']).where('id', '=', runId).executeTakeFirstOrThrow();
      const component = await ctx.db
        .insertInto('scheduled_job_runs')
        .values({ job_id: job.id, scheduled_ts: occurrence.scheduled_ts, status: 'Partial', error: '1 host(s) failed', started_ts: NOW, finished_ts: NOW, target_hostname: null, component_index: 0, component_kind: 'ansible_playbook', component_name: 'site.yml', created_at: NOW, updated_at: NOW })
        .returning('id')
        .executeTakeFirstOrThrow();
      await ctx.db.insertInto('ansible_play_recaps').values({ run_id: component.id, target_id: null, inventory_hostname: 'web-7', ok: 4, changed: 2, unreachable: 0, failed: 1, skipped: 3, rescued: 0, ignored: 0, created_at: NOW }).execute();
      const client = new UiClient(server.url);
      await client.signIn(VIEWER);
      const text = await (await client.get(`/ui/runs/${runId}`)).text();
      expect(text).toContain('<h2>Ansible play recaps</h2>');
      expect(text).toMatch(/<h3>Playbook 0 \(site\.yml\) — .*Partial.*<\/h3>/);
      expect(text).toContain('<td>web-7</td><td>—</td><td>4</td><td>2</td><td>0</td><td>1</td><td>3</td><td>0</td><td>0</td>');
    });

    it('shows each job\'s last runs as a result bar, oldest first', async () => {
      const { job } = await seedSiteAndJob(ctx.store, NOW);
      const { runJobNow } = await import('../../src/schedule/ticker.js');
      const first = await runJobNow(ctx.store, job, { now: NOW });
      await ctx.db.updateTable('scheduled_job_runs').set({ status: 'Failed' }).where('id', '=', first).execute();
      await runJobNow(ctx.store, job, { now: NOW + 1000 });
      const client = new UiClient(server.url);
      await client.signIn(VIEWER);
      const text = await (await client.get('/ui/jobs')).text();
      expect(text).toContain('aria-label="last runs, oldest first: Failed, Pending"');
      expect(text).toContain('daily at 03:30 (Europe/Berlin)');
    });

    it('keeps the audit log and credentials for admins, as the API does', async () => {
      const client = new UiClient(server.url);
      await client.signIn(OPERATOR);
      expect((await client.get('/ui/audit')).status).toBe(403);
      expect(await (await client.get('/ui')).text()).not.toContain('href="/ui/audit"');
      expect(await (await client.get('/ui/inventory')).text()).toContain('Credentials are listed for admins only.');
    });

    it('builds links under X-Forwarded-Prefix for a reverse proxy', async () => {
      const client = new UiClient(server.url);
      await client.signIn(OPERATOR);
      const text = await (await client.get('/ui', { 'x-forwarded-prefix': '/ops' })).text();
      expect(text).toContain('href="/ops/ui/items"');
      expect(text).toContain('href="/ops/ui"');
      expect(text).toMatch(/href="\/ops\/ui\/assets\/ui\.[0-9a-f]{12}\.css"/);
    });

    it('names a bad filter field and what it accepts (400)', async () => {
      const client = new UiClient(server.url);
      await client.signIn(OPERATOR);
      const res = await client.get('/ui/items?status=nope&site=x');
      expect(res.status).toBe(400);
      const text = await res.text();
      expect(text).toContain('status: &quot;nope&quot; is not one of queued, running');
      expect(text).toContain('site: &quot;x&quot; is not a site id');
    });

    it('serves hashed assets gzipped and immutable; the first load is under 50 KB gzip', async () => {
      const client = new UiClient(server.url);
      await client.signIn(OPERATOR);
      const overview = await client.get('/ui', { 'accept-encoding': 'gzip' });
      const htmlText = await overview.text();
      let total = gzipSync(htmlText).length;
      for (const m of htmlText.matchAll(/(?:href|src)="(\/ui\/assets\/[^"]+)"/g)) {
        const res = await fetch(`${server.url}${m[1]}`, { headers: { 'accept-encoding': 'gzip' } });
        expect(res.status).toBe(200);
        expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
        expect(res.headers.get('content-encoding')).toBe('gzip');
        total += Number(res.headers.get('content-length') ?? (await res.arrayBuffer()).byteLength);
      }
      expect(total).toBeLessThan(50 * 1024);
    });
  });

  describe('actions', () => {
    const item = async (status: 'queued' | 'failed' = 'queued') => {
      const r = await enqueueWorkItem(ctx.store, { kind: 'noop', payload: { host: { name: 'web-1' } } }, { now: NOW });
      const id = r.item.id;
      if (status === 'failed') await ctx.db.updateTable('job_scheduler_work_items').set({ status: 'failed', finished_at: NOW, error: 'boom' }).where('id', '=', id).execute();
      return id;
    };
    const statusOf = async (id: number) => (await ctx.db.selectFrom('job_scheduler_work_items').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status;

    it('cancels an item for an operator and records who did it', async () => {
      const id = await item();
      const client = new UiClient(server.url);
      await client.signIn(OPERATOR);
      const res = await client.post(`/ui/items/${id}/cancel`, { _csrf: await client.csrf(), _back: '/ui/items?status=queued' });
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe('/ui/items?status=queued');
      expect(await statusOf(id)).toBe('cancelled');
      const audit = await ctx.db.selectFrom('audit_log').selectAll().where('action', '=', 'work_item.cancel').execute();
      expect(audit.map((a) => [a.actor, a.object_id])).toEqual([['token:otto', String(id)]]);
    });

    it('refuses an action without the CSRF token, or from another origin', async () => {
      const id = await item();
      const client = new UiClient(server.url);
      await client.signIn(OPERATOR);
      expect((await client.post(`/ui/items/${id}/cancel`, {})).status).toBe(403);
      const csrf = await client.csrf();
      expect((await client.post(`/ui/items/${id}/cancel`, { _csrf: csrf }, { origin: 'https://evil.example' })).status).toBe(403);
      expect(await statusOf(id)).toBe('queued');
    });

    it('shows a viewer no action controls and refuses a forged action (403), changing nothing', async () => {
      const id = await item();
      const client = new UiClient(server.url);
      await client.signIn(VIEWER);
      const page = await (await client.get('/ui/items')).text();
      expect(page).not.toContain('/cancel"');
      expect(page).not.toContain('Apply to all matching');
      const res = await client.post(`/ui/items/${id}/cancel`, { _csrf: await client.csrf() });
      expect(res.status).toBe(403);
      expect(await res.text()).toContain('needs the operator role');
      expect(await statusOf(id)).toBe('queued');
      expect(await ctx.db.selectFrom('audit_log').select('id').where('action', 'like', 'work_item.%').execute()).toEqual([]);
    });

    it('reports a conflict in words (409), not an error page', async () => {
      const id = await item();
      const client = new UiClient(server.url);
      await client.signIn(OPERATOR);
      const res = await client.post(`/ui/items/${id}/retry`, { _csrf: await client.csrf() });
      expect(res.status).toBe(409);
      expect(await res.text()).toContain(`item ${id} is queued; retry applies to succeeded, failed, dead, cancelled items`);
    });

    it('retries a failed item', async () => {
      const id = await item('failed');
      const client = new UiClient(server.url);
      await client.signIn(OPERATOR);
      await client.post(`/ui/items/${id}/retry`, { _csrf: await client.csrf() });
      expect(await statusOf(id)).toBe('queued');
    });

    it('cancels everything matching a filter as a background batch, reporting conflicts per item', async () => {
      const queued = [await item(), await item(), await item()];
      const failed = await item('failed');
      const client = new UiClient(server.url);
      await client.signIn(OPERATOR);
      const res = await client.post('/ui/items/bulk', { _csrf: await client.csrf(), scope: 'filter', action: 'cancel', f_kind: 'noop' });
      expect(res.status).toBe(303);
      const batchPath = res.headers.get('location')!;
      const batch = server.ui.bulk.get(batchPath.split('/').at(-1)!)!;
      await expect.poll(() => batch.finished, { timeout: 10_000 }).toBe(true);
      for (const id of queued) expect(await statusOf(id)).toBe('cancelled');
      expect(batch.done).toBe(3);
      expect(batch.conflicts).toEqual([{ id: failed, reason: `item ${failed} is failed; cancel applies to queued, running items` }]);
      const text = await (await client.get(batchPath)).text();
      expect(text).toContain('Finished');
      expect(text).toContain(`item ${failed} is failed`);
    });

    it('finds items by a payload path', async () => {
      const id = await item();
      const client = new UiClient(server.url);
      await client.signIn(OPERATOR);
      const hit = await (await client.get('/ui/items?payload=host.name%3Dweb-1')).text();
      expect(hit).toContain(`value="${id}"`);
      // Where no index serves the search (SQLite), the page says it was bounded.
      if (ctx.store.dialect.jsonSearch.indexed) expect(hit).not.toContain('payload search is bounded');
      else expect(hit).toMatch(/match the other filters; the payload search is bounded: this page searched the newest \d+ of them/);
      const miss = await (await client.get('/ui/items?payload=host.name%3Dweb-2')).text();
      expect(miss).not.toContain(`value="${id}"`);
    });
  });

  describe('live updates', () => {
    it('computes one snapshot for all viewers', async () => {
      const seen: string[][] = [[], []];
      const offs = seen.map((list) => server.ui.live.subscribe((json) => list.push(json)));
      await expect.poll(() => seen.every((l) => l.length > 0)).toBe(true);
      const before = server.ui.live.computed;
      await expect.poll(() => server.ui.live.computed).toBeGreaterThan(before + 1);
      offs.forEach((off) => off());
      // Both viewers received the very same snapshots (each carries its computation time).
      const shared = seen[1]!.filter((json) => seen[0]!.includes(json));
      expect(shared.length).toBeGreaterThanOrEqual(seen[1]!.length - 1);
      await server.ui.live.idle();
      expect(server.ui.live.viewers).toBe(0);
    });
  });
});

/**
 * The dashboard's admin-side pages over HTTP, on both backends: service actions (allow-list,
 * role, confirmation, audit, state of the action), inventory with "which devices match now",
 * workers per site, and the session's idle timeout.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { toJson } from '../../src/db/dialect.js';
import { upsertDevice } from '../../src/inventory/devices.js';
import { createFilter } from '../../src/inventory/filter-admin.js';
import { claimWorkItems } from '../../src/queue/claim.js';
import { completeWorkItem } from '../../src/queue/complete.js';
import { describeBackends } from '../helpers/backends.js';
import { UiClient } from './client.js';
import { ADMIN, OPERATOR, seedServiceSnapshot, seedSiteAndJob, startUiServer, VIEWER, type UiServer } from './harness.js';

const NOW = Date.UTC(2099, 0, 5, 12, 0, 0);
const ALLOW = new Set(['shop/api']);

describeBackends('dashboard admin pages over HTTP', (ctx) => {
  let server: UiServer;
  let now = NOW;
  beforeAll(async () => {
    server = await startUiServer(ctx.store, { clock: () => now, deps: { serviceAllow: ALLOW } });
  });
  afterAll(() => server.close());
  beforeEach(async () => {
    now = NOW;
    await ctx.truncateAll();
  });

  const signedIn = async (token: string) => {
    const client = new UiClient(server.url);
    expect((await client.signIn(token)).status).toBe(303);
    return client;
  };
  const serviceItems = () => ctx.db.selectFrom('job_scheduler_work_items').selectAll().where('kind', '=', 'service_action').execute();

  describe('services', () => {
    beforeEach(async () => {
      await seedServiceSnapshot(ctx.store, 'shop/api', NOW);
      await seedServiceSnapshot(ctx.store, 'shop/db', NOW, 'stopped');
    });

    it('offers actions to an admin only for allow-listed services, through a confirmation page', async () => {
      const admin = await signedIn(ADMIN);
      const page = await (await admin.get('/ui/services')).text();
      expect(page).toContain('href="/ui/services/confirm?service=shop%2Fapi&amp;action=restart"');
      expect(page).not.toContain('service=shop%2Fdb');
      expect(page).toMatch(/shop\/db<\/th>.*not allow-listed/s);
      const confirm = await admin.get('/ui/services/confirm?service=shop%2Fapi&action=restart');
      expect(confirm.status).toBe(200);
      const text = await confirm.text();
      expect(text).toContain('Restart shop/api?');
      expect(text).toMatch(/<form method="post" action="\/ui\/services\/actions">/);
      // Showing the confirmation writes nothing.
      expect(await serviceItems()).toEqual([]);
    });

    it('queues a confirmed action with the audit row the API writes, and shows it queued → running → succeeded', async () => {
      const admin = await signedIn(ADMIN);
      const res = await admin.post('/ui/services/actions', { _csrf: await admin.csrf(), service: 'shop/api', action: 'restart' });
      expect(res.status).toBe(303);
      const [item] = await serviceItems();
      expect(item).toMatchObject({ status: 'queued', site_id: null, payload_json: { action: 'restart', service: 'shop/api' } });
      const audit = await ctx.db.selectFrom('audit_log').selectAll().where('action', '=', 'service.restart').execute();
      expect(audit).toHaveLength(1);
      expect(audit[0]).toMatchObject({ actor: 'token:ada', object_type: 'service', object_id: 'shop/api', summary_json: { work_item_id: item!.id } });

      const queued = await (await admin.get('/ui/services')).text();
      expect(queued).toMatch(new RegExp(`data-service-action="${item!.id}".*s-queued`, 's'));
      expect(queued).toContain('http-equiv="refresh"');

      // The scheduler's consumer claims site-less service_action items; here the test claims and completes it.
      const [lease] = await claimWorkItems(ctx.store, { owner: 'service-actions-test', siteId: null, kinds: ['service_action'], limit: 1, leaseSeconds: 60, now: NOW });
      expect((await (await admin.get('/ui/services')).text()).match(new RegExp(`data-service-action="${item!.id}".*?</tr>`, 's'))![0]).toContain('s-running');
      const result = { action: 'restart', service: 'shop/api', containers: [{ name: 'shop-api-1', previous_state: 'running', new_state: 'running' }], duration_ms: 5 };
      expect(await completeWorkItem(ctx.store, 'service-actions-test', lease!, result, { now: NOW })).toBe('completed');
      const done = await (await admin.get('/ui/services')).text();
      expect(done).toMatch(new RegExp(`data-service-action="${item!.id}".*s-succeeded.*shop-api-1: running → running`, 's'));
      expect(done).not.toContain('http-equiv="refresh"');
    });

    it('refuses a service off the allow-list and an unknown action, naming them and the accepted values, writing nothing', async () => {
      const admin = await signedIn(ADMIN);
      const csrf = await admin.csrf();
      const off = await admin.post('/ui/services/actions', { _csrf: csrf, service: 'shop/db', action: 'stop' });
      expect(off.status).toBe(400);
      expect(await off.text()).toContain('service: service shop/db is not on the allow-list (SERVICE_ACTION_ALLOW: shop/api)');
      const bad = await admin.post('/ui/services/actions', { _csrf: csrf, service: 'shop/api', action: 'explode' });
      expect(bad.status).toBe(400);
      expect(await bad.text()).toContain('action: &quot;explode&quot; is not one of restart, stop, start');
      expect((await admin.get('/ui/services/confirm?service=shop%2Fdb&action=stop')).status).toBe(400);
      expect(await serviceItems()).toEqual([]);
      expect(await ctx.db.selectFrom('audit_log').select('action').where('action', 'like', 'service.%').execute()).toEqual([]);
    });

    it('shows viewers and operators no action controls and refuses their forged actions (403), as the API does', async () => {
      for (const token of [VIEWER, OPERATOR]) {
        const client = await signedIn(token);
        const page = await (await client.get('/ui/services')).text();
        expect(page).toContain('shop/api');
        expect(page).not.toContain('/services/confirm');
        expect(page).toContain('They need the admin role.');
        const forged = await client.post('/ui/services/actions', { _csrf: await client.csrf(), service: 'shop/api', action: 'restart' });
        expect(forged.status).toBe(403);
        expect(await forged.text()).toContain('this needs the admin role');
        expect((await client.get('/ui/services/confirm?service=shop%2Fapi&action=restart')).status).toBe(403);
      }
      expect(await serviceItems()).toEqual([]);
    });

    it('refuses an action without the CSRF token', async () => {
      const admin = await signedIn(ADMIN);
      expect((await admin.post('/ui/services/actions', { service: 'shop/api', action: 'restart' })).status).toBe(403);
      expect(await serviceItems()).toEqual([]);
    });
  });

  describe('inventory', () => {
    it('lists devices online/offline with filters, and which devices a filter matches now and why', async () => {
      const { site } = await seedSiteAndJob(ctx.store, NOW);
      await upsertDevice(ctx.store, { guid: 'g-db-1', hostname: 'db-1', last_seen: NOW - 24 * 3600_000, status: 'online' }, NOW);
      const filter = await createFilter(
        ctx.store,
        { name: 'web hosts', criteria: { match: 'all', rules: [{ field: 'hostname', operator: 'starts_with', value: 'web' }] } },
        { actor: 'test', now: NOW },
      );
      const viewer = await signedIn(VIEWER);
      const all = await (await viewer.get('/ui/inventory')).text();
      expect(all).toMatch(/web-1<\/th><td>north<\/td><td><span class="s-online">online/);
      expect(all).toMatch(/db-1<\/th><td>—<\/td><td><span class="s-offline">offline/);
      expect(all).toContain('Credentials are listed for admins only.');
      const offline = await (await viewer.get('/ui/inventory?state=offline')).text();
      expect(offline).toContain('db-1</th>');
      expect(offline).not.toContain('web-1</th>');
      expect(await (await viewer.get(`/ui/inventory?site=${site.id}`)).text()).not.toContain('db-1</th>');

      const tested = await (await viewer.get(`/ui/inventory?test=${filter.id}`)).text();
      expect(tested).toContain(`Filter ${filter.id} “web hosts” matches 1 of 2 devices now`);
      const section = tested.slice(tested.indexOf('id="match"'));
      expect(section).toMatch(/web-1<\/th><td>north<\/td>.*hostname starts_with &quot;web&quot; \(device has &quot;web-1&quot;\)/s);
      expect(section).toMatch(/Near misses.*db-1/s);

      const bad = await viewer.get('/ui/inventory?state=asleep');
      expect(bad.status).toBe(400);
      expect(await bad.text()).toContain('state: &quot;asleep&quot; is not one of online, offline');
      expect((await viewer.get('/ui/inventory?site=nowhere')).status).toBe(400);
      expect((await viewer.get('/ui/inventory?test=999')).status).toBe(404);
    });
  });

  describe('workers', () => {
    it('groups live workers by site with heartbeat age, and lists the recently stopped or lost apart', async () => {
      const { site } = await seedSiteAndJob(ctx.store, NOW);
      const w = (guid: string, status: string, extra: Record<string, unknown> = {}) => ({
        worker_guid: guid,
        site_id: site.id,
        status,
        started_at: NOW - 3_600_000,
        last_seen_at: NOW - 5_000,
        current_lanes_json: toJson(['default', 'slow']),
        claimed_count: 3,
        docker_state: 'running',
        created_at: NOW - 3_600_000,
        updated_at: NOW - 5_000,
        ...extra,
      });
      await ctx.db
        .insertInto('job_scheduler_workers')
        .values([
          w('w-live', 'running'),
          w('w-stale', 'idle', { last_seen_at: NOW - 300_000, idle_since: NOW - 600_000 }),
          w('w-lost', 'lost', { docker_state: 'exited', exit_code: 137, stopped_at: NOW - 60_000, updated_at: NOW - 60_000 }),
        ])
        .execute();
      const viewer = await signedIn(VIEWER);
      const text = await (await viewer.get('/ui/workers')).text();
      const [live, ended] = text.split('Stopped or lost in the last');
      expect(live).toMatch(/<h3>north <span class="muted">\(2 live, 6 claimed\)/);
      expect(live).toMatch(/w-live.*default, slow.*5 s ago/s);
      expect(live).toMatch(/w-stale.*\(stale\)/s);
      expect(live).not.toContain('w-lost');
      expect(ended).toMatch(/w-lost.*s-lost.*exited<\/td><td>137/s);
    });
  });

  describe('sessions', () => {
    it('ends a session after two hours without a request, and keeps one in use', async () => {
      const client = await signedIn(VIEWER);
      now += 90 * 60_000;
      expect((await client.get('/ui')).status).toBe(200);
      now += 90 * 60_000; // 3 h after sign-in, 1.5 h after the last request
      expect((await client.get('/ui')).status).toBe(200);
      now += 2 * 60 * 60_000 + 1;
      const res = await client.get('/ui');
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe('/ui/signin');
    });
  });
});

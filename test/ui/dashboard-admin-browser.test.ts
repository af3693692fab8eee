/**
 * The dashboard's admin-side pages in a real browser (headless Debian Chromium through
 * playwright-core), on both backends, signed in with real API tokens (the operator API's token
 * check and revocation): a service restart chosen and confirmed with the keyboard and seen going
 * queued → running → succeeded; a viewer who sees no service actions and whose forged action is
 * refused; a revoked token's session sent to sign-in; skip link, visible focus, labelled controls
 * and light/dark following the system. Screenshots of these pages go to test-results/dashboard/.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiToken, revokeApiToken } from '../../src/auth/tokens.js';
import { toJson } from '../../src/db/dialect.js';
import { uiCredentialCheck, uiTokenCheck } from '../../src/http/ui/mount.js';
import { upsertDevice } from '../../src/inventory/devices.js';
import { createFilter } from '../../src/inventory/filter-admin.js';
import { claimWorkItems } from '../../src/queue/claim.js';
import { completeWorkItem } from '../../src/queue/complete.js';
import { describeBackends } from '../helpers/backends.js';
import { launchChromium, signIn } from './browser.js';
import { seedServiceSnapshot, seedSiteAndJob, startUiServer, type UiServer } from './harness.js';

const NOW = Date.UTC(2099, 0, 5, 12, 0, 0);
const SHOTS = join(import.meta.dirname, '..', '..', 'test-results', 'dashboard');

let chromium: Awaited<ReturnType<typeof launchChromium>>;
beforeAll(async () => {
  chromium = await launchChromium();
}, 60_000);
afterAll(() => chromium?.close());

/** Tabs forward until the focused element's text matches (at most `max` presses); returns that text. */
async function tabTo(page: Page, text: RegExp, max = 80): Promise<string> {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    const focused = String(await page.evaluate("document.activeElement?.textContent?.trim() ?? ''"));
    if (text.test(focused)) return focused;
  }
  throw new Error(`no focusable element matching ${text} within ${max} Tab presses`);
}

describeBackends('dashboard admin pages in a browser', (ctx) => {
  let server: UiServer;
  const tokens: Record<string, string> = {};
  let admin: Page;
  beforeAll(async () => {
    await ctx.truncateAll();
    // The real token check and session rule of the API server, over tokens in this database.
    server = await startUiServer(ctx.store, {
      clock: () => NOW,
      liveIntervalMs: 150,
      deps: {
        authenticate: uiTokenCheck(ctx.store, undefined, () => NOW),
        credentialGone: uiCredentialCheck(ctx.store, undefined),
        serviceAllow: new Set(['shop/api']),
      },
    });
    for (const [name, role] of [['ada', 'admin'], ['vera', 'viewer'], ['temp', 'operator']] as const) {
      tokens[name] = (await createApiToken(ctx.store, { name, role }, 'test', { now: NOW })).token;
    }
    const { site } = await seedSiteAndJob(ctx.store, NOW);
    await upsertDevice(ctx.store, { guid: 'g-db-1', hostname: 'db-1', last_seen: NOW - 86_400_000, status: 'online' }, NOW);
    await createFilter(ctx.store, { name: 'web hosts', criteria: { match: 'all', rules: [{ field: 'hostname', operator: 'starts_with', value: 'web' }] } }, { actor: 'test', now: NOW });
    await seedServiceSnapshot(ctx.store, 'shop/api', NOW);
    await seedServiceSnapshot(ctx.store, 'shop/db', NOW, 'stopped');
    const worker = { site_id: site.id, started_at: NOW - 3_600_000, current_lanes_json: toJson(['default']), created_at: NOW - 3_600_000 };
    await ctx.db
      .insertInto('job_scheduler_workers')
      .values([
        { ...worker, worker_guid: 'north-worker-1', status: 'running', last_seen_at: NOW - 4_000, claimed_count: 2, docker_state: 'running', updated_at: NOW - 4_000 },
        { ...worker, worker_guid: 'north-worker-0', status: 'lost', claimed_count: 5, last_seen_at: NOW - 900_000, docker_state: 'exited', exit_code: 137, stopped_at: NOW - 600_000, updated_at: NOW - 600_000 },
      ])
      .execute();
    admin = await signIn(await chromium.newContext(), server.url, tokens.ada!, '/ui/services');
  }, 60_000);
  afterAll(async () => {
    await admin?.context().close();
    await server?.close();
  });

  it('starts with a skip link and outlines the focused control', async () => {
    await admin.goto(`${server.url}/ui/services`);
    await admin.keyboard.press('Tab');
    const skip = await admin.evaluate(`(() => {
      const el = document.activeElement;
      const box = el.getBoundingClientRect();
      return { text: el.textContent, outline: getComputedStyle(el).outlineStyle, visible: box.left >= 0 && box.width > 0 };
    })()`);
    expect(skip).toEqual({ text: 'Skip to content', outline: 'solid', visible: true });
    await admin.keyboard.press('Enter');
    await admin.keyboard.press('Tab');
    // The next stop is inside the page's content, past the navigation.
    expect(await admin.evaluate("document.activeElement?.closest('main') !== null")).toBe(true);
  });

  it('restarts an allow-listed service chosen and confirmed with the keyboard, and shows it queued → running → succeeded', async () => {
    await admin.goto(`${server.url}/ui/services`);
    expect(await admin.getByRole('link', { name: /shop\/db/ }).count()).toBe(0); // not allow-listed: no actions
    expect(await tabTo(admin, /^Restart shop\/api$/)).toBe('Restart shop/api');
    await admin.keyboard.press('Enter');
    await admin.waitForURL(/\/ui\/services\/confirm\?/);
    await expect(admin.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Restart shop/api?');
    await tabTo(admin, /^Restart shop\/api$/);
    expect(await admin.evaluate('document.activeElement?.tagName')).toBe('BUTTON');
    await admin.keyboard.press('Enter');
    await admin.waitForURL(/\/ui\/services$/);

    const item = await ctx.db.selectFrom('job_scheduler_work_items').select('id').where('kind', '=', 'service_action').executeTakeFirstOrThrow();
    const row = admin.locator(`tr[data-service-action="${item.id}"]`);
    await row.locator('.s-queued').waitFor();
    const audit = await ctx.db.selectFrom('audit_log').select(['actor', 'object_id']).where('action', '=', 'service.restart').execute();
    expect(audit).toEqual([{ actor: 'token:ada', object_id: 'shop/api' }]);

    // The scheduler's consumer claims site-less service_action items and runs them against the
    // Docker Engine; here the test takes its place with the same queue calls.
    const [lease] = await claimWorkItems(ctx.store, { owner: 'service-actions-test', siteId: null, kinds: ['service_action'], limit: 1, leaseSeconds: 60, now: NOW });
    expect(lease?.id).toBe(item.id);
    await row.locator('.s-running').waitFor({ timeout: 15_000 });
    const result = { action: 'restart', service: 'shop/api', containers: [{ name: 'shop-api-1', previous_state: 'running', new_state: 'running' }], duration_ms: 5 };
    expect(await completeWorkItem(ctx.store, 'service-actions-test', lease!, result, { now: NOW })).toBe('completed');
    await row.locator('.s-succeeded').waitFor({ timeout: 15_000 });
    await expect(row.textContent()).resolves.toContain('shop-api-1: running → running');
  });

  it('shows a viewer no service actions, and the server refuses a forged one', async () => {
    const viewer = await signIn(await chromium.newContext(), server.url, tokens.vera!, '/ui/services');
    try {
      await viewer.goto(`${server.url}/ui/services`);
      await viewer.getByRole('rowheader', { name: 'shop/api' }).waitFor();
      expect(await viewer.getByRole('link', { name: /Restart|Stop|Start/ }).count()).toBe(0);
      expect(await viewer.getByRole('button', { name: /Restart|Stop|Start/ }).count()).toBe(0);
      // The session's own CSRF token and a same-origin request: only the role is wrong.
      const status = await viewer.evaluate(`(async () => {
        const csrf = document.querySelector('input[name=_csrf]').value;
        const res = await fetch('/ui/services/actions', { method: 'POST', body: new URLSearchParams({ _csrf: csrf, service: 'shop/api', action: 'stop' }) });
        return res.status;
      })()`);
      expect(status).toBe(403);
      const stops = await ctx.db.selectFrom('audit_log').select('id').where('action', '=', 'service.stop').execute();
      expect(stops).toEqual([]);
    } finally {
      await viewer.context().close();
    }
  });

  it('sends a revoked token’s session to sign-in', async () => {
    const page = await signIn(await chromium.newContext(), server.url, tokens.temp!, '/ui/services');
    try {
      await page.goto(`${server.url}/ui/inventory`);
      await page.getByRole('heading', { name: 'Inventory' }).waitFor();
      await revokeApiToken(ctx.store, 'temp', 'token:ada', { now: NOW });
      await page.getByRole('link', { name: 'Workers' }).click();
      await page.waitForURL(`${server.url}/ui/signin`);
      await page.getByLabel('API token').waitFor();
    } finally {
      await page.context().close();
    }
  });

  it('labels every control on the admin pages, and follows the system colour scheme', async () => {
    const filter = await ctx.db.selectFrom('device_filters').select('id').executeTakeFirstOrThrow();
    for (const path of ['/ui/services', `/ui/inventory?test=${filter.id}`, '/ui/workers', '/ui/audit', '/ui/services/confirm?service=shop%2Fapi&action=stop']) {
      await admin.goto(`${server.url}${path}`);
      const unlabelled = await admin.evaluate(`[...document.querySelectorAll('input:not([type=hidden]), select, textarea, button, a[href]')]
        .filter((el) => !(el.labels && el.labels.length > 0) && !el.getAttribute('aria-label') && !(el.textContent ?? '').trim())
        .map((el) => el.outerHTML)`);
      expect(unlabelled, path).toEqual([]);
    }
    const background = () => admin.evaluate('getComputedStyle(document.body).backgroundColor');
    await admin.emulateMedia({ colorScheme: 'light' });
    expect(await background()).toBe('rgb(255, 255, 255)');
    await admin.emulateMedia({ colorScheme: 'dark' });
    expect(await background()).toBe('rgb(13, 17, 23)');
    await admin.emulateMedia({ colorScheme: 'light' });
  });

  // One backend is enough for pictures (the pages are the same).
  it.runIf(ctx.backend === 'sqlite')('writes screenshots of the admin pages, light and dark', async () => {
    const filter = await ctx.db.selectFrom('device_filters').select('id').executeTakeFirstOrThrow();
    const pages: Array<[string, string]> = [
      ['workers', '/ui/workers'],
      ['services', '/ui/services'],
      ['service-confirm', '/ui/services/confirm?service=shop%2Fapi&action=restart'],
      ['inventory', `/ui/inventory?test=${filter.id}`],
      ['audit', '/ui/audit'],
    ];
    mkdirSync(SHOTS, { recursive: true });
    for (const scheme of ['light', 'dark'] as const) {
      await admin.emulateMedia({ colorScheme: scheme });
      for (const [name, path] of pages) {
        await admin.goto(`${server.url}${path}`);
        await admin.screenshot({ path: join(SHOTS, `${name}-${scheme}.png`), fullPage: true });
      }
    }
  });
});

describe('browser test environment', () => {
  it('has Chromium', () => expect(chromium).toBeDefined());
});

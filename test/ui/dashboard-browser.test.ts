/**
 * The dashboard in a real browser (headless Debian Chromium through playwright-core), on both
 * backends: sign in, create a job through the form (after a bad field's message), run it now and watch it finish live, open its run and a target's output,
 * retry a failed item, bulk-cancel by filter, and a viewer who sees no actions and whose forged
 * action is refused. Screenshots of every page, light and dark, go to test-results/dashboard/.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimWorkItems } from '../../src/queue/claim.js';
import { completeWorkItem } from '../../src/queue/complete.js';
import { enqueueWorkItem } from '../../src/queue/enqueue.js';
import { applyRunRollups } from '../../src/schedule/rollup.js';
import { describeBackends } from '../helpers/backends.js';
import { launchChromium, signIn } from './browser.js';
import { ADMIN, seedSiteAndJob, startUiServer, VIEWER, type UiServer } from './harness.js';

const NOW = Date.UTC(2099, 0, 5, 12, 0, 0);
const SHOTS = join(import.meta.dirname, '..', '..', 'test-results', 'dashboard');

let chromium: Awaited<ReturnType<typeof launchChromium>>;
beforeAll(async () => {
  chromium = await launchChromium();
}, 60_000);
afterAll(() => chromium?.close());

describeBackends('dashboard in a browser', (ctx) => {
  let server: UiServer;
  let operator: Page;
  let seeded: Awaited<ReturnType<typeof seedSiteAndJob>>;
  beforeAll(async () => {
    await ctx.truncateAll();
    server = await startUiServer(ctx.store, { clock: () => NOW, liveIntervalMs: 150 });
    seeded = await seedSiteAndJob(ctx.store, NOW);
    // An admin, so the screenshots include the audit log; the role rules are tested over HTTP.
    operator = await signIn(await chromium.newContext(), server.url, ADMIN);
  }, 60_000);
  afterAll(async () => {
    await operator?.context().close();
    await server?.close();
  });

  it('shows the overview after signing in', async () => {
    await expect(operator.getByRole('heading', { name: 'Overview' }).isVisible()).resolves.toBe(true);
    await operator.locator('.live-dot.on').waitFor();
  });

  it('creates a job through the form, showing a bad field\'s message beside it first', async () => {
    await operator.goto(`${server.url}/ui/jobs`);
    await operator.getByRole('link', { name: 'New job' }).click();
    await operator.waitForURL(/\/ui\/jobs\/new$/);
    await operator.getByLabel('Name', { exact: true }).fill('uptime report');
    await operator.getByLabel('Schedule type').selectOption('cron');
    await operator.getByLabel('Cron expression').fill('61 2 * * *');
    await operator.getByLabel('Time zone').fill('Europe/Berlin');
    await operator.getByLabel('Hostnames').fill('web-1');
    await operator.getByRole('button', { name: 'Create job' }).click();
    const problem = operator.locator('#cron_expression-problems');
    await problem.waitFor();
    await expect(problem.textContent()).resolves.toMatch(/^cron_expression: /);
    // The field carries its message for assistive technology, and the form kept what was typed.
    await expect(operator.getByLabel('Cron expression').getAttribute('aria-describedby')).resolves.toContain('cron_expression-problems');
    await expect(operator.getByLabel('Name', { exact: true }).inputValue()).resolves.toBe('uptime report');
    expect(await ctx.db.selectFrom('scheduled_jobs').select('id').where('name', '=', 'uptime report').execute()).toEqual([]);
    if (ctx.backend === 'sqlite') {
      mkdirSync(SHOTS, { recursive: true });
      await operator.screenshot({ path: join(SHOTS, 'job-form-invalid-light.png'), fullPage: true });
    }

    await operator.getByLabel('Cron expression').fill('30 2 * * *');
    await operator.getByRole('button', { name: 'Create job' }).click();
    await operator.waitForURL(/\/ui\/jobs\/\d+\?saved=created$/);
    await operator.getByText('Job created.').waitFor();
    await operator.getByText('every day at 02:30 (Europe/Berlin)').first().waitFor();
    const row = await ctx.db.selectFrom('scheduled_jobs').selectAll().where('name', '=', 'uptime report').executeTakeFirstOrThrow();
    expect(row.cron_expression).toBe('30 2 * * *');
    expect(row.time_zone).toBe('Europe/Berlin');
  });

  it('runs the new job now and shows it going Running → Success without a reload, then its target output', async () => {
    await operator.goto(`${server.url}/ui/jobs`);
    await operator.getByRole('row', { name: /uptime report/ }).getByRole('button', { name: 'Run now' }).click();
    await operator.waitForURL(/\/ui\/runs\/\d+$/);
    const runId = Number(operator.url().split('/').at(-1));
    await operator.evaluate('window.marker = 42');

    const [item] = await claimWorkItems(ctx.store, { owner: 'test-worker', siteId: seeded.site.id, limit: 1, leaseSeconds: 60, now: NOW });
    expect(item?.run_id).toBe(runId);
    await applyRunRollups(ctx.store, { now: NOW });
    await operator.locator('[data-run-status]', { hasText: 'Running' }).waitFor({ timeout: 15_000 });

    // What the executor records for the target: its output (with a secret that must not show).
    const activity = await ctx.db
      .insertInto('activity_history')
      .values({ hostname: 'web-1', script_name: 'df', script_type: 'command', ran_at: NOW, status: 'Success', stdout: 'Filesystem 1K-blocks Used\n/dev/sda1 100 42\npassword=hunter2', stderr: '' })
      .returning('id')
      .executeTakeFirstOrThrow();
    await ctx.db
      .insertInto('scheduled_job_run_activity')
      .values({ run_id: runId, activity_id: activity.id, component_kind: 'command', component_name: 'df', script_type: 'command', component_path: null, created_at: NOW })
      .execute();
    await ctx.db.updateTable('scheduled_job_run_targets').set({ status: 'Success', finished_at: NOW }).where('run_id', '=', runId).execute();
    expect(await completeWorkItem(ctx.store, 'test-worker', item!, { ok: true }, { now: NOW })).toBe('completed');
    await applyRunRollups(ctx.store, { now: NOW });
    await operator.locator('[data-run-status]', { hasText: 'Success' }).waitFor({ timeout: 15_000 });
    expect(await operator.evaluate('window.marker')).toBe(42); // no reload

    await operator.locator('summary', { hasText: 'web-1' }).click();
    const output = operator.locator('details pre').first();
    await expect(output.textContent()).resolves.toContain('/dev/sda1 100 42');
    await expect(output.textContent()).resolves.not.toContain('hunter2');
  });

  it('retries a failed item', async () => {
    const { item } = await enqueueWorkItem(ctx.store, { kind: 'noop', lane: 'retry-me', payload: {} }, { now: NOW });
    await ctx.db.updateTable('job_scheduler_work_items').set({ status: 'failed', finished_at: NOW, error: 'exit code 3' }).where('id', '=', item.id).execute();
    await operator.goto(`${server.url}/ui/items?lane=retry-me`);
    await operator.getByRole('row', { name: /exit code 3/ }).getByRole('button', { name: 'Retry' }).click();
    await operator.waitForURL(/lane=retry-me/);
    await operator.locator(`tr:has(input[value="${item.id}"]) .s-queued`).waitFor();
  });

  it('cancels everything matching a filter, with progress and per-item conflicts', async () => {
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) ids.push((await enqueueWorkItem(ctx.store, { kind: 'noop', lane: 'bulk', payload: { n: i } }, { now: NOW })).item.id);
    await ctx.db.updateTable('job_scheduler_work_items').set({ status: 'succeeded', finished_at: NOW }).where('id', '=', ids[0]!).execute();
    await operator.goto(`${server.url}/ui/items?lane=bulk`);
    operator.once('dialog', (d) => void d.accept());
    await operator.getByLabel(/on all 5 matching/).selectOption('cancel');
    await operator.getByRole('button', { name: 'Apply to all matching' }).click();
    await operator.locator('#batch-status', { hasText: 'Finished' }).waitFor({ timeout: 15_000 });
    await expect(operator.locator('#batch-status').textContent()).resolves.toMatch(/4 done, 1 conflict/);
    const statuses = await ctx.db.selectFrom('job_scheduler_work_items').select('status').where('lane', '=', 'bulk').orderBy('id').execute();
    expect(statuses.map((s) => s.status)).toEqual(['succeeded', 'cancelled', 'cancelled', 'cancelled', 'cancelled']);
  });

  it('shows a viewer no action controls, and the server refuses a forged action', async () => {
    const { item } = await enqueueWorkItem(ctx.store, { kind: 'noop', lane: 'viewer', payload: {} }, { now: NOW });
    const viewer = await signIn(await chromium.newContext(), server.url, VIEWER);
    try {
      await viewer.goto(`${server.url}/ui/items?lane=viewer`);
      expect(await viewer.getByRole('button', { name: /Cancel|Retry|Run now|Apply/ }).count()).toBe(0);
      await viewer.goto(`${server.url}/ui/jobs`);
      expect(await viewer.getByRole('button', { name: /Run now|Disable|Enable/ }).count()).toBe(0);
      expect(await viewer.getByRole('link', { name: 'New job' }).count()).toBe(0);
      await viewer.goto(`${server.url}/ui/jobs/${seeded.job.id}`);
      expect(await viewer.getByRole('link', { name: 'Edit' }).count()).toBe(0);
      expect(await viewer.getByRole('link', { name: 'Export' }).count()).toBe(1);
      // The session's own CSRF token (from the sign-out form) and a same-origin request: only the role is wrong.
      const status = await viewer.evaluate(`(async () => {
        const csrf = document.querySelector('input[name=_csrf]').value;
        const res = await fetch('/ui/items/${item.id}/cancel', { method: 'POST', body: new URLSearchParams({ _csrf: csrf }) });
        return res.status;
      })()`);
      expect(status).toBe(403);
      const row = await ctx.db.selectFrom('job_scheduler_work_items').select('status').where('id', '=', item.id).executeTakeFirstOrThrow();
      expect(row.status).toBe('queued');
    } finally {
      await viewer.context().close();
    }
  });

  // One backend is enough for pictures (the pages are the same); it keeps the file's wall time modest.
  // Workers, services, inventory and audit are pictured by dashboard-admin-browser.test.ts.
  it.runIf(ctx.backend === 'sqlite')('writes a screenshot of every page, light and dark', async () => {
    const run = await ctx.db.selectFrom('scheduled_job_runs').select(['id', 'job_id']).orderBy('id', 'desc').executeTakeFirstOrThrow();
    const pages: Array<[string, string]> = [
      ['overview', '/ui'],
      ['work-items', '/ui/items'],
      ['jobs', '/ui/jobs'],
      ['job', `/ui/jobs/${run.job_id}`],
      ['job-form', '/ui/jobs/new'],
      ['job-edit', `/ui/jobs/${seeded.job.id}/edit`],
      ['run', `/ui/runs/${run.id}`],
    ];
    const dir = SHOTS;
    mkdirSync(dir, { recursive: true });
    for (const scheme of ['light', 'dark'] as const) {
      await operator.emulateMedia({ colorScheme: scheme });
      for (const [name, path] of pages) {
        await operator.goto(`${server.url}${path}`);
        await operator.screenshot({ path: join(dir, `${name}-${scheme}.png`), fullPage: true });
      }
    }
    const signin = await (await chromium.newContext('dark')).newPage();
    await signin.goto(`${server.url}/ui/signin`);
    await signin.screenshot({ path: join(dir, 'signin-dark.png') });
    await signin.context().close();
  }, 240_000); // 24 full-page screenshots: about 40 s on an idle 2-core machine, several times that under load
});

describe('browser test environment', () => {
  it('has Chromium', () => expect(chromium).toBeDefined());
});

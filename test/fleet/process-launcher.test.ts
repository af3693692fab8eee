/**
 * Site workers as real child processes (`jobyard worker`), launched and reconciled by the fleet:
 * the embedded default when no Docker Engine answers. Both backends.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { toJson } from '../../src/db/dialect.js';
import { Fleet } from '../../src/fleet/fleet.js';
import type { WorkerLauncher } from '../../src/fleet/launcher.js';
import { createProcessLauncher } from '../../src/fleet/process-launcher.js';
import { jobyardEntrypoint } from '../../src/fleet/select-launcher.js';
import { silentLogger } from '../../src/log.js';
import { applyRunRollups } from '../../src/schedule/rollup.js';
import { tick } from '../../src/schedule/ticker.js';
import { insertJob, siteWithDevices } from '../fixtures/executors/executor-helpers.js';
import { describeBackends, type BackendContext } from '../helpers/backends.js';

async function until<T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function makeFleet(ctx: BackendContext, launcher: WorkerLauncher, env: Record<string, string> = {}) {
  return new Fleet({
    store: ctx.store,
    launcher,
    logger: silentLogger,
    workerEnv: { DATABASE_URL: ctx.url, WORKER_IDLE_SECONDS: '1', LOG_LEVEL: 'warn', ...env },
    maxWorkersPerSite: 1,
    staleAfterMs: 30_000,
    historyMs: 60_000,
  });
}

describeBackends('site workers as child processes', (ctx) => {
  let scratch: string;
  let launcher: WorkerLauncher;
  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), 'jobyard-fleet-'));
  });
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));
  afterEach(async () => {
    for (const w of await launcher.list()) if (w.running) await launcher.stop(w.workerGuid, { graceMs: 1_000 });
    await ctx.truncateAll();
  });

  it('one worker per site claims, executes, records and exits 0 when idle; its row goes running → idle → stopped', async () => {
    launcher = createProcessLauncher({ entrypoint: jobyardEntrypoint(), stdio: 'ignore' });
    const fleet = makeFleet(ctx, launcher);
    const now = Date.now();
    const sites = [];
    for (const name of ['alpha', 'beta', 'gamma']) sites.push((await siteWithDevices(ctx, name, [`${name}-1`, `${name}-2`], now)).site);
    const job = await insertJob(ctx, now, {
      name: 'three sites',
      components_json: toJson([{ kind: 'command', name: 'hello', argv: [process.execPath, '-e', 'console.log("hi from " + process.env.JOBYARD_TARGET_HOSTNAME)'] }]),
      targets_json: toJson({ sites: sites.map((s) => s.id) }),
      schedule_type: 'immediately',
    });
    await tick(ctx.store, { now });
    expect(await fleet.launchNeeded()).toBe(3);
    // A second round launches nothing: every site already has its live worker.
    expect(await fleet.launchNeeded()).toBe(0);

    const rows = await ctx.db.selectFrom('job_scheduler_workers').selectAll().execute();
    expect(rows.map((r) => r.site_id).sort()).toEqual(sites.map((s) => s.id).sort());
    for (const r of rows) expect(r.container_name).toBe(`site-worker-${r.worker_guid}`);

    // Each worker passes through running and idle, then stops by itself after 1 s idle.
    const seen = new Map<string, Set<string>>();
    await until('every worker stopped', async () => {
      const now = await ctx.db.selectFrom('job_scheduler_workers').select(['worker_guid', 'status']).execute();
      for (const r of now) (seen.get(r.worker_guid) ?? seen.set(r.worker_guid, new Set()).get(r.worker_guid)!).add(r.status);
      return now.every((r) => r.status === 'stopped');
    });
    for (const statuses of seen.values()) expect([...statuses]).toEqual(expect.arrayContaining(['idle', 'stopped']));
    await until('every child exited', async () => (await launcher.list()).every((w) => !w.running));
    for (const w of await launcher.list()) expect(w.exitCode).toBe(0);

    const stopped = await ctx.db.selectFrom('job_scheduler_workers').selectAll().execute();
    for (const r of stopped) {
      expect(r).toMatchObject({ status: 'stopped', claimed_count: 1 });
      expect(r.started_at).not.toBeNull();
      expect(r.stopped_at).toBeGreaterThanOrEqual(r.started_at!);
      expect(r.task_links_json).toEqual([]);
    }
    const items = await ctx.db.selectFrom('job_scheduler_work_items').selectAll().execute();
    expect(items).toHaveLength(3);
    for (const item of items) {
      expect(item.status).toBe('succeeded');
      expect(stopped.find((w) => w.worker_guid === item.worker_guid)?.site_id).toBe(item.site_id);
    }
    // Two targets × one component at each of three sites.
    const activity = await ctx.db.selectFrom('activity_history').select(['status', 'stdout']).execute();
    expect(activity).toHaveLength(6);
    for (const a of activity) expect(a).toMatchObject({ status: 'Success', stdout: expect.stringMatching(/^hi from (alpha|beta|gamma)-[12]\n$/) });
    await applyRunRollups(ctx.store, { now: Date.now() });
    const runs = await ctx.db.selectFrom('scheduled_job_runs').select('status').where('job_id', '=', job.id).execute();
    expect(runs.map((r) => r.status)).toEqual(['Success']);

    // Reconcile records the exit code, forgets the children, and keeps the rows for the history window.
    const r = await fleet.reconcile();
    expect(r.lost).toEqual([]);
    expect(r.removed).toHaveLength(3);
    expect(await launcher.list()).toEqual([]);
    for (const w of await ctx.db.selectFrom('job_scheduler_workers').selectAll().execute()) expect(w.exit_code).toBe(0);
  });

  it('kill -9 mid-item: the worker is lost (exit 137), its item is released at once and completed once by the next worker', async () => {
    launcher = createProcessLauncher({ entrypoint: jobyardEntrypoint(), stdio: 'ignore' });
    const fleet = makeFleet(ctx, launcher);
    const now = Date.now();
    const { site } = await siteWithDevices(ctx, 'kilo', ['kilo-1'], now);
    const marker = join(scratch, `${ctx.backend}-marker`);
    // First attempt: leaves a marker and hangs; a second attempt sees the marker and succeeds.
    const script = `const fs=require('fs');if(fs.existsSync(${JSON.stringify(marker)})){console.log('second')}else{fs.writeFileSync(${JSON.stringify(marker)},'1');setTimeout(()=>{},60000)}`;
    await insertJob(ctx, now, {
      name: 'hangs once',
      components_json: toJson([{ kind: 'command', argv: [process.execPath, '-e', script], timeout_seconds: 120 }]),
      targets_json: toJson({ sites: [site.id] }),
      schedule_type: 'immediately',
    });
    await tick(ctx.store, { now });
    expect(await fleet.launchNeeded()).toBe(1);
    const first = await until('the item running', () =>
      ctx.db.selectFrom('job_scheduler_work_items').selectAll().where('status', '=', 'running').executeTakeFirst(),
    );
    await until('the marker', async () => existsSync(marker));
    const [child] = await launcher.list();
    expect(child?.workerGuid).toBe(first.worker_guid);
    expect(first.lease_owner).toBe(first.worker_guid);
    process.kill(child!.pid!, 'SIGKILL');
    await until('the child gone', async () => (await launcher.list()).every((w) => !w.running));

    const r = await fleet.reconcile();
    expect(r.lost).toEqual([first.worker_guid]);
    const lost = await ctx.db.selectFrom('job_scheduler_workers').selectAll().where('worker_guid', '=', first.worker_guid).executeTakeFirstOrThrow();
    expect(lost).toMatchObject({ status: 'lost', exit_code: 137, docker_state: 'exited' });
    // Released at once, not after the 60 s lease.
    const released = await ctx.db.selectFrom('job_scheduler_work_items').selectAll().where('id', '=', first.id).executeTakeFirstOrThrow();
    expect(released).toMatchObject({ status: 'queued', lease_owner: null, attempt_count: 1 });
    expect(released.error).toMatch(/exited with code 137/);

    expect(await fleet.launchNeeded()).toBe(1);
    const done = await until('the item done', () =>
      ctx.db.selectFrom('job_scheduler_work_items').selectAll().where('id', '=', first.id).where('status', '=', 'succeeded').executeTakeFirst(),
    );
    expect(done.attempt_count).toBe(2);
    expect(done.worker_guid).not.toBe(first.worker_guid);
    const activity = await ctx.db.selectFrom('activity_history').select(['status', 'stdout']).execute();
    expect(activity).toEqual([{ status: 'Success', stdout: 'second\n' }]);
    await applyRunRollups(ctx.store, { now: Date.now() });
    expect((await ctx.db.selectFrom('scheduled_job_runs').select('status').execute()).map((x) => x.status)).toEqual(['Success']);
  });

  it('a worker whose row the scheduler marked lost stops by itself with exit 1', async () => {
    launcher = createProcessLauncher({ entrypoint: jobyardEntrypoint(), stdio: 'ignore' });
    const fleet = makeFleet(ctx, launcher, { WORKER_IDLE_SECONDS: '60' });
    const now = Date.now();
    const { site } = await siteWithDevices(ctx, 'lima', ['lima-1'], now);
    await insertJob(ctx, now, { targets_json: toJson({ sites: [site.id] }), schedule_type: 'immediately' });
    await tick(ctx.store, { now });
    expect(await fleet.launchNeeded()).toBe(1);
    const row = await until('the worker idle', () =>
      ctx.db.selectFrom('job_scheduler_workers').selectAll().where('status', '=', 'idle').executeTakeFirst(),
    );
    await ctx.db.updateTable('job_scheduler_workers').set({ status: 'lost' }).where('worker_guid', '=', row.worker_guid).execute();
    const exited = await until('the child exited', async () => (await launcher.list()).find((w) => !w.running), 15_000);
    expect(exited.exitCode).toBe(1);
  });
});

/**
 * End-to-end fleet scenarios shared by the process and docker launcher suites: the scheduler's
 * Fleet (in the test process) launches real workers (`jobyard worker`) that run real executors
 * against the test database; the test only ticks, reconciles and kills.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, it } from 'vitest';
import { toJson } from '../../src/db/dialect.js';
import { Fleet } from '../../src/fleet/fleet.js';
import type { WorkerLauncher } from '../../src/fleet/launcher.js';
import { silentLogger } from '../../src/log.js';
import { applyRunRollups } from '../../src/schedule/rollup.js';
import { tick } from '../../src/schedule/ticker.js';
import { siteWithDevices } from '../fixtures/executors/executor-helpers.js';
import { insertJob } from '../helpers/jobs.js';
import type { BackendContext } from '../helpers/backends.js';

export async function until<T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Stops every worker of the launcher still running (1 s grace) and removes them all. */
export async function stopAndRemoveWorkers(launcher: WorkerLauncher): Promise<void> {
  for (const w of await launcher.list()) {
    if (w.running) await launcher.stop(w.workerGuid, { graceMs: 1_000 });
    await launcher.remove(w.workerGuid);
  }
}

/**
 * One site (`alpha`, one device) with an immediate job ticked into one work item, and a Fleet on
 * `launcher` that keeps at most one worker per site (workers idle 1 s): a launch's whole setting.
 */
export async function siteWithDueItem(ctx: BackendContext, launcher: WorkerLauncher) {
  const now = Date.now();
  const { site } = await siteWithDevices(ctx, 'alpha', ['alpha-1'], now);
  await insertJob(ctx.db, {
    at: now,
    name: 'on a spare',
    components_json: toJson([{ kind: 'command', name: 'hello', argv: ['node', '-e', 'console.log("hi")'] }]),
    targets_json: toJson({ sites: [site.id] }),
    schedule_type: 'immediately',
  });
  await tick(ctx.store, { now });
  const fleet = new Fleet({
    store: ctx.store,
    launcher,
    logger: silentLogger,
    workerEnv: { DATABASE_URL: ctx.url, WORKER_IDLE_SECONDS: '1', LOG_LEVEL: 'warn' },
    maxWorkersPerSite: 1,
    staleAfterMs: 30_000,
    historyMs: 60_000,
  });
  return { site, fleet };
}

export interface FleetScenarioOptions {
  ctx: BackendContext;
  /** The launcher under test (called once per scenario). */
  launcher: () => WorkerLauncher;
  /** Environment for workers besides DATABASE_URL (e.g. WORKER_IDLE_SECONDS). */
  workerEnv?: Record<string, string>;
  /** kill -9 of one worker, by guid. */
  kill: (launcher: WorkerLauncher, workerGuid: string) => Promise<void>;
  /** The launcher's state word for an exited worker. */
  exitedState: string;
}

export function fleetScenarios(o: FleetScenarioOptions): void {
  const { ctx } = o;
  const fleetFor = (launcher: WorkerLauncher, env: Record<string, string> = {}) =>
    new Fleet({
      store: ctx.store,
      launcher,
      logger: silentLogger,
      workerEnv: { DATABASE_URL: ctx.url, WORKER_IDLE_SECONDS: '1', LOG_LEVEL: 'warn', ...o.workerEnv, ...env },
      maxWorkersPerSite: 1,
      staleAfterMs: 30_000,
      historyMs: 60_000,
    });

  it('one worker per site claims, executes, records and exits 0 when idle; rows pass starting → running → idle → stopped', async () => {
    const launcher = o.launcher();
    // Looks at the worker's row at the moment the launcher is asked to start it: the row must
    // already be committed as `starting` (a worker that boots fast can be `running` a moment
    // later, so the check belongs here, not after launchNeeded returns).
    const statusAtLaunch = new Map<string, string | undefined>();
    const launch = launcher.launch.bind(launcher);
    launcher.launch = async (spec) => {
      const row = await ctx.db.selectFrom('job_scheduler_workers').select('status').where('worker_guid', '=', spec.workerGuid).executeTakeFirst();
      statusAtLaunch.set(spec.workerGuid, row?.status);
      return launch(spec);
    };
    const fleet = fleetFor(launcher);
    try {
      const now = Date.now();
      const sites = [];
      for (const name of ['alpha', 'beta', 'gamma']) sites.push((await siteWithDevices(ctx, name, [`${name}-1`, `${name}-2`], now)).site);
      // 400 ms per target, so `running` is long enough to be seen by a 20 ms poll.
      const script = 'setTimeout(() => console.log("hi from " + process.env.JOBYARD_TARGET_HOSTNAME), 400)';
      const job = await insertJob(ctx.db, {
        at: now,
        name: 'three sites',
        components_json: toJson([{ kind: 'command', name: 'hello', argv: ['node', '-e', script] }]),
        targets_json: toJson({ sites: sites.map((s) => s.id) }),
        schedule_type: 'immediately',
      });
      await tick(ctx.store, { now });
      expect(await fleet.launchNeeded()).toBe(3);

      // Each worker's observed statuses, starting with the one its row had at launch.
      const seen = new Map([...statusAtLaunch].map(([guid, status]) => [guid, [status ?? 'missing']]));
      const record = async () => {
        const rows = await ctx.db.selectFrom('job_scheduler_workers').select(['worker_guid', 'status']).execute();
        for (const r of rows) {
          const statuses = seen.get(r.worker_guid) ?? [];
          if (statuses.at(-1) !== r.status) statuses.push(r.status);
          seen.set(r.worker_guid, statuses);
        }
        return rows;
      };
      // Every row was committed as `starting` before its worker was started.
      expect([...statusAtLaunch.values()]).toEqual(['starting', 'starting', 'starting']);
      const first = await record();
      expect(first.map((r) => r.worker_guid).sort()).toEqual([...statusAtLaunch.keys()].sort());
      // A second round launches nothing: every site already has its live worker.
      expect(await fleet.launchNeeded()).toBe(0);
      await until('every worker stopped', async () => (await record()).every((r) => r.status === 'stopped'));
      for (const statuses of seen.values()) {
        expect(statuses[0]).toBe('starting');
        expect(statuses).toContain('running');
        expect(statuses.at(-1)).toBe('stopped');
        expect(statuses.at(-2)).toBe('idle');
      }
      await until('every worker exited', async () => (await launcher.list()).every((w) => !w.running));
      for (const w of await launcher.list()) expect(w.exitCode).toBe(0);

      const rows = await ctx.db.selectFrom('job_scheduler_workers').selectAll().execute();
      expect(rows.map((r) => r.site_id).sort()).toEqual(sites.map((s) => s.id).sort());
      for (const r of rows) {
        expect(r).toMatchObject({ status: 'stopped', claimed_count: 1, container_name: `site-worker-${r.worker_guid}`, current_lanes_json: ['*'] });
        expect(r.started_at).not.toBeNull();
        expect(r.stopped_at).toBeGreaterThanOrEqual(r.started_at!);
        expect(r.task_links_json).toEqual([]);
      }
      const items = await ctx.db.selectFrom('job_scheduler_work_items').selectAll().execute();
      expect(items).toHaveLength(3);
      for (const item of items) {
        expect(item.status).toBe('succeeded');
        expect(rows.find((w) => w.worker_guid === item.worker_guid)?.site_id).toBe(item.site_id);
      }
      // Two targets × one component at each of three sites.
      const activity = await ctx.db.selectFrom('activity_history').select(['status', 'stdout']).execute();
      expect(activity).toHaveLength(6);
      for (const a of activity) expect(a).toMatchObject({ status: 'Success', stdout: expect.stringMatching(/^hi from (alpha|beta|gamma)-[12]\n$/) });
      await applyRunRollups(ctx.store, { now: Date.now() });
      const runs = await ctx.db.selectFrom('scheduled_job_runs').select('status').where('job_id', '=', job.id).execute();
      expect(runs.map((r) => r.status)).toEqual(['Success']);

      // Reconcile records the exit codes and removes the exited workers; the rows stay for the history window.
      const r = await fleet.reconcile();
      expect(r.lost).toEqual([]);
      expect(r.removed).toHaveLength(3);
      expect(await launcher.list()).toEqual([]);
      for (const w of await ctx.db.selectFrom('job_scheduler_workers').selectAll().execute()) expect(w.exit_code).toBe(0);
    } finally {
      await cleanUp(launcher);
    }
  });

  it('kill -9 mid-item: the worker is lost (exit 137), its item is released at once and completed exactly once by the next worker', async () => {
    const launcher = o.launcher();
    const fleet = fleetFor(launcher);
    // The component calls this server: the first request hangs (the worker is killed meanwhile),
    // the next one answers.
    let requests = 0;
    const server = await listen((_req, res) => {
      requests++;
      if (requests > 1) res.end('second');
    });
    try {
      const now = Date.now();
      const { site } = await siteWithDevices(ctx, 'kilo', ['kilo-1'], now);
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      await insertJob(ctx.db, {
        at: now,
        name: 'hangs once',
        components_json: toJson([{ kind: 'http', url, timeout_seconds: 120 }]),
        targets_json: toJson({ sites: [site.id] }),
        schedule_type: 'immediately',
      });
      await tick(ctx.store, { now });
      expect(await fleet.launchNeeded()).toBe(1);
      const first = await until('the item running', () =>
        ctx.db.selectFrom('job_scheduler_work_items').selectAll().where('status', '=', 'running').executeTakeFirst(),
      );
      expect(first.lease_owner).toBe(first.worker_guid);
      await until('the first request', async () => requests === 1);
      await o.kill(launcher, first.worker_guid!);
      await until('the worker gone', async () => (await launcher.list()).every((w) => !w.running));

      const r = await fleet.reconcile();
      expect(r.lost).toEqual([first.worker_guid]);
      const lost = await ctx.db.selectFrom('job_scheduler_workers').selectAll().where('worker_guid', '=', first.worker_guid).executeTakeFirstOrThrow();
      expect(lost).toMatchObject({ status: 'lost', exit_code: 137, docker_state: o.exitedState });
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
      expect(requests).toBe(2);
      const activity = await ctx.db.selectFrom('activity_history').select('status').execute();
      expect(activity).toEqual([{ status: 'Success' }]);
      await applyRunRollups(ctx.store, { now: Date.now() });
      expect((await ctx.db.selectFrom('scheduled_job_runs').select('status').execute()).map((x) => x.status)).toEqual(['Success']);
    } finally {
      server.closeAllConnections();
      server.close();
      await cleanUp(launcher);
    }
  });

  it('a worker whose row was declared lost stops by itself with exit 1', async () => {
    const launcher = o.launcher();
    const fleet = fleetFor(launcher, { WORKER_IDLE_SECONDS: '60' });
    try {
      const now = Date.now();
      const { site } = await siteWithDevices(ctx, 'lima', ['lima-1'], now);
      await insertJob(ctx.db, { at: now, targets_json: toJson({ sites: [site.id] }), schedule_type: 'immediately' });
      await tick(ctx.store, { now });
      expect(await fleet.launchNeeded()).toBe(1);
      const row = await until('the worker idle', () =>
        ctx.db.selectFrom('job_scheduler_workers').selectAll().where('status', '=', 'idle').executeTakeFirst(),
      );
      await ctx.db.updateTable('job_scheduler_workers').set({ status: 'lost' }).where('worker_guid', '=', row.worker_guid).execute();
      const exited = await until('the worker exited', async () => (await launcher.list()).find((w) => !w.running), 15_000);
      expect(exited.exitCode).toBe(1);
    } finally {
      await cleanUp(launcher);
    }
  });

  async function cleanUp(launcher: WorkerLauncher): Promise<void> {
    await stopAndRemoveWorkers(launcher);
    await launcher.close();
    await ctx.truncateAll();
  }
}

function listen(handler: Parameters<typeof createServer>[1]): Promise<Server> {
  const server = createServer(handler);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

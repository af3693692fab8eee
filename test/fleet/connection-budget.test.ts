/**
 * The connection budget on both backends: a site worker's pool follows its concurrency, and the
 * fleet launches only as many workers as DB_CONNECTION_BUDGET fits on PostgreSQL, refusing the
 * next with a clear log line and pausing that site. SQLite has no server connection limit, so
 * the budget is ignored there.
 */
import { afterEach, expect, it } from 'vitest';
import { defaultConnectionBudget, readServerConnectionLimit, resolveConnectionBudget } from '../../src/db/connection-budget.js';
import { openDatabase } from '../../src/db/open.js';
import { workerPoolMax } from '../../src/db/pool-profile.js';
import { Fleet } from '../../src/fleet/fleet.js';
import type { ObservedWorker, WorkerLauncher, WorkerSpec } from '../../src/fleet/launcher.js';
import { createSite } from '../../src/inventory/sites.js';
import { createLogger } from '../../src/log.js';
import { enqueueWorkItems } from '../../src/queue/index.js';
import { describeBackends } from '../helpers/backends.js';

type LogLine = Record<string, unknown> & { msg: string };

function capturingLogger() {
  const lines: LogLine[] = [];
  const logger = createLogger({ level: 'info', pretty: false, destination: { write: (l: string) => void lines.push(JSON.parse(l) as LogLine) } });
  return { logger, lines };
}

/** Records launches; the real launchers are exercised in process-launcher / docker tests. */
function recordingLauncher(): WorkerLauncher & { launched: WorkerSpec[] } {
  const launched: WorkerSpec[] = [];
  return {
    kind: 'process',
    launched,
    async launch(spec) {
      launched.push(spec);
    },
    async list(): Promise<ObservedWorker[]> {
      return launched.map((s) => ({ workerGuid: s.workerGuid, containerName: s.containerName, siteId: s.siteId, running: true, state: 'running', exitCode: null }));
    },
    async stop() {},
    async remove() {},
    async close() {},
  };
}

describeBackends('connection budget', (ctx) => {
  afterEach(() => ctx.truncateAll());

  it("a site worker's pool max follows its concurrency and lanes, and its maximum is logged at open", async () => {
    expect(workerPoolMax(7, 1)).toBe(9);
    expect(workerPoolMax(3, 2)).toBe(8);
    const { logger, lines } = capturingLogger();
    const store = openDatabase(ctx.url, { logger, poolMax: workerPoolMax(3, 1), host: { vcpus: 64, memoryBytes: 256 * 1024 ** 3 } });
    try {
      expect(store.pool.poolMax).toBe(5);
      const opened = lines.find((l) => l.msg === 'database opened')!;
      // The pool plus the wake-up listener; SQLite has one connection per process.
      expect(opened.maxConnections).toBe(store.dialect.capabilities.multipleConnections ? 6 : 1);
    } finally {
      await store.close();
    }
  });

  it('the default budget is max_connections minus the superuser and operator reserves; DB_CONNECTION_BUDGET overrides it', async () => {
    const limit = await readServerConnectionLimit(ctx.store);
    if (!ctx.store.dialect.capabilities.connectionBudget) {
      expect(limit).toBeNull();
      expect(await resolveConnectionBudget(ctx.store, 40)).toBeUndefined();
      return;
    }
    expect(limit!.maxConnections).toBeGreaterThan(limit!.superuserReserved);
    expect(defaultConnectionBudget(limit!)).toBe(Math.max(1, limit!.maxConnections - limit!.superuserReserved - 10));
    expect(await resolveConnectionBudget(ctx.store, undefined)).toBe(defaultConnectionBudget(limit!));
    expect(await resolveConnectionBudget(ctx.store, 40)).toBe(40);
  });

  it('launches the workers the budget fits, then refuses the next with a clear line and pauses its site', async () => {
    let clock = Date.UTC(2099, 0, 1);
    const { logger, lines } = capturingLogger();
    const launcher = recordingLauncher();
    // Room for the scheduler (21) and two workers of 10: 41 fits two, not three.
    const connectionBudget = { limit: 41, perWorker: 10, reserved: 21 };
    const fleet = new Fleet({ store: ctx.store, launcher, logger, workerEnv: {}, maxWorkers: 20, connectionBudget, clock: () => clock });
    for (const name of ['a', 'b', 'c']) {
      const site = await createSite(ctx.store, { name }, clock);
      await enqueueWorkItems(ctx.store, [{ kind: 'scheduled_run', siteId: site.id, payload: {} }], { now: clock });
    }
    const launched = await fleet.launchNeeded();
    if (!ctx.store.dialect.capabilities.connectionBudget) {
      expect(launched).toBe(3); // SQLite: no server connection limit to budget for
      expect(lines.filter((l) => l.msg.includes('DB_CONNECTION_BUDGET'))).toEqual([]);
      return;
    }
    expect(launched).toBe(2);
    const refusals = lines.filter((l) => l.msg.startsWith('site worker not launched'));
    expect(refusals).toHaveLength(1);
    const refusedSite = refusals[0]!.siteId;
    expect(launcher.launched.map((s) => s.siteId)).not.toContain(refusedSite);
    expect(refusals[0]).toMatchObject({ level: 50, budget: 41, perWorker: 10, reserved: 21, workersThatFit: 2, retryInMs: 5_000 });
    expect(refusals[0]!.msg).toContain('DB_CONNECTION_BUDGET 41 fits 2 site workers of 10 connections after 21 for schedulers');
    // Nothing was written for the refused worker.
    expect(await ctx.db.selectFrom('job_scheduler_workers').select('site_id').execute()).toHaveLength(2);

    // Paused: with room again (the other sites done, their workers gone), the refused site waits
    // out its pause instead of retrying every round.
    await ctx.db.deleteFrom('job_scheduler_work_items').where('site_id', '!=', refusedSite as number).execute();
    await ctx.db.updateTable('job_scheduler_workers').set({ status: 'stopped' }).execute();
    clock += 4_000;
    expect(await fleet.launchNeeded()).toBe(0);
    clock += 1_500;
    expect(await fleet.launchNeeded()).toBe(1);
    expect(launcher.launched.at(-1)!.siteId).toBe(refusedSite);
  });
});

/**
 * The fleet's launch decisions on both backends: caps per site and in all, the row written
 * before launch, and the pause after a failed launch. The launcher here records calls and can be
 * told to fail; real launchers are exercised in process-launcher / docker-fleet tests.
 */
import { afterEach, expect, it } from 'vitest';
import { Fleet } from '../../src/fleet/fleet.js';
import type { ObservedWorker, WorkerLauncher, WorkerSpec } from '../../src/fleet/launcher.js';
import { createSite } from '../../src/inventory/sites.js';
import { silentLogger } from '../../src/log.js';
import { claimWorkItems, enqueueWorkItems } from '../../src/queue/index.js';
import { describeBackends } from '../helpers/backends.js';

function recordingLauncher(
  ctx: { failWith?: string | undefined; rowsAtLaunch: string[]; itemsAtStop?: string[] },
  statusOf: (guid: string) => Promise<string | undefined>,
  itemsOf: (guid: string) => Promise<string[]> = async () => [],
): WorkerLauncher & { launched: WorkerSpec[] } {
  const launched: WorkerSpec[] = [];
  return {
    kind: 'process',
    launched,
    async launch(spec) {
      ctx.rowsAtLaunch.push((await statusOf(spec.workerGuid)) ?? 'missing');
      if (ctx.failWith) throw new Error(ctx.failWith);
      launched.push(spec);
    },
    async list(): Promise<ObservedWorker[]> {
      return launched.map((s) => ({ workerGuid: s.workerGuid, containerName: s.containerName, siteId: s.siteId, running: true, state: 'running', exitCode: null }));
    },
    async stop(guid) {
      // What the worker's items looked like when it was stopped.
      ctx.itemsAtStop?.push(...(await itemsOf(guid)));
    },
    async remove() {},
    async close() {},
  };
}

describeBackends('fleet launch decisions', (ctx) => {
  afterEach(() => ctx.truncateAll());

  async function siteWithWork(name: string, items: number, now: number) {
    const site = await createSite(ctx.store, { name }, now);
    await enqueueWorkItems(ctx.store, Array.from({ length: items }, () => ({ kind: 'scheduled_run', siteId: site.id, payload: {} })), { now });
    return site;
  }

  it('writes the starting row before launching, one worker per site, within the global cap', async () => {
    let clock = Date.now();
    const state = { rowsAtLaunch: [] as string[] };
    const launcher = recordingLauncher(state, async (guid) =>
      (await ctx.db.selectFrom('job_scheduler_workers').select('status').where('worker_guid', '=', guid).executeTakeFirst())?.status,
    );
    const fleet = new Fleet({ store: ctx.store, launcher, logger: silentLogger, workerEnv: { DATABASE_URL: ctx.url }, maxWorkersPerSite: 1, maxWorkers: 2, clock: () => clock });
    for (const name of ['a', 'b', 'c']) await siteWithWork(name, 3, clock);
    expect(await fleet.launchNeeded()).toBe(2);
    expect(state.rowsAtLaunch).toEqual(['starting', 'starting']);
    expect(new Set(launcher.launched.map((s) => s.siteId)).size).toBe(2);
    for (const s of launcher.launched) expect(s.env).toMatchObject({ DATABASE_URL: ctx.url, WORKER_GUID: s.workerGuid, CONTAINER_NAME: `site-worker-${s.workerGuid}` });
    clock += 1000;
    expect(await fleet.launchNeeded()).toBe(0); // the global cap holds
  });

  it('a failed launch marks the row lost and pauses that site (5 s, doubling) instead of retrying every round', async () => {
    let clock = Date.now();
    const state = { rowsAtLaunch: [] as string[], failWith: 'no such image' as string | undefined };
    const launcher = recordingLauncher(state, async () => 'starting');
    const fleet = new Fleet({ store: ctx.store, launcher, logger: silentLogger, workerEnv: {}, clock: () => clock });
    await siteWithWork('flaky', 1, clock);
    expect(await fleet.launchNeeded()).toBe(0);
    const rows = await ctx.db.selectFrom('job_scheduler_workers').selectAll().execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: 'lost', docker_state: 'launch failed: no such image' });
    clock += 4_000;
    expect(await fleet.launchNeeded()).toBe(0);
    expect(state.rowsAtLaunch).toHaveLength(1); // paused: not even tried
    clock += 1_500;
    expect(await fleet.launchNeeded()).toBe(0);
    expect(state.rowsAtLaunch).toHaveLength(2); // tried again after 5 s, failed again
    clock += 9_000;
    expect(await fleet.launchNeeded()).toBe(0);
    expect(state.rowsAtLaunch).toHaveLength(2); // now 10 s
    state.failWith = undefined;
    clock += 1_500;
    expect(await fleet.launchNeeded()).toBe(1);
  });

  it('a lost worker that still runs is stopped before its items are released', async () => {
    let clock = Date.now();
    const state = { rowsAtLaunch: [] as string[], itemsAtStop: [] as string[] };
    const launcher = recordingLauncher(state, async () => 'starting', async (guid) =>
      (await ctx.db.selectFrom('job_scheduler_work_items').select('status').where('lease_owner', '=', guid).execute()).map((i) => i.status),
    );
    const fleet = new Fleet({ store: ctx.store, launcher, logger: silentLogger, workerEnv: {}, staleAfterMs: 30_000, clock: () => clock });
    const site = await siteWithWork('hung', 1, clock);
    expect(await fleet.launchNeeded()).toBe(1);
    const guid = launcher.launched[0]!.workerGuid;
    await ctx.db.updateTable('job_scheduler_workers').set({ status: 'running', last_seen_at: clock }).where('worker_guid', '=', guid).execute();
    expect(await claimWorkItems(ctx.store, { owner: guid, siteId: site.id, limit: 1, leaseSeconds: 600, now: clock })).toHaveLength(1);
    clock += 31_000; // its heartbeat is stale, but the launcher still sees it running
    expect((await fleet.reconcile()).lost).toEqual([guid]);
    expect(state.itemsAtStop).toEqual(['running']); // still its own when it was stopped
    const item = await ctx.db.selectFrom('job_scheduler_work_items').selectAll().executeTakeFirstOrThrow();
    expect(item).toMatchObject({ status: 'queued', lease_owner: null });
  });
});

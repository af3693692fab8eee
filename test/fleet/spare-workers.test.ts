/**
 * Spare site workers (process launcher, WORKER_SPARES): processes booted ahead that become a
 * site's worker when the fleet launches one. The fleet scenarios run on a launcher with a spare
 * (process-launcher.test.ts runs them without); the spare's own life is tested here. Both backends.
 */
import { expect, it } from 'vitest';
import { createProcessLauncher, type ProcessLauncher } from '../../src/fleet/process-launcher.js';
import { jobyardEntrypoint } from '../../src/fleet/select-launcher.js';
import { describeBackends } from '../helpers/backends.js';
import { fleetScenarios, siteWithDueItem, stopAndRemoveWorkers, until } from './scenarios.js';

const spareLauncher = () => createProcessLauncher({ entrypoint: jobyardEntrypoint(), stdio: 'ignore', spares: 1 });

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describeBackends('site workers from a spare process', (ctx) => {
  fleetScenarios({
    ctx,
    launcher: spareLauncher,
    exitedState: 'exited',
    async kill(launcher, workerGuid) {
      const child = (await launcher.list()).find((w) => w.workerGuid === workerGuid);
      process.kill(child!.pid!, 'SIGKILL');
    },
  });

  const withLauncher = async (test: (launcher: ProcessLauncher) => Promise<void>) => {
    const launcher = spareLauncher();
    try {
      await test(launcher);
    } finally {
      await stopAndRemoveWorkers(launcher);
      await launcher.close();
      await ctx.truncateAll();
    }
  };

  it('a launch hands the waiting spare its site, and a new spare takes its place', () =>
    withLauncher(async (launcher) => {
      const [spare] = launcher.sparePids();
      expect(spare).toBeDefined();
      const { site, fleet } = await siteWithDueItem(ctx, launcher);
      expect(await fleet.launchNeeded()).toBe(1);
      // The worker is the spare process itself, and the pool is refilled with another one.
      const [worker] = await launcher.list();
      expect(worker!.pid).toBe(spare);
      expect(launcher.sparePids()).toHaveLength(1);
      expect(launcher.sparePids()[0]).not.toBe(spare);
      await until('the worker exited after idling', async () => (await launcher.list()).every((w) => !w.running));
      expect((await launcher.list())[0]!.exitCode).toBe(0);
      const row = await ctx.db.selectFrom('job_scheduler_workers').selectAll().executeTakeFirstOrThrow();
      expect(row).toMatchObject({ worker_guid: worker!.workerGuid, site_id: site.id, status: 'stopped', claimed_count: 1 });
      const items = await ctx.db.selectFrom('job_scheduler_work_items').select(['status', 'worker_guid']).execute();
      expect(items).toEqual([{ status: 'succeeded', worker_guid: worker!.workerGuid }]);
    }));

  it('a spare killed with -9 before any launch is replaced', () =>
    withLauncher(async (launcher) => {
      const [first] = launcher.sparePids();
      process.kill(first!, 'SIGKILL');
      const [next] = await until('a new spare', async () => {
        const pids = launcher.sparePids();
        return pids.length === 1 && pids[0] !== first ? pids : undefined;
      });
      expect(alive(next!)).toBe(true);
    }));

  it('closing the launcher ends its spares and starts no more', () =>
    withLauncher(async (launcher) => {
      const [spare] = launcher.sparePids();
      await launcher.close();
      expect(launcher.sparePids()).toEqual([]);
      await until('the spare exited', async () => !alive(spare!));
    }));
});

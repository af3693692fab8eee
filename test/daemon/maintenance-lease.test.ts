/**
 * Maintenance without a herd: reclaim, prune and rollup run on one scheduler replica per interval,
 * however many run at once. A compare-and-set on the task's row decides (one statement, no lock
 * held across work), on both backends.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import Dockerode from 'dockerode';
import { SchedulerService } from '../../src/daemon/scheduler.js';
import { jittered, takeMaintenanceTurn, turnLengthMs, type MaintenanceTask } from '../../src/daemon/maintenance-lease.js';
import { silentLogger } from '../../src/log.js';
import { describeBackends } from '../helpers/backends.js';

const T0 = 4_070_908_800_000; // 2099-01-01

describe('turns and jitter (pure)', () => {
  it('a turn is the interval less its jitter, so a lone replica coming back early still gets every turn', () => {
    expect(turnLengthMs(5_000, 0.2)).toBe(4_000);
    expect(turnLengthMs(5_000, 0)).toBe(5_000);
  });

  it('jittered intervals stay within interval × [1 − jitter, 1 + jitter)', () => {
    expect(jittered(1_000, 0.2, () => 0)).toBe(800);
    expect(jittered(1_000, 0.2, () => 0.5)).toBe(1_000);
    expect(jittered(1_000, 0.2, () => 0.999)).toBeLessThan(1_200);
    expect(jittered(1_000, 0, () => 0.9)).toBe(1_000);
  });
});

describeBackends('maintenance turns', (ctx) => {
  beforeEach(() => ctx.truncateAll());

  it('three runners asking at the same moment: exactly one gets the turn, the next one after it ends', async () => {
    const stores = [ctx.store, ctx.open(), ctx.open()];
    const ask = (now: number) => Promise.all(stores.map((s, i) => takeMaintenanceTurn(s, 'reclaim', 1_000, `r${i}`, { now })));
    for (const now of [T0, T0 + 1_000, T0 + 2_500]) {
      expect((await ask(now)).filter(Boolean)).toHaveLength(1);
      expect((await ask(now + 999)).filter(Boolean)).toHaveLength(0);
    }
    // Tasks are independent.
    expect(await takeMaintenanceTurn(ctx.store, 'prune', 1_000, 'r0', { now: T0 + 2_600 })).toBe(true);
    const rows = await ctx.db.selectFrom('maintenance_leases').selectAll().orderBy('task').execute();
    expect(rows.map((r) => [r.task, r.next_due_at])).toEqual([
      ['prune', T0 + 3_600],
      ['reclaim', T0 + 3_500],
    ]);
  });

  describe('three scheduler replicas running at once', () => {
    const schedulers: SchedulerService[] = [];
    afterEach(async () => {
      for (const s of schedulers.splice(0)) await s.stop();
    });

    it('do each shared task (reclaim, prune, run rollup, minute rollup, service snapshots) at most once per turn between them (counted per replica), without errors', async () => {
      const INTERVAL = 200;
      const JITTER = 0.2;
      const counts = new Map<string, number>();
      const stores = [ctx.store, ctx.open(), ctx.open()];
      const start = Date.now();
      stores.forEach((store, i) => {
        schedulers.push(
          new SchedulerService({
            store,
            logger: silentLogger,
            tickIntervalMs: INTERVAL,
            reclaimIntervalMs: INTERVAL,
            pruneIntervalMs: INTERVAL,
            minuteRollupIntervalMs: INTERVAL,
            // No engine answers here: the snapshot pass finds none and pauses, but its turn is
            // still taken and counted like any other shared task.
            services: { docker: new Dockerode({ socketPath: '/nonexistent/docker.sock' }), allow: new Set(), snapshotIntervalMs: INTERVAL },
            maintenanceJitter: JITTER,
            replicaId: `replica-${i}`,
            onMaintenance: (task: MaintenanceTask) => counts.set(`${task}/${i}`, (counts.get(`${task}/${i}`) ?? 0) + 1),
          }).start(),
        );
      });
      // A span to observe (not a wait for an event): about 15 intervals.
      await new Promise((r) => setTimeout(r, 3_000));
      const running = schedulers.splice(0);
      for (const s of running) await s.stop();
      const elapsed = Date.now() - start;
      const turn = turnLengthMs(INTERVAL, JITTER);
      for (const task of ['reclaim', 'prune', 'rollup', 'minute-rollup', 'service-snapshots']) {
        const perReplica = [0, 1, 2].map((i) => counts.get(`${task}/${i}`) ?? 0);
        const total = perReplica.reduce((a, b) => a + b, 0);
        // Without turns each replica would run it every interval: about 3 × elapsed / interval.
        expect(total, `${task}: ${perReplica.join('+')}`).toBeLessThanOrEqual(Math.floor(elapsed / turn) + 1);
        expect(total, `${task}: ${perReplica.join('+')}`).toBeGreaterThanOrEqual(1);
      }
      const loops = running.flatMap((s) => s.loops);
      // Each replica runs the same loops (no fleet here): tick, reclaim, prune, the minute rollup
      // and service snapshots.
      expect(loops.map((l) => l.name).sort()).toEqual(['minute-rollup', 'prune', 'reclaim', 'service-snapshots', 'tick'].flatMap((n) => [n, n, n]));
      expect(loops.filter((l) => l.lastError !== null)).toEqual([]);
    });
  });
});

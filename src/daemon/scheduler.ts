/**
 * The scheduler service (`jobyard scheduler`): small loops on one store.
 * - tick: fire due occurrences (src/schedule/ticker.ts), then roll up finished runs;
 * - reclaim: return expired leases to the queue;
 * - prune: delete finished work items past their retention, in bounded batches, and audit rows
 *   past AUDIT_RETENTION_DAYS.
 * - fleet / reconcile (when a launcher is configured): launch site workers where work waits
 *   (woken by new work, not only by the interval); mark lost workers and release their items.
 * - service actions (a queue consumer of `service_action` items) and service snapshots.
 * The HTTP server is started beside it by src/cli/scheduler.ts and reads `lastTick`.
 */
import { randomUUID } from 'node:crypto';
import type { Store } from '../db/open.js';
import type Dockerode from 'dockerode';
import type { Fleet } from '../fleet/fleet.js';
import type { SchedulerMetrics } from '../http/metrics.js';
import type { Logger } from '../log.js';
import { pruneAudit } from '../audit/audit-log.js';
import { pruneFinishedWorkItems, DEFAULT_RETENTION_MS } from '../queue/admin.js';
import { reclaimExpiredLeases } from '../queue/reclaim.js';
import type { QueueRuntime } from '../queue/runtime.js';
import { startServiceActionConsumer } from '../services/consumer.js';
import { createServiceSnapshotter } from '../services/snapshots.js';
import { acquireWakeups, type WakeupTicket } from '../queue/wakeup.js';
import { applyRunRollups } from '../schedule/rollup.js';
import { tick, type TickSummary } from '../schedule/ticker.js';
import { PeriodicLoop } from './loop.js';
import { takeMaintenanceTurn, turnLengthMs, type MaintenanceTask } from './maintenance-lease.js';
import { pruneRollup, rollUpMinutes } from '../queue/minute-rollup.js';

export const DEFAULT_AUDIT_RETENTION_MS = 90 * 86_400_000;

export interface SchedulerOptions {
  store: Store;
  logger: Logger;
  tickIntervalMs?: number;
  reclaimIntervalMs?: number;
  pruneIntervalMs?: number;
  retentionMs?: number;
  /** Per-minute chart rollup: how long rows are kept (default 30 days); 0 turns the rollup loop off. */
  rollupRetentionMs?: number;
  /** Audit rows are deleted after this (default 90 days). */
  auditRetentionMs?: number;
  misfireGraceMs?: number;
  offlineAfterMs?: number;
  /** The clock; tests pass a fake one. */
  clock?: () => number;
  /** Site workers: launched where work waits, reconciled with what the launcher sees. */
  fleet?: Fleet;
  /** Tick durations and lease reclaims are reported here (the HTTP server's /metrics). */
  metrics?: SchedulerMetrics;
  /** Service actions (consumed here, never by site workers) and service snapshots. */
  services?: {
    docker: Dockerode;
    allow: ReadonlySet<string>;
    concurrency?: number;
    stopTimeoutSeconds?: number;
    /** 0 turns snapshots off (default 15 s). */
    snapshotIntervalMs?: number;
  };
  fleetIntervalMs?: number;
  reconcileIntervalMs?: number;
  /** How often the dashboard's per-minute rollup is brought up to date (default 60 s). */
  minuteRollupIntervalMs?: number;
  /** Maintenance intervals vary by ± this fraction (default 0.2; MAINTENANCE_JITTER). */
  maintenanceJitter?: number;
  /** This replica's name in maintenance_leases.holder (default: random). */
  replicaId?: string;
  /** Called each time this replica runs a shared maintenance task (tests count turns). */
  onMaintenance?: (task: MaintenanceTask) => void;
}

export class SchedulerService {
  readonly loops: PeriodicLoop[];
  lastTick: (TickSummary & { at: number }) | null = null;
  readonly tickIntervalMs: number;

  constructor(private readonly options: SchedulerOptions) {
    const { store, logger } = options;
    // The database's clock on PostgreSQL (src/db/clock.ts), so replicas agree on what is due.
    const clock = options.clock ?? (() => store.clock.now());
    this.tickIntervalMs = options.tickIntervalMs ?? 1000;
    const jitter = options.maintenanceJitter ?? 0.2;
    const replica = options.replicaId ?? `scheduler-${randomUUID()}`;
    // Shared tasks run on one replica per interval (maintenance-lease.ts); the rest skip the turn.
    const turn = async (task: MaintenanceTask, intervalMs: number) => {
      const mine = await takeMaintenanceTurn(store, task, turnLengthMs(intervalMs, jitter), replica, { now: clock() });
      if (mine) options.onMaintenance?.(task);
      return mine;
    };
    const tickLoop = new PeriodicLoop(
      'tick',
      this.tickIntervalMs,
      async () => {
        const now = clock();
        const summary = await tick(store, {
          now,
          logger,
          ...(options.misfireGraceMs !== undefined ? { misfireGraceMs: options.misfireGraceMs } : {}),
          ...(options.offlineAfterMs !== undefined ? { offlineAfterMs: options.offlineAfterMs } : {}),
        });
        this.lastTick = { ...summary, at: now };
        options.metrics?.observeTick(summary);
        if (summary.runs > 0 || summary.lostRaces > 0) logger.info({ ...summary }, 'tick');
        if (!(await turn('rollup', this.tickIntervalMs))) return;
        const finalised = await applyRunRollups(store, { now: clock() });
        if (finalised > 0) logger.info({ runs: finalised }, 'runs finalised');
      },
      logger,
    );
    const reclaimMs = options.reclaimIntervalMs ?? 5_000;
    const reclaimLoop = new PeriodicLoop(
      'reclaim',
      reclaimMs,
      async () => {
        if (!(await turn('reclaim', reclaimMs))) return;
        const r = await reclaimExpiredLeases(store, { now: clock() });
        options.metrics?.countLeaseReclaims(r);
        if (r.requeued.length + r.dead.length > 0) logger.warn({ requeued: r.requeued, dead: r.dead }, 'expired leases reclaimed');
      },
      logger,
      jitter,
    );
    const pruneMs = options.pruneIntervalMs ?? 3_600_000;
    const pruneLoop = new PeriodicLoop(
      'prune',
      pruneMs,
      async () => {
        if (!(await turn('prune', pruneMs))) return;
        const now = clock();
        const n = await pruneFinishedWorkItems(store, { now, retentionMs: options.retentionMs ?? DEFAULT_RETENTION_MS });
        if (n > 0) logger.info({ pruned: n }, 'finished work items pruned');
        const audited = await pruneAudit(store.db, now - (options.auditRetentionMs ?? DEFAULT_AUDIT_RETENTION_MS));
        if (audited > 0) logger.info({ pruned: audited }, 'audit rows pruned');
      },
      logger,
      jitter,
    );
    this.loops = [tickLoop, reclaimLoop, pruneLoop];
    const rollupRetentionMs = options.rollupRetentionMs ?? 30 * 86_400_000;
    if (rollupRetentionMs > 0) {
      // The dashboard's charts: finished items per minute, recomputed idempotently (replicas agree).
      const minuteRollupMs = options.minuteRollupIntervalMs ?? 60_000;
      this.loops.push(
        new PeriodicLoop(
          'minute-rollup',
          minuteRollupMs,
          async () => {
            // Idempotent, but N replicas recomputing the same minutes is N times the work.
            if (!(await turn('minute-rollup', minuteRollupMs))) return;
            await rollUpMinutes(store, clock());
            await pruneRollup(store, clock() - rollupRetentionMs);
          },
          logger,
          jitter,
        ),
      );
    }
    const fleet = options.fleet;
    if (fleet) {
      const launchLoop = new PeriodicLoop('fleet', options.fleetIntervalMs ?? 1000, async () => void (await fleet.launchNeeded()), logger);
      const reconcileLoop = new PeriodicLoop(
        'reconcile',
        options.reconcileIntervalMs ?? 5_000,
        async () => {
          const r = await fleet.reconcile();
          if (r.orphansStopped.length > 0) logger.warn({ workers: r.orphansStopped }, 'untracked workers stopped');
        },
        logger,
        // Not a shared turn: each replica must watch the workers it launched (process launcher);
        // its writes are compare-and-set (markWorkerLost), so a lost worker is released once.
        jitter,
      );
      this.loops.push(launchLoop, reconcileLoop);
      this.#fleetWakeups = { launchLoop, intervalMs: options.fleetIntervalMs ?? 1000 };
    }
    const svc = options.services;
    const snapshotMs = svc?.snapshotIntervalMs ?? 15_000;
    if (svc && snapshotMs > 0) {
      const snapshotter = createServiceSnapshotter({ store, docker: svc.docker, logger });
      // One replica per interval writes the snapshot: replicas configured with the engine see the
      // same compose project, so a second writer would only repeat the first's rows.
      this.loops.push(
        new PeriodicLoop(
          'service-snapshots',
          snapshotMs,
          async () => {
            if (await turn('service-snapshots', snapshotMs)) await snapshotter.run(clock());
          },
          logger,
          jitter,
        ),
      );
    }
  }

  #serviceActions: QueueRuntime | undefined;

  #fleetWakeups: { launchLoop: PeriodicLoop; intervalMs: number } | undefined;
  #stopWatching: (() => Promise<void>) | undefined;

  /**
   * Wakes the launch loop as soon as work is enqueued (here, by another process's NOTIFY, or a
   * SQLite commit), so a site with no worker gets one within milliseconds, not at the next poll.
   */
  #watchForWork(): void {
    const w = this.#fleetWakeups;
    if (!w) return;
    const wakeups = acquireWakeups(this.options.store, this.options.logger);
    let stopped = false;
    let current: WakeupTicket | undefined;
    const watching = (async () => {
      while (!stopped) {
        current = wakeups.ticket(undefined);
        await current.wait(w.intervalMs);
        const woken = current.woken;
        current.dispose();
        if (woken && !stopped) w.launchLoop.poke();
      }
    })();
    this.#stopWatching = async () => {
      stopped = true;
      current?.dispose();
      await watching;
      wakeups.release();
    };
  }

  start(): this {
    for (const loop of this.loops) loop.start();
    const s = this.options.services;
    // Started even with an empty allow-list, so queued actions fail with a clear error
    // instead of waiting forever.
    if (s) {
      this.#serviceActions = startServiceActionConsumer({
        store: this.options.store,
        logger: this.options.logger,
        docker: s.docker,
        allow: s.allow,
        ...(s.concurrency ? { concurrency: s.concurrency } : {}),
        ...(s.stopTimeoutSeconds !== undefined ? { stopTimeoutSeconds: s.stopTimeoutSeconds } : {}),
      });
    }
    this.#watchForWork();
    this.options.logger.info({ tickIntervalMs: this.tickIntervalMs }, 'scheduler started');
    return this;
  }

  async stop(): Promise<void> {
    await this.#stopWatching?.();
    await this.#serviceActions?.stop();
    await Promise.all(this.loops.map((l) => l.stop()));
    this.options.logger.info('scheduler stopped');
  }
}

/**
 * The scheduler's side of the site workers: launching them where work waits, and reconciling
 * what the database believes with what the launcher sees.
 *
 * Launch: a site with claimable items and fewer live workers (starting, running, idle) than
 * MAX_WORKERS_PER_SITE gets one, within MAX_WORKERS in all. The `starting` row is committed
 * before the container or process starts. Launch decisions are serialised fleet-wide (an advisory
 * lock on PostgreSQL, the single writer on SQLite), so both caps hold across scheduler replicas.
 *
 * Reconcile: a live row whose worker exited or vanished, whose heartbeat is stale, or that never
 * got past `starting` becomes `lost` (with docker_state and exit_code). Its leased items are
 * released at once rather than after lease expiry when this scheduler's launcher stopped it and its
 * commands (or saw it exit); another host's worker keeps them until their leases expire. Exited workers are removed once their exit
 * code is recorded; labelled workers without a live row are stopped and removed; terminal rows
 * are pruned after WORKER_HISTORY_SECONDS.
 */
import { randomUUID } from 'node:crypto';
import type { Store } from '../db/open.js';
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import { releaseOwner } from '../queue/reclaim.js';
import { sitesWithClaimableWork } from '../queue/stats.js';
import type { ObservedWorker, WorkerLauncher } from './launcher.js';
import { isLiveWorkerStatus, listWorkers, markWorkerLost, pruneEndedWorkers, recordWorkerExit, reserveStartingRow, type ConnectionBudget, type WorkerEnd } from './worker-rows.js';

export interface FleetOptions {
  store: Store;
  launcher: WorkerLauncher;
  logger: Logger;
  /** Environment every worker gets (DATABASE_URL, WORKER_* settings, LOG_LEVEL). */
  workerEnv: Record<string, string>;
  /**
   * Read at each launch, for values that change while the scheduler runs (the derived credentials
   * key once unlocked). Secret-named, so the launchers send them on the worker's stdin.
   */
  workerEnvAtLaunch?: () => Record<string, string>;
  maxWorkersPerSite?: number;
  maxWorkers?: number;
  /** The fleet's connection budget (PostgreSQL); without it only the worker caps apply. */
  connectionBudget?: ConnectionBudget;
  /** A running worker whose row was not refreshed for this long is lost (default 30 s). */
  staleAfterMs?: number;
  /** A worker still `starting` after this long is lost (WORKER_START_SECONDS, default 120 s). */
  startTimeoutMs?: number;
  /** Terminal rows are deleted after this (WORKER_HISTORY_SECONDS, default 60 s). */
  historyMs?: number;
  clock?: () => number;
}

export interface ReconcileResult {
  lost: string[];
  removed: string[];
  orphansStopped: string[];
  pruned: number;
}

export class Fleet {
  /** Workers this scheduler launched: only these can be judged gone by the launcher's view. */
  readonly #launchedHere = new Set<string>();
  /** Sites whose last launch failed: when to try again, and the current pause. */
  readonly #launchBackoff = new Map<number, { retryAt: number; delayMs: number }>();
  readonly #clock: () => number;

  constructor(private readonly options: FleetOptions) {
    // The database's clock on PostgreSQL: worker rows' last_seen_at come from other hosts.
    this.#clock = options.clock ?? (() => options.store.clock.now());
  }

  get launcher(): WorkerLauncher {
    return this.options.launcher;
  }

  /** Launches workers for sites with claimable items; returns how many were launched. */
  async launchNeeded(): Promise<number> {
    const { store } = this.options;
    const now = this.#clock();
    const demand = await sitesWithClaimableWork(store, now);
    if (demand.length === 0) return 0;
    let launched = 0;
    for (const siteId of demand) {
      const backoff = this.#launchBackoff.get(siteId);
      if (backoff && backoff.retryAt > now) continue;
      const spec = await this.#reserve(siteId);
      if (spec === 'over-budget') {
        this.#refuseOverBudget(siteId, now, backoff?.delayMs);
        continue;
      }
      if (!spec) continue;
      try {
        await this.options.launcher.launch(spec);
        this.#launchedHere.add(spec.workerGuid);
        launched++;
        this.options.logger.info({ workerGuid: spec.workerGuid, containerName: spec.containerName, siteId, launcher: this.options.launcher.kind }, 'site worker launched');
      } catch (err) {
        const message = describeError(err);
        // A launch that fails (missing image, engine trouble) is retried for this site after a
        // growing pause (5 s doubling to 5 min), not on every loop round.
        const delayMs = this.#pause(siteId, now, backoff?.delayMs);
        this.options.logger.error({ workerGuid: spec.workerGuid, siteId, err: message, retryInMs: delayMs }, 'site worker launch failed');
        await markWorkerLost(store, spec.workerGuid, { docker_state: `launch failed: ${message}`.slice(0, 500), exit_code: null }, this.#clock());
      }
    }
    return launched;
  }

  /** Pauses launches for this site: 5 s, doubling on each refusal in a row, up to 5 min. */
  #pause(siteId: number, now: number, previousMs: number | undefined): number {
    const delayMs = Math.min((previousMs ?? 2_500) * 2, 300_000);
    this.#launchBackoff.set(siteId, { retryAt: now + delayMs, delayMs });
    return delayMs;
  }

  /** One more worker would pass the connection budget: say why, and pause the site like a failed launch. */
  #refuseOverBudget(siteId: number, now: number, previousMs: number | undefined): void {
    const budget = this.options.connectionBudget!;
    const delayMs = this.#pause(siteId, now, previousMs);
    const fits = Math.max(0, Math.floor((budget.limit - budget.reserved) / budget.perWorker));
    this.options.logger.error(
      { siteId, budget: budget.limit, perWorker: budget.perWorker, reserved: budget.reserved, workersThatFit: fits, retryInMs: delayMs },
      `site worker not launched: DB_CONNECTION_BUDGET ${budget.limit} fits ${fits} site workers of ${budget.perWorker} connections after ${budget.reserved} for schedulers; ` +
        'raise max_connections and DB_CONNECTION_BUDGET, or lower WORKER_CONCURRENCY or MAX_WORKERS',
    );
  }

  /** Writes the `starting` row for a new worker of this site if the caps and the budget allow one. */
  async #reserve(siteId: number) {
    const workerGuid = randomUUID();
    const containerName = `site-worker-${workerGuid}`;
    const reserved = await reserveStartingRow(this.options.store, {
      workerGuid,
      containerName,
      siteId,
      now: this.#clock,
      maxWorkers: this.options.maxWorkers ?? 20,
      maxPerSite: this.options.maxWorkersPerSite ?? 1,
      budget: this.options.connectionBudget,
    });
    if (reserved === 'over-budget') return reserved;
    if (reserved === 'skipped') return undefined;
    return {
      workerGuid,
      containerName,
      siteId,
      lanes: null,
      env: { ...this.options.workerEnv, ...this.options.workerEnvAtLaunch?.(), WORKER_GUID: workerGuid, CONTAINER_NAME: containerName },
    };
  }

  async reconcile(): Promise<ReconcileResult> {
    const { store, launcher, logger } = this.options;
    const result: ReconcileResult = { lost: [], removed: [], orphansStopped: [], pruned: 0 };
    // Launched before the list was taken: a worker launched since (by the launch loop, meanwhile)
    // is missing from the list without having vanished.
    const launchedBefore = new Set(this.#launchedHere);
    const observed = new Map((await launcher.list()).map((o) => [o.workerGuid, o]));
    const now = this.#clock();
    const rows = await listWorkers(store, { includeTerminal: true });
    const rowsByGuid = new Map(rows.map((r) => [r.worker_guid, r]));
    const staleMs = this.options.staleAfterMs ?? 30_000;
    const startMs = this.options.startTimeoutMs ?? 120_000;

    for (const row of rows) {
      if (!isLiveWorkerStatus(row.status)) continue;
      const obs = observed.get(row.worker_guid);
      // Only a worker launched here is judged gone when the launcher does not see it: another
      // host's worker is invisible to this host's engine or process table whatever its state.
      const judged = launchedBefore.has(row.worker_guid);
      // A worker of the site got going: launches there are healthy again.
      if (row.status !== 'starting' && row.site_id !== null && this.#launchedHere.has(row.worker_guid)) this.#launchBackoff.delete(row.site_id);
      let reason: string | undefined;
      let fields: WorkerEnd = { docker_state: row.docker_state, exit_code: row.exit_code };
      if (judged && !obs) {
        reason = 'worker vanished';
        fields = { docker_state: 'missing', exit_code: null };
      } else if (obs && !obs.running) {
        reason = `worker exited with code ${obs.exitCode ?? 'unknown'}`;
        fields = { docker_state: obs.state, exit_code: obs.exitCode };
      } else if (row.status === 'starting' && now - row.created_at > startMs) {
        reason = 'worker never started';
      } else if (row.status !== 'starting' && (row.last_seen_at ?? row.created_at) < now - staleMs) {
        reason = 'worker heartbeat is stale';
      }
      if (!reason) continue;
      if (await markWorkerLost(store, row.worker_guid, fields, now)) {
        // Its items are released at once only when its processes are known to be gone: a next
        // attempt must never run beside the previous one. Gone: stopped here (with its commands),
        // seen exited, or launched here and vanished. A worker of another host (partitioned, or
        // dead with it) cannot be stopped from here: its items wait for their leases to expire,
        // which the worker itself honours (it abandons them, killing their commands, before
        // then), and any replica's reclaim returns them.
        const gone = obs ? !obs.running || (await launcher.stop(row.worker_guid, { graceMs: 5_000 }).then(() => true, () => false)) : judged;
        const released = gone ? await releaseOwner(store, row.worker_guid, { now, reason: `${reason}; released` }) : { requeued: [], dead: [] };
        // A worker that never got to `running` (too slow to start on a starved host, or crashing
        // at start) is not replaced at once: a new one would fail the same way and add to the load.
        const retryInMs = row.status === 'starting' && row.site_id !== null ? this.#pause(row.site_id, now, this.#launchBackoff.get(row.site_id)?.delayMs) : undefined;
        logger.warn(
          { workerGuid: row.worker_guid, siteId: row.site_id, reason, ...fields, released: gone ? released.requeued.length : 'at lease expiry', dead: released.dead.length, ...(retryInMs ? { retryInMs } : {}) },
          'site worker lost',
        );
        result.lost.push(row.worker_guid);
      }
    }

    for (const obs of observed.values()) {
      const row = rowsByGuid.get(obs.workerGuid);
      const live = row && isLiveWorkerStatus(row.status) && !result.lost.includes(obs.workerGuid);
      if (obs.running) {
        if (!live && !result.lost.includes(obs.workerGuid)) {
          // A labelled worker nobody tracks (its row was pruned or never written): stop it.
          await launcher.stop(obs.workerGuid, { graceMs: 5_000 }).catch(() => {});
          await launcher.remove(obs.workerGuid).catch(() => {});
          result.orphansStopped.push(obs.workerGuid);
        }
        continue;
      }
      // Exited: record its exit code on a terminal row that lacks it, then remove it.
      if (row && !live && row.exit_code === null) {
        await recordWorkerExit(store, obs.workerGuid, { exitCode: obs.exitCode, state: obs.state, now });
      }
      if (!live) {
        await launcher.remove(obs.workerGuid).catch((err: unknown) => logger.warn({ workerGuid: obs.workerGuid, err: describeError(err) }, 'cannot remove worker'));
        this.#launchedHere.delete(obs.workerGuid);
        result.removed.push(obs.workerGuid);
      }
    }

    const historyMs = this.options.historyMs ?? 60_000;
    result.pruned = await pruneEndedWorkers(store, { endedBefore: now - historyMs });
    return result;
  }

  /** Stops every worker this launcher can see (scheduler shutdown with WORKER_STOP_ON_EXIT). */
  async stopAll(graceMs: number): Promise<ObservedWorker[]> {
    const observed = (await this.options.launcher.list()).filter((o) => o.running);
    await Promise.all(observed.map((o) => this.options.launcher.stop(o.workerGuid, { graceMs })));
    return observed;
  }
}

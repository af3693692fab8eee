/**
 * The consumer runtime: claims items in batches, runs them under a p-limit per lane, heartbeats
 * their leases, completes them in batches, and hands unfinished items back on shutdown. The parts
 * live next door: lane-loop.ts (claiming), lease-keeper.ts (heartbeats), completion-batcher.ts
 * (durable completions), handler.ts (calling a handler); this file tracks the items held.
 *
 * Life of an item in this process:
 *   claimed (lease held, buffered in its lane's p-limit queue; counted against lane capacity)
 *   → running (handler called) → settling (completion or failure being written)
 *   → done (durable; only now does the item stop being heartbeated and leave `held`).
 * A lost lease (heartbeat says so) aborts the handler's signal and discards its outcome. A
 * cancel is noticed sooner: the queue's revocation notices trigger an early lease check.
 *
 * Self-healing: every consumer also returns expired leases in its own scope (site, kinds, lanes)
 * to the queue, on a jittered interval of about a quarter of the lease (at most 5 s), the same
 * way the scheduler does (attempt counted; dead when attempts are used up). So the items of a
 * consumer that died without releasing them (kill -9) run again within about lease + a few
 * seconds even when no scheduler runs (lease-reclaimer.ts).
 */
import { randomUUID } from 'node:crypto';
import pLimit, { type LimitFunction } from 'p-limit';
import type { Store } from '../db/open.js';
import type { WorkItem } from '../db/schema.js';
import { describeError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { sleep } from '../sleep.js';
import { CompletionBatcher } from './completion-batcher.js';
import { failWorkItem } from './fail.js';
import { callHandler, LazyAbort, type HandlerVerdict, type ItemOutcome, type WorkHandler } from './handler.js';
import type { RetryPolicy } from './kinds.js';
import { ANY_LANE, Lane, type LaneConfig } from './lane-loop.js';
import { LeaseKeeper } from './lease-keeper.js';
import { LeaseReclaimer, defaultReclaimIntervalMs } from './lease-reclaimer.js';
import { releaseWorkItems } from './reclaim.js';
import { retryWrite } from './retry.js';
import { acquireWakeups } from './wakeup.js';

export { PermanentError, type HandlerContext, type ItemOutcome, type WorkHandler } from './handler.js';
export { ANY_LANE, DEFAULT_MIN_PREFETCH, type LaneConfig } from './lane-loop.js';

export interface RunQueueOptions {
  store: Store;
  handlers: Record<string, WorkHandler>;
  /** Lease owner; defaults to a fresh uuid per runtime. */
  owner?: string;
  /** Claim this site's items only; null for site-less items; undefined for any site. */
  siteId?: number | null;
  /** Claim these kinds only; undefined claims every kind (unknown ones fail without retry). */
  kinds?: readonly string[];
  /** Lanes and their concurrency; defaults to one lane "default" with `concurrency`. */
  lanes?: readonly LaneConfig[];
  concurrency?: number;
  /**
   * Items claimed ahead of free handler slots, per lane (default: max(concurrency, 500)). Larger
   * batches mean fewer claim round trips (the serial claim was the drain ceiling on PostgreSQL,
   * see docs/benchmarks.md); the price is that buffered items hold leases another consumer could
   * have taken. Consumers of long items (site workers) pass their concurrency instead.
   */
  prefetch?: number;
  /**
   * Claims each lane keeps in flight at once (default 1). More overlap the database's work on
   * several claims, which pays where it has cores to spare (see lane-loop.ts).
   */
  claimsInFlight?: number;
  /** Lease length (default 60 s). */
  leaseSeconds?: number;
  /** Heartbeat interval (default 15 s: four heartbeats per lease, so one slow one is harmless). */
  heartbeatSeconds?: number;
  /** Poll fallback when idle (default 1000 ms). Wake-ups make new work start sooner. */
  pollIntervalMs?: number;
  /** How long shutdown waits for running handlers before releasing their items (default 10 s). */
  graceMs?: number;
  /**
   * How often this consumer returns expired leases in its scope to the queue (see
   * lease-reclaimer.ts; default a quarter of the lease, at most 5 s; jittered).
   */
  reclaimIntervalMs?: number;
  workerGuid?: string | null;
  containerName?: string | null;
  retryPolicies?: Partial<Record<string, Partial<RetryPolicy>>>;
  /** Stop on SIGTERM/SIGINT (default false; daemons turn it on). */
  handleSignals?: boolean;
  logger?: Logger;
  /** Called after an item's outcome is durable (or known lost). */
  onItemSettled?: (item: WorkItem, outcome: ItemOutcome, error?: string) => void;
  /** Called after every claim with what it returned (may be empty). */
  onClaim?: (items: WorkItem[]) => void;
}

export interface QueueRuntime {
  readonly owner: string;
  /**
   * Stops claiming, waits for running handlers up to the grace period (`graceMs` overrides the
   * runtime's; 0 aborts them at once, for an owner whose items are no longer its own), releases the rest.
   */
  stop(options?: { graceMs?: number }): Promise<void>;
  /** Resolves when the runtime has fully stopped. */
  readonly stopped: Promise<void>;
  stats(): { held: number; running: number; completed: number; failed: number; claimed: number };
}

interface Held {
  item: WorkItem;
  lane: Lane;
  abort: LazyAbort;
  started: boolean;
  lost: boolean;
  settled: boolean;
  /** Still occupies a slot of its lane's capacity (until its handler returns). */
  occupying: boolean;
}

export function runQueue(options: RunQueueOptions): QueueRuntime {
  const store = options.store;
  const owner = options.owner ?? `consumer-${randomUUID()}`;
  const logger = (options.logger ?? silentLogger).child({ owner });
  const workerGuid = options.workerGuid ?? null;
  const laneConfigs = options.lanes ?? [{ name: 'default', concurrency: options.concurrency ?? 10 }];
  const leaseSeconds = options.leaseSeconds ?? 60;
  const heartbeatMs = (options.heartbeatSeconds ?? 15) * 1000;
  const graceMs = options.graceMs ?? 10_000;
  if (heartbeatMs >= leaseSeconds * 1000) {
    throw new Error(`heartbeat interval (${heartbeatMs} ms) must be shorter than the lease (${leaseSeconds} s)`);
  }

  const held = new Map<number, Held>();
  const counts = { completed: 0, failed: 0, claimed: 0 };
  const wakeups = acquireWakeups(store, logger);
  const limits = new Map<Lane, LimitFunction>();
  /** Aborted when stop() begins: no more claims, and every wait in the lane loops ends. */
  const stopSignal = new AbortController();
  const completer = new CompletionBatcher(store, owner, logger);

  const settle = (h: Held, outcome: ItemOutcome, error?: string) => {
    if (h.settled) return;
    h.settled = true;
    if (held.get(h.item.id) === h) held.delete(h.item.id); // not a newer claim of the same item
    revocations.holding(held.size > 0);
    leaveLane(h);
    h.lane.settle();
    if (outcome === 'completed') counts.completed++;
    else if (outcome !== 'released' && outcome !== 'lease_lost') counts.failed++;
    options.onItemSettled?.(h.item, outcome, error);
  };

  /**
   * An item leaves its lane's capacity when its handler returns, before its completion is
   * durable: the next claim then overlaps the completion write instead of waiting for it.
   * It stays in `held` (heartbeated) until the outcome is committed.
   */
  const leaveLane = (h: Held) => {
    if (!h.occupying) return;
    h.occupying = false;
    h.lane.leave();
  };

  const fail = async (h: Held, error: unknown, retryable: boolean) => {
    const message = describeError(error);
    const result = await retryWrite(logger, 'fail', () =>
      failWorkItem(store, owner, h.item, error, { retryable, ...(options.retryPolicies ? { policies: options.retryPolicies } : {}) }),
    );
    logger.warn(
      { itemId: h.item.id, kind: h.item.kind, siteId: h.item.site_id, workerGuid, outcome: result.outcome, error: message },
      'work item failed',
    );
    settle(h, result.outcome, message);
  };

  /**
   * Runs the handler inside the lane's p-limit slot and returns what to record (undefined: it
   * did not run). The slot is freed as soon as the handler returns; the durable write happens
   * outside it (`record`), so completions from many slots batch together.
   */
  const runHandler = async (h: Held): Promise<HandlerVerdict | undefined> => {
    if (h.settled || h.lost || stopSignal.signal.aborted) return undefined; // stop() releases what never started
    h.started = true;
    return callHandler(options.handlers, h.item, h.abort, logger, workerGuid);
  };

  /** Writes the handler's verdict durably, then settles the item. */
  const record = async (h: Held, verdict: HandlerVerdict | undefined) => {
    if (h.settled) return;
    if (h.lost) return settle(h, 'lease_lost');
    if (verdict === undefined) {
      if (!h.started && !stopSignal.signal.aborted) settle(h, 'lease_lost');
      return; // not started because of shutdown: stays held until stop() releases it
    }
    leaveLane(h);
    if (verdict.kind === 'complete') return settle(h, await completer.complete(h.item, verdict.result));
    return fail(h, verdict.error, verdict.retryable);
  };

  const loseLease = (h: Held) => {
    if (h.lost) return;
    h.lost = true;
    h.abort.abort(new Error('lease lost'));
    logger.warn({ itemId: h.item.id, kind: h.item.kind, siteId: h.item.site_id, workerGuid }, 'lease lost; abandoning item');
    // A buffered item never starts; a running one settles when its handler returns.
    if (!h.started) settle(h, 'lease_lost');
  };

  const accept = (item: WorkItem, lane: Lane) => {
    counts.claimed++;
    const h: Held = { item, lane, abort: new LazyAbort(), started: false, lost: false, settled: false, occupying: true };
    const stale = held.get(item.id); // claimed again after its lease expired here: that claim is lost
    if (stale) loseLease(stale);
    held.set(item.id, h);
    revocations.holding(true);
    void limits.get(lane)!(() => runHandler(h))
      .then((verdict) => record(h, verdict))
      .catch((err: unknown) => logger.error({ err: describeError(err), itemId: item.id, kind: item.kind, siteId: item.site_id, workerGuid }, 'item bookkeeping crashed'));
  };

  const lanes = laneConfigs.map((config) => {
    const lane = new Lane(config, {
      store,
      claim: {
        owner,
        ...(options.siteId !== undefined ? { siteId: options.siteId } : {}),
        ...(options.kinds ? { kinds: options.kinds } : {}),
        leaseSeconds,
        workerGuid,
        containerName: options.containerName ?? null,
      },
      prefetch: options.prefetch,
      ...(options.claimsInFlight !== undefined ? { claimsInFlight: options.claimsInFlight } : {}),
      pollIntervalMs: options.pollIntervalMs ?? 1000,
      wakeups,
      stopSignal: stopSignal.signal,
      logger,
      ...(options.onClaim ? { onClaim: options.onClaim } : {}),
      accept,
    });
    limits.set(lane, pLimit(config.concurrency));
    return lane;
  });

  const leaseKeeper = new LeaseKeeper({
    store,
    owner,
    leaseSeconds,
    intervalMs: heartbeatMs,
    logger,
    heldItems: () => [...held.values()].map((h) => h.item),
    checkedItems: () => [...held.values()].filter((h) => h.occupying && !h.lost).map((h) => h.item),
    onLost: (id) => {
      const h = held.get(id);
      if (h) loseLease(h);
    },
  });

  const revocations = wakeups.onRevoked((ids) => leaseKeeper.checkSoon(ids));

  // Self-healing: return the expired leases of dead consumers in this consumer's scope.
  const reclaimer = new LeaseReclaimer(
    store,
    {
      ...(options.siteId !== undefined ? { siteId: options.siteId } : {}),
      ...(options.kinds ? { kinds: options.kinds } : {}),
      ...(laneConfigs.some((l) => l.name === ANY_LANE) ? {} : { lanes: laneConfigs.map((l) => l.name) }),
    },
    options.reclaimIntervalMs ?? defaultReclaimIntervalMs(leaseSeconds),
    logger,
  );

  const loops = Promise.all(lanes.map((lane) => lane.run()));

  let stopPromise: Promise<void> | undefined;
  const stop = (stopGraceMs = graceMs) => {
    stopPromise ??= (async () => {
      stopSignal.abort();
      await loops;
      const running = () => [...held.values()].filter((h) => h.started);
      const deadline = Date.now() + stopGraceMs;
      while (running().length > 0 && Date.now() < deadline) await sleep(Math.min(25, deadline - Date.now()));
      for (const h of running()) h.abort.abort(new Error('shutdown grace period over'));
      await completer.idle();
      const remaining = [...held.values()];
      if (remaining.length > 0) {
        const items = remaining.map((h) => h.item);
        const released = await retryWrite(logger, 'release', () => releaseWorkItems(store, owner, items), 10);
        logger.info({ released: released.requeued.length }, 'unfinished items released');
        for (const h of remaining) {
          h.lost = true; // a handler still running after the grace period must not complete it
          settle(h, 'released');
        }
      }
      leaseKeeper.stop();
      revocations.dispose();
      await reclaimer.stop();
      wakeups.release();
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    })();
    return stopPromise;
  };
  const onSignal = (signal: NodeJS.Signals) => {
    logger.info({ signal }, 'stopping: no new claims, draining');
    void stop();
  };
  if (options.handleSignals) {
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  }

  let resolveStopped!: () => void;
  const stopped = new Promise<void>((r) => (resolveStopped = r));
  void loops.then(() => stopPromise?.then(resolveStopped));

  return {
    owner,
    stop: (stopOptions) => stop(stopOptions?.graceMs).then(() => resolveStopped()),
    stopped,
    stats: () => ({ held: held.size, running: [...held.values()].filter((h) => h.started).length, ...counts }),
  };
}

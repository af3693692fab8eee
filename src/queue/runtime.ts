/**
 * The consumer runtime: claims items in batches, runs them under a p-limit per lane, heartbeats
 * their leases, completes them in batches, and hands unfinished items back on shutdown.
 *
 * Life of an item in this process:
 *   claimed (lease held, buffered in its lane's p-limit queue; counted against lane capacity)
 *   → running (handler called) → settling (completion or failure being written)
 *   → done (durable; only now does the item stop being heartbeated and leave `held`).
 * A lost lease (heartbeat says so) aborts the handler's signal and discards its outcome.
 *
 * Lane loop: take a wake-up ticket, claim up to free capacity (concurrency + prefetch − held),
 * hand items to the lane's p-limit; a full batch claims again at once, a short one waits for a
 * wake-up, freed capacity, or the poll interval (the fallback for items that become available
 * later, such as retries).
 */
import { randomUUID } from 'node:crypto';
import pLimit, { type LimitFunction } from 'p-limit';
import { InvalidJson } from '../db/dialect.js';
import type { Store } from '../db/open.js';
import type { WorkItem } from '../db/schema.js';
import { describeError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { claimWorkItems, type Lease } from './claim.js';
import { completeWorkItems, type CompletionOutcome } from './complete.js';
import { failWorkItem, type FailOutcome } from './fail.js';
import { heartbeatWorkItems } from './heartbeat.js';
import type { RetryPolicy } from './kinds.js';
import { reclaimExpiredLeases, releaseWorkItems } from './reclaim.js';
import { acquireWakeups } from './wakeup.js';

/** Thrown (or wrapped) by a handler for a failure a retry cannot fix. */
export class PermanentError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentError';
  }
}

export interface HandlerContext {
  item: WorkItem;
  payload: Record<string, unknown>;
  /** Aborted when the lease is lost or shutdown's grace period ends. */
  signal: AbortSignal;
  logger: Logger;
}

export type WorkHandler = (ctx: HandlerContext) => unknown;

export type ItemOutcome = CompletionOutcome | FailOutcome | 'released';

export interface LaneConfig {
  /** A lane name, or ANY_LANE to claim from every lane under one limit. */
  name: string;
  concurrency: number;
}

/** A lane config with this name claims items of every lane. */
export const ANY_LANE = '*';
/** The smallest default prefetch per lane (see RunQueueOptions.prefetch). */
export const DEFAULT_MIN_PREFETCH = 500;

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
  /** Lease length (default 60 s). */
  leaseSeconds?: number;
  /** Heartbeat interval (default 15 s: four heartbeats per lease, so one slow one is harmless). */
  heartbeatSeconds?: number;
  /** Poll fallback when idle (default 1000 ms). Wake-ups make new work start sooner. */
  pollIntervalMs?: number;
  /** How long shutdown waits for running handlers before releasing their items (default 10 s). */
  graceMs?: number;
  /** Also return expired leases to the queue every N ms (the scheduler does this; default off). */
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
  /** Stops claiming, waits for running handlers up to the grace period, releases the rest. */
  stop(): Promise<void>;
  /** Resolves when the runtime has fully stopped. */
  readonly stopped: Promise<void>;
  stats(): { held: number; running: number; completed: number; failed: number; claimed: number };
}

interface Held {
  item: WorkItem;
  lane: string;
  abort: AbortController;
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
  const lanes = options.lanes ?? [{ name: 'default', concurrency: options.concurrency ?? 10 }];
  const leaseSeconds = options.leaseSeconds ?? 60;
  const heartbeatMs = (options.heartbeatSeconds ?? 15) * 1000;
  const pollIntervalMs = options.pollIntervalMs ?? 1000;
  const graceMs = options.graceMs ?? 10_000;
  if (heartbeatMs >= leaseSeconds * 1000) {
    throw new Error(`heartbeat interval (${heartbeatMs} ms) must be shorter than the lease (${leaseSeconds} s)`);
  }

  const held = new Map<number, Held>();
  const counts = { completed: 0, failed: 0, claimed: 0 };
  const wakeups = acquireWakeups(store, logger);
  const limits = new Map<string, LimitFunction>(lanes.map((l) => [l.name, pLimit(l.concurrency)]));
  const heldPerLane = new Map<string, number>(lanes.map((l) => [l.name, 0]));
  let stopping = false;
  let capacityFreed: (() => void) | undefined;
  const stopSignal = new AbortController();
  /** Resolves when stop() begins; every wait in the lane loops races it. */
  const stopped_ = abortPromise(stopSignal.signal);
  const completer = new CompletionBatcher(store, owner, logger);

  const settle = (h: Held, outcome: ItemOutcome, error?: string) => {
    if (h.settled) return;
    h.settled = true;
    if (held.get(h.item.id) === h) held.delete(h.item.id); // not a newer claim of the same item
    leaveLane(h);
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
    heldPerLane.set(h.lane, (heldPerLane.get(h.lane) ?? 1) - 1);
    capacityFreed?.();
  };

  const fail = async (h: Held, error: unknown, retryable: boolean) => {
    const message = describeError(error);
    const result = await retryForever(logger, 'fail', () =>
      failWorkItem(store, owner, h.item, error, { retryable, ...(options.retryPolicies ? { policies: options.retryPolicies } : {}) }),
    );
    logger.warn(
      { itemId: h.item.id, kind: h.item.kind, siteId: h.item.site_id, workerGuid: options.workerGuid ?? null, outcome: result.outcome, error: message },
      'work item failed',
    );
    settle(h, result.outcome, message);
  };

  type HandlerVerdict =
    | { kind: 'complete'; result: unknown }
    | { kind: 'fail'; error: unknown; retryable: boolean }
    | { kind: 'none' };

  /**
   * Runs the handler inside the lane's p-limit slot and returns what to record. The slot is
   * freed as soon as the handler returns; the durable write happens outside it (`record`), so
   * completions from many slots batch together.
   */
  const runHandler = async (h: Held): Promise<HandlerVerdict> => {
    if (h.settled || h.lost || stopping) return { kind: 'none' }; // stop() releases what never started
    h.started = true;
    const { item } = h;
    const payload = item.payload_json as unknown;
    if (payload instanceof InvalidJson) {
      return { kind: 'fail', error: `payload_json is not valid JSON: ${payload.toString()}`, retryable: false };
    }
    if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
      const shown = JSON.stringify(payload)?.slice(0, 80);
      return { kind: 'fail', error: `payload_json must be a JSON object, got ${shown}`, retryable: false };
    }
    const handler = options.handlers[item.kind];
    if (!handler) return { kind: 'fail', error: `no executor for kind ${item.kind}`, retryable: false };
    let itemLogger: Logger | undefined;
    try {
      const result = await handler({
        item,
        payload: payload as Record<string, unknown>,
        signal: h.abort.signal,
        // Built on first use: a child logger per item is measurable on a no-op hot path.
        get logger() {
          itemLogger ??= logger.child({ itemId: item.id, kind: item.kind, siteId: item.site_id, workerGuid: options.workerGuid ?? null });
          return itemLogger;
        },
      });
      return { kind: 'complete', result };
    } catch (err) {
      return { kind: 'fail', error: err, retryable: !(err instanceof PermanentError) };
    }
  };

  /** Writes the handler's verdict durably, then settles the item. */
  const record = async (h: Held, verdict: HandlerVerdict) => {
    if (h.settled) return;
    if (h.lost) return settle(h, 'lease_lost');
    if (verdict.kind === 'none') {
      if (!h.started && !stopping) settle(h, 'lease_lost');
      return; // not started because of shutdown: stays held until stop() releases it
    }
    leaveLane(h);
    if (verdict.kind === 'complete') return settle(h, await completer.complete(h.item, verdict.result));
    return fail(h, verdict.error, verdict.retryable);
  };

  const laneLoop = async (lane: LaneConfig) => {
    const limit = limits.get(lane.name)!;
    const capacity = lane.concurrency + (options.prefetch ?? Math.max(lane.concurrency, DEFAULT_MIN_PREFETCH));
    // Refill when at least half the capacity is free, so busy lanes claim in batches instead of
    // one item per finished handler (graphile-worker's local-queue refetch rule).
    const refillAt = Math.max(1, Math.ceil(capacity / 2));
    let errorDelay = 50;
    while (!stopping) {
      const heldNow = heldPerLane.get(lane.name) ?? 0;
      const free = capacity - heldNow;
      if (free <= 0 || (heldNow > 0 && free < refillAt)) {
        await Promise.race([new Promise<void>((resolve) => (capacityFreed = resolve)), stopped_]);
        capacityFreed = undefined;
        continue;
      }
      const ticket = wakeups.ticket(options.siteId);
      let claimed: WorkItem[];
      try {
        claimed = await claimWorkItems(store, {
          owner,
          ...(options.siteId !== undefined ? { siteId: options.siteId } : {}),
          ...(lane.name === ANY_LANE ? {} : { lanes: [lane.name] }),
          ...(options.kinds ? { kinds: options.kinds } : {}),
          limit: free,
          leaseSeconds,
          workerGuid: options.workerGuid ?? null,
          containerName: options.containerName ?? null,
        });
        errorDelay = 50;
      } catch (err) {
        ticket.dispose();
        logger.warn({ err: describeError(err), lane: lane.name }, 'claim failed; retrying');
        await sleep(errorDelay, stopSignal.signal);
        errorDelay = Math.min(errorDelay * 2, 5_000);
        continue;
      }
      counts.claimed += claimed.length;
      options.onClaim?.(claimed);
      for (const item of claimed) {
        const h: Held = { item, lane: lane.name, abort: new AbortController(), started: false, lost: false, settled: false, occupying: true };
        const stale = held.get(item.id); // claimed again after its lease expired here: that claim is lost
        if (stale) loseLease(stale);
        held.set(item.id, h);
        heldPerLane.set(lane.name, (heldPerLane.get(lane.name) ?? 0) + 1);
        void limit(() => runHandler(h))
          .then((verdict) => record(h, verdict))
          .catch((err: unknown) => logger.error({ err: describeError(err), itemId: item.id, kind: item.kind, siteId: item.site_id, workerGuid: options.workerGuid ?? null }, 'item bookkeeping crashed'));
      }
      // A full batch means more may be waiting: claim again at once (Solid Queue's poller rule).
      if (claimed.length < free && !stopping) {
        await Promise.race([ticket.wait(pollIntervalMs), stopped_]);
      }
      ticket.dispose();
    }
  };

  const loseLease = (h: Held) => {
    if (h.lost) return;
    h.lost = true;
    h.abort.abort(new Error('lease lost'));
    logger.warn({ itemId: h.item.id, kind: h.item.kind, siteId: h.item.site_id, workerGuid: options.workerGuid ?? null }, 'lease lost; abandoning item');
    // A buffered item never starts; a running one settles when its handler returns.
    if (!h.started) settle(h, 'lease_lost');
  };

  const heartbeat = async () => {
    const items = [...held.values()].map((h) => h.item);
    if (items.length === 0) return;
    try {
      const { lost } = await heartbeatWorkItems(store, owner, items, { leaseSeconds });
      for (const id of lost) {
        const h = held.get(id);
        if (h) loseLease(h);
      }
    } catch (err) {
      logger.warn({ err: describeError(err) }, 'heartbeat failed; will retry');
    }
  };
  const heartbeatTimer = setInterval(() => void heartbeat(), heartbeatMs);

  const reclaimTimer = options.reclaimIntervalMs
    ? setInterval(() => {
        reclaimExpiredLeases(store).then(
          (r) => r.requeued.length + r.dead.length > 0 && logger.info({ ...r }, 'expired leases reclaimed'),
          (err: unknown) => logger.warn({ err: describeError(err) }, 'reclaim failed'),
        );
      }, options.reclaimIntervalMs)
    : undefined;

  const loops = Promise.all(lanes.map((l) => laneLoop(l)));

  let stopPromise: Promise<void> | undefined;
  const stop = () => {
    stopPromise ??= (async () => {
      stopping = true;
      stopSignal.abort();
      await loops;
      const running = () => [...held.values()].filter((h) => h.started);
      const deadline = Date.now() + graceMs;
      while (running().length > 0 && Date.now() < deadline) await sleep(Math.min(25, deadline - Date.now()));
      for (const h of running()) h.abort.abort(new Error('shutdown grace period over'));
      await completer.idle();
      const remaining = [...held.values()];
      if (remaining.length > 0) {
        const items = remaining.map((h) => h.item);
        const released = await retryForever(logger, 'release', () => releaseWorkItems(store, owner, items), 10);
        logger.info({ released: released.requeued.length }, 'unfinished items released');
        for (const h of remaining) {
          h.lost = true; // a handler still running after the grace period must not complete it
          settle(h, 'released');
        }
      }
      clearInterval(heartbeatTimer);
      if (reclaimTimer) clearInterval(reclaimTimer);
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
    stop: () => stop().then(() => resolveStopped()),
    stopped,
    stats: () => ({ held: held.size, running: [...held.values()].filter((h) => h.started).length, ...counts }),
  };
}

/**
 * Batches completions: while one UPDATE is in flight, finished items queue up and go out together
 * in the next one. A caller's promise resolves only after its row is committed (durable), and a
 * failed write (database restart) is retried with backoff until it succeeds.
 */
class CompletionBatcher {
  #pending: Array<{ item: Lease; result: unknown; resolve: (o: CompletionOutcome) => void }> = [];
  #flushing: Promise<void> | undefined;

  constructor(
    private readonly store: Store,
    private readonly owner: string,
    private readonly logger: Logger,
  ) {}

  complete(item: Lease, result: unknown): Promise<CompletionOutcome> {
    return new Promise((resolve) => {
      this.#pending.push({ item, result, resolve });
      this.#flushing ??= this.#flush();
    });
  }

  async idle(): Promise<void> {
    while (this.#flushing) await this.#flushing;
  }

  async #flush(): Promise<void> {
    // Let the other handlers that finish in this tick join the batch.
    await Promise.resolve();
    while (this.#pending.length > 0) {
      const batch = this.#pending.splice(0, 1000);
      const outcomes = await retryForever(this.logger, 'complete', () =>
        completeWorkItems(
          this.store,
          this.owner,
          batch.map((c) => ({ item: c.item, result: c.result === undefined || c.result === null ? undefined : c.result })),
        ),
      );
      batch.forEach((c, i) => c.resolve(outcomes[i] ?? 'lease_lost'));
    }
    this.#flushing = undefined;
  }
}

/** Retries a database write with backoff until it succeeds (or `maxTries` is reached). */
async function retryForever<T>(logger: Logger, what: string, fn: () => Promise<T>, maxTries = Infinity): Promise<T> {
  let delay = 50;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= maxTries) throw err;
      logger.warn({ err: describeError(err), attempt }, `${what} failed; retrying`);
      await sleep(delay);
      delay = Math.min(delay * 2, 5_000);
    }
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}

function abortPromise(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

/**
 * One lane's claim loop. Take a wake-up ticket, claim up to free capacity (concurrency +
 * prefetch − occupied), hand the items over; a full batch claims again at once, a short one
 * waits for a wake-up, the stop signal, or the poll interval (the fallback for items that become
 * available later, such as retries). A lane at (or near) capacity waits until one of its own
 * items frees a slot.
 */
import type { Store } from '../db/open.js';
import type { WorkItem } from '../db/schema.js';
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import { sleep, whenAborted } from '../sleep.js';
import { claimWorkItems, type ClaimOptions } from './claim.js';

export interface LaneConfig {
  /** A lane name, or ANY_LANE to claim from every lane under one limit. */
  name: string;
  concurrency: number;
}

/** A lane config with this name claims items of every lane. */
export const ANY_LANE = '*';
/** The smallest default prefetch per lane (see RunQueueOptions.prefetch). */
export const DEFAULT_MIN_PREFETCH = 500;

/** The part of the wake-up source a lane uses. */
export interface WakeupTickets {
  ticket(siteId: number | null | undefined): { wait(timeoutMs: number): Promise<void>; dispose(): void };
}

export interface LaneLoopOptions {
  store: Store;
  /** Owner, site, kinds, lease and worker fields of every claim (lane and limit are the lane's). */
  claim: Omit<ClaimOptions, 'lanes' | 'limit' | 'now'>;
  /** Items claimed ahead of free slots (default max(concurrency, DEFAULT_MIN_PREFETCH)). */
  prefetch: number | undefined;
  pollIntervalMs: number;
  wakeups: WakeupTickets;
  /** Aborted when the runtime stops: the loop ends, and every wait in it ends early. */
  stopSignal: AbortSignal;
  logger: Logger;
  onClaim?: (items: WorkItem[]) => void;
  /** Takes over a claimed item; it occupies a slot until `leave()` is called for it. */
  accept: (item: WorkItem, lane: Lane) => void;
}

export class Lane {
  readonly name: string;
  readonly capacity: number;
  #occupied = 0;
  #capacityFreed: (() => void) | undefined;
  readonly #stopped: Promise<void>;

  constructor(
    config: LaneConfig,
    private readonly options: LaneLoopOptions,
  ) {
    this.name = config.name;
    this.capacity = config.concurrency + (options.prefetch ?? Math.max(config.concurrency, DEFAULT_MIN_PREFETCH));
    this.#stopped = whenAborted(options.stopSignal);
  }

  get occupied(): number {
    return this.#occupied;
  }

  /** An accepted item stops counting against this lane's capacity. */
  leave(): void {
    this.#occupied--;
    this.#capacityFreed?.();
  }

  /** The claim loop; resolves once the stop signal has aborted. */
  async run(): Promise<void> {
    const { store, claim, stopSignal, logger } = this.options;
    // Refill when at least half the capacity is free, so busy lanes claim in batches instead of
    // one item per finished handler (graphile-worker's local-queue refetch rule).
    const refillAt = Math.max(1, Math.ceil(this.capacity / 2));
    let errorDelay = 50;
    while (!stopSignal.aborted) {
      const free = this.capacity - this.#occupied;
      if (free <= 0 || (this.#occupied > 0 && free < refillAt)) {
        await Promise.race([new Promise<void>((resolve) => (this.#capacityFreed = resolve)), this.#stopped]);
        this.#capacityFreed = undefined;
        continue;
      }
      const ticket = this.options.wakeups.ticket(claim.siteId);
      let claimed: WorkItem[];
      try {
        claimed = await claimWorkItems(store, { ...claim, ...(this.name === ANY_LANE ? {} : { lanes: [this.name] }), limit: free });
        errorDelay = 50;
      } catch (err) {
        ticket.dispose();
        logger.warn({ err: describeError(err), lane: this.name }, 'claim failed; retrying');
        await sleep(errorDelay, stopSignal);
        errorDelay = Math.min(errorDelay * 2, 5_000);
        continue;
      }
      this.options.onClaim?.(claimed);
      for (const item of claimed) {
        this.#occupied++;
        this.options.accept(item, this);
      }
      // A full batch means more may be waiting: claim again at once (Solid Queue's poller rule).
      if (claimed.length < free && !stopSignal.aborted) {
        await Promise.race([ticket.wait(this.options.pollIntervalMs), this.#stopped]);
      }
      ticket.dispose();
    }
  }
}

/**
 * One lane's claim loop. Take a wake-up ticket, claim up to free capacity (concurrency +
 * prefetch − occupied), hand the items over; a full batch claims again at once, a short one
 * waits for a wake-up, the stop signal, or the poll interval (the fallback for items that become
 * available later, such as retries). A lane at (or near) capacity waits until one of its own
 * items frees a slot. An item frees its slot when its handler returns, before its outcome is
 * written (so the next claim overlaps that write), but it counts as unsettled until the write
 * commits, and a lane never has more than UNSETTLED_FACTOR × capacity unsettled: otherwise a
 * consumer whose claims outrun its completion writes would lease the whole queue to itself
 * (on SQLite, whose statements never yield, the deferred completion write ran only when the
 * claims ran out: one consumer held 49,910 of a 50,000-item drain).
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
  /** Claims in flight at once (default 1; see DEFAULT_CLAIMS_IN_FLIGHT). */
  claimsInFlight?: number;
  pollIntervalMs: number;
  wakeups: WakeupTickets;
  /** Aborted when the runtime stops: the loop ends, and every wait in it ends early. */
  stopSignal: AbortSignal;
  logger: Logger;
  onClaim?: (items: WorkItem[]) => void;
  /** Takes over a claimed item; it occupies a slot until `leave()`, and is unsettled until `settle()`, is called for it. */
  accept: (item: WorkItem, lane: Lane) => void;
}

/**
 * Claims a lane keeps in flight by default. A lane waits on its claim for most of a PostgreSQL
 * drain, and overlapping claims let the database work on several at once (each passes over the
 * rows another has locked, so they stay disjoint; SQLite runs them one after the other). But each
 * overlapping claim also steps over the other's locked rows: on the 2-core benchmark machine, where
 * PostgreSQL's CPU is the bound, two in flight cost 15-25 % more server CPU per item and drained no
 * faster (docs/benchmarks.md). So one by default; RunQueueOptions.claimsInFlight raises it where the
 * database has cores to spare.
 */
export const DEFAULT_CLAIMS_IN_FLIGHT = 1;

/** Unsettled items (claimed, outcome not yet written) a lane may have, per unit of capacity. */
export const UNSETTLED_FACTOR = 2;

export class Lane {
  readonly name: string;
  readonly capacity: number;
  #occupied = 0;
  /** Accepted items whose outcome is not yet written (occupying or not). */
  #unsettled = 0;
  /** Slots promised to claims in flight (their `limit`), so two claims never take the same room. */
  #reserved = 0;
  #inFlight = 0;
  /** Set when a claim came back short (nothing more is due): its wake-up ticket, waited on before claiming again. */
  #drained: { wait(timeoutMs: number): Promise<void>; dispose(): void } | undefined;
  #changed: (() => void) | undefined;
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
    this.#wake();
  }

  /** An accepted item's outcome is written (or the item is no longer this consumer's). */
  settle(): void {
    this.#unsettled--;
    this.#wake();
  }

  #wake(): void {
    const resolve = this.#changed;
    this.#changed = undefined;
    resolve?.();
  }

  /** Resolves when capacity is freed, a claim finishes, or the runtime stops. */
  #whenChanged(): Promise<void> {
    return Promise.race([new Promise<void>((resolve) => (this.#changed = resolve)), this.#stopped]);
  }

  /** The claim loop; resolves once the stop signal has aborted and no claim is in flight. */
  async run(): Promise<void> {
    const { stopSignal } = this.options;
    // Refill when at least half the capacity is free, so busy lanes claim in batches instead of
    // one item per finished handler (graphile-worker's local-queue refetch rule); with a claim
    // already in flight, the next starts at half of that again, so claims overlap.
    const refillAt = Math.max(1, Math.ceil(this.capacity / 2));
    const inFlightLimit = Math.max(1, this.options.claimsInFlight ?? DEFAULT_CLAIMS_IN_FLIGHT);
    const overlapAt = Math.max(1, Math.ceil(refillAt / inFlightLimit));
    while (!stopSignal.aborted) {
      if (this.#drained !== undefined) {
        if (this.#inFlight > 0) {
          await this.#whenChanged();
          continue;
        }
        // Nothing was due: wait for a wake-up, the stop signal, or the poll interval.
        const ticket = this.#drained;
        await Promise.race([ticket.wait(this.options.pollIntervalMs), this.#stopped]);
        ticket.dispose();
        if (this.#drained === ticket) this.#drained = undefined;
        continue;
      }
      const free = Math.min(this.capacity - this.#occupied, UNSETTLED_FACTOR * this.capacity - this.#unsettled) - this.#reserved;
      // Unsettled items will settle on their own, and wake the lane when they do.
      const busy = this.#unsettled + this.#reserved > 0;
      const enough = !busy || free >= (this.#inFlight > 0 ? overlapAt : refillAt);
      if (free <= 0 || !enough || this.#inFlight >= inFlightLimit) {
        await this.#whenChanged();
        continue;
      }
      void this.#claim(free);
    }
    while (this.#inFlight > 0) await new Promise<void>((resolve) => (this.#changed = resolve));
    this.#drained?.dispose();
    this.#drained = undefined;
  }

  /** One claim of up to `limit` items; hands them over, and marks the lane drained when it came back short. */
  async #claim(limit: number): Promise<void> {
    const { store, claim, stopSignal, logger } = this.options;
    this.#inFlight++;
    this.#reserved += limit;
    // Taken before the claim, so a wake-up sent while it runs is not missed.
    const ticket = this.options.wakeups.ticket(claim.siteId);
    let keepTicket = false;
    try {
      const claimed = await claimWorkItems(store, { ...claim, ...(this.name === ANY_LANE ? {} : { lanes: [this.name] }), limit });
      this.#errorDelay = 50;
      this.#reserved -= limit;
      this.options.onClaim?.(claimed);
      for (const item of claimed) {
        this.#occupied++;
        this.#unsettled++;
        this.options.accept(item, this);
      }
      // A full batch means more may be waiting: claim again at once (Solid Queue's poller rule).
      if (claimed.length < limit && !stopSignal.aborted) {
        // Keep the older ticket when two claims come back short: it has seen every wake-up since
        // the earlier claim began, a superset of this one's.
        if (this.#drained === undefined) {
          this.#drained = ticket;
          keepTicket = true;
        }
      } else if (this.#drained !== undefined) {
        // An overlapping claim found the queue empty, this one found more: not drained after all.
        this.#drained.dispose();
        this.#drained = undefined;
      }
    } catch (err) {
      this.#reserved -= limit;
      logger.warn({ err: describeError(err), lane: this.name }, 'claim failed; retrying');
      await sleep(this.#errorDelay, stopSignal);
      this.#errorDelay = Math.min(this.#errorDelay * 2, 5_000);
    } finally {
      if (!keepTicket) ticket.dispose();
      this.#inFlight--;
      this.#wake();
    }
  }

  #errorDelay = 50;
}

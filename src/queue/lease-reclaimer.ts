/**
 * Self-healing: every consumer returns the expired leases it can see, so the items of a consumer
 * that died (kill -9, lost container) go back to the queue even when no scheduler runs.
 *
 * A pass reads whether any item in the consumer's scope (its site, kinds and lanes: what it
 * would claim) has an expired lease — one indexed read — and only then runs the same reclaim as
 * the scheduler (reclaimExpiredLeases: requeued with the attempt counted, or dead when attempts
 * are used up). Passes are spaced by the interval times a random factor in [0.5, 1.5), the first
 * one at a random point of the first interval, so many consumers do not look in step; one that
 * races another's reclaim updates nothing (the reclaim only touches rows still `running` with an
 * expired lease).
 */
import type { Store } from '../db/open.js';
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import { hasExpiredLeases, reclaimExpiredLeases, type ReclaimScope } from './reclaim.js';

/** Default pass interval: a quarter of the lease, at most this (an item is back within about lease + this). */
export const MAX_DEFAULT_RECLAIM_INTERVAL_MS = 5_000;

export function defaultReclaimIntervalMs(leaseSeconds: number): number {
  return Math.min((leaseSeconds * 1000) / 4, MAX_DEFAULT_RECLAIM_INTERVAL_MS);
}

export class LeaseReclaimer {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;

  constructor(
    private readonly store: Store,
    private readonly scope: ReclaimScope,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {
    this.#schedule(Math.random() * intervalMs);
  }

  /** No more passes; resolves when the one in progress (if any) is over. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#running;
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#running = this.#pass().finally(() => {
        this.#running = undefined;
        this.#schedule(this.intervalMs * (0.5 + Math.random()));
      });
    }, delayMs);
  }

  async #pass(): Promise<void> {
    try {
      if (!(await hasExpiredLeases(this.store, { scope: this.scope }))) return;
      const r = await reclaimExpiredLeases(this.store, { scope: this.scope });
      if (r.requeued.length + r.dead.length > 0) this.logger.warn({ requeued: r.requeued, dead: r.dead }, 'expired leases reclaimed');
    } catch (err) {
      this.logger.warn({ err: describeError(err) }, 'reclaim failed; will retry');
    }
  }
}

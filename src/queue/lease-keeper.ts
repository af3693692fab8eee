/**
 * Keeps the leases of the items a consumer holds alive: every `intervalMs` one heartbeat
 * statement extends them all and reports the ones lost (reclaimed, cancelled, released), which
 * the consumer then abandons. A failed heartbeat is logged and tried again on the next tick;
 * the interval is a fraction of the lease, so one slow or failed beat does not lose it.
 *
 * Self-fencing: when no beat has succeeded for an item and its lease (as of its claim or its last
 * successful beat) is about to run out, the consumer abandons the item itself (a partition, a
 * database that stopped answering). Another consumer may reclaim it once the lease expires, and
 * the previous attempt's handler must be stopped by then, not when the database answers again.
 *
 * Between beats, `checkSoon` runs an early check when the queue says a lease may have been
 * revoked (an operator cancelled a running item): a read of the items' status, owner and claim,
 * no write, at most once per CHECK_GAP_MS however many notices arrive, so a cancelled command
 * stops within about a second while a busy queue costs a consumer at most a few reads a second.
 */
import type { Store } from '../db/open.js';
import type { RevokedSet } from '../db/wakeup-transport.js';
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Lease } from './claim.js';
import { findLostLeases, heartbeatWorkItems } from './heartbeat.js';

/** The least time between two early lease checks. */
export const CHECK_GAP_MS = 300;

export interface LeaseKeeperOptions {
  store: Store;
  owner: string;
  leaseSeconds: number;
  intervalMs: number;
  logger: Logger;
  /** The claims to keep alive (id, claim fence and the lease expiry written at claim), read at every beat. */
  heldItems: () => HeldLease[];
  /**
   * The claims an early check looks at: those whose handler has not returned yet (default: all
   * held). An item whose outcome is being written needs no early check.
   */
  checkedItems?: () => Lease[];
  /** Called once per id whose lease this owner no longer has. */
  onLost: (id: number) => void;
}

export type HeldLease = Lease & { lease_expires_at: number | null };

export class LeaseKeeper {
  readonly #timer: NodeJS.Timeout;
  /** Lease expiry per held claim as of its last successful beat (absent: as written at claim). */
  readonly #expiry = new WeakMap<HeldLease, number>();
  #checkTimer: NodeJS.Timeout | undefined;
  #checking = false;
  #lastCheck = 0;
  /** Ids named by notices not yet checked ('*': all). */
  #pending: Set<number> | '*' | undefined;
  #stopped = false;

  constructor(private readonly options: LeaseKeeperOptions) {
    this.#timer = setInterval(() => void this.#beat(), options.intervalMs);
  }

  stop(): void {
    this.#stopped = true;
    clearInterval(this.#timer);
    if (this.#checkTimer) clearTimeout(this.#checkTimer);
    this.#checkTimer = undefined;
  }

  /** Checks soon (debounced) whether the leases of these items (or of all, '*') are still held. */
  checkSoon(ids: RevokedSet): void {
    if (this.#stopped) return;
    if (ids === '*' || this.#pending === '*') this.#pending = '*';
    else this.#pending = new Set([...(this.#pending ?? []), ...ids]);
    this.#schedule();
  }

  #schedule(): void {
    if (this.#checking || this.#checkTimer || this.#pending === undefined || this.#stopped) return;
    const wait = Math.max(0, this.#lastCheck + CHECK_GAP_MS - Date.now());
    this.#checkTimer = setTimeout(() => {
      this.#checkTimer = undefined;
      void this.#check();
    }, wait);
  }

  async #check(): Promise<void> {
    const pending = this.#pending;
    this.#pending = undefined;
    const all = (this.options.checkedItems ?? this.options.heldItems)();
    const items = pending === '*' ? all : all.filter((i) => pending?.has(i.id));
    if (items.length === 0) return; // notices about other consumers' items cost no query
    this.#checking = true;
    this.#lastCheck = Date.now();
    try {
      const lost = new Set(await findLostLeases(this.options.store, this.options.owner, items));
      // Only the claims that were read: an item claimed again here since is not lost.
      const current = new Map(this.options.heldItems().map((i) => [i.id, i.claim_count]));
      for (const i of items) if (lost.has(i.id) && current.get(i.id) === i.claim_count) this.options.onLost(i.id);
    } catch (err) {
      this.options.logger.warn({ err: describeError(err) }, 'early lease check failed; the next heartbeat will tell');
    } finally {
      this.#checking = false;
      this.#schedule();
    }
  }

  async #beat(): Promise<void> {
    const { store, owner, leaseSeconds, logger } = this.options;
    const items = this.options.heldItems();
    if (items.length === 0) return;
    // Checked before the beat: a beat that hangs (an unreachable server) must not delay it.
    this.#abandonExpiring(items);
    // Lease expiries are on the store's clock (the server's on PostgreSQL), not this host's.
    const sentAt = store.clock.now();
    try {
      const { lost } = await heartbeatWorkItems(store, owner, items, { leaseSeconds });
      const lostIds = new Set(lost);
      // The database set each lease to its now + leaseSeconds, and its now is not before sentAt.
      for (const item of items) if (!lostIds.has(item.id)) this.#expiry.set(item, sentAt + leaseSeconds * 1000);
      for (const id of lost) this.options.onLost(id);
    } catch (err) {
      logger.warn({ err: describeError(err) }, 'heartbeat failed; will retry');
    }
  }

  /** Abandons the items whose lease runs out before the next beat could renew it. */
  #abandonExpiring(items: readonly HeldLease[]): void {
    // Two beats ahead of expiry: one late timer tick still leaves a beat of room.
    const margin = Math.min(2 * this.options.intervalMs, (this.options.leaseSeconds * 1000) / 2);
    const now = this.options.store.clock.now();
    for (const item of items) {
      const expiresAt = this.#expiry.get(item) ?? item.lease_expires_at;
      if (expiresAt === null || now < expiresAt - margin) continue;
      this.options.logger.warn({ itemId: item.id, expiresAt }, 'lease about to expire without a successful heartbeat; abandoning item');
      this.options.onLost(item.id);
    }
  }
}

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
 */
import type { Store } from '../db/open.js';
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Lease } from './claim.js';
import { heartbeatWorkItems } from './heartbeat.js';

export interface LeaseKeeperOptions {
  store: Store;
  owner: string;
  leaseSeconds: number;
  intervalMs: number;
  logger: Logger;
  /** The claims to keep alive (id, claim fence and the lease expiry written at claim), read at every beat. */
  heldItems: () => HeldLease[];
  /** Called once per id whose lease this owner no longer has. */
  onLost: (id: number) => void;
}

export type HeldLease = Lease & { lease_expires_at: number | null };

export class LeaseKeeper {
  readonly #timer: NodeJS.Timeout;
  /** Lease expiry per held claim as of its last successful beat (absent: as written at claim). */
  readonly #expiry = new WeakMap<HeldLease, number>();

  constructor(private readonly options: LeaseKeeperOptions) {
    this.#timer = setInterval(() => void this.#beat(), options.intervalMs);
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  async #beat(): Promise<void> {
    const { store, owner, leaseSeconds, logger } = this.options;
    const items = this.options.heldItems();
    if (items.length === 0) return;
    // Checked before the beat: a beat that hangs (an unreachable server) must not delay it.
    this.#abandonExpiring(items);
    const sentAt = Date.now();
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
    const now = Date.now();
    for (const item of items) {
      const expiresAt = this.#expiry.get(item) ?? item.lease_expires_at;
      if (expiresAt === null || now < expiresAt - margin) continue;
      this.options.logger.warn({ itemId: item.id, expiresAt }, 'lease about to expire without a successful heartbeat; abandoning item');
      this.options.onLost(item.id);
    }
  }
}

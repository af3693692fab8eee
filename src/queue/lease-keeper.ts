/**
 * Keeps the leases of the items a consumer holds alive: every `intervalMs` one heartbeat
 * statement extends them all and reports the ones lost (reclaimed, cancelled, released), which
 * the consumer then abandons. A failed heartbeat is logged and tried again on the next tick;
 * the interval is a fraction of the lease, so one slow or failed beat does not lose it.
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
  /** The claims to keep alive (id and claim fence), read at every beat. */
  heldItems: () => Lease[];
  /** Called once per id whose lease this owner no longer has. */
  onLost: (id: number) => void;
}

export class LeaseKeeper {
  readonly #timer: NodeJS.Timeout;

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
    try {
      const { lost } = await heartbeatWorkItems(store, owner, items, { leaseSeconds });
      for (const id of lost) this.options.onLost(id);
    } catch (err) {
      logger.warn({ err: describeError(err) }, 'heartbeat failed; will retry');
    }
  }
}

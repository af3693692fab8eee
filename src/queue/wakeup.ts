/**
 * Wake-ups for idle consumers, so new work starts within milliseconds without polling storms.
 *
 * - Same process, both backends: enqueue/retry/release call `signalLocalWork`.
 * - Other processes: the store's wake-up transport (src/db/wakeup-transport.ts) reports their
 *   work, one per store and process, shared by every consumer on it.
 *
 * - Lease revocations (an operator cancelled a running item): `onRevoked` listeners hear of them
 *   from this process (`signalLocalRevocation`) and from others (the transport), so a consumer
 *   stops a cancelled item's handler within a second instead of at its next heartbeat.
 *
 * A consumer takes a ticket BEFORE it claims and waits on it after an empty claim, so a wake-up
 * that arrives between the claim and the wait is never lost.
 */
import type { Store } from '../db/open.js';
import {
  openWakeupTransport,
  workSiteKey,
  type RevokedSet,
  type SiteSet,
  type WakeupTransport,
  type WakeupTransportOptions,
} from '../db/wakeup-transport.js';
import { silentLogger, type Logger } from '../log.js';

export type WakeupOptions = WakeupTransportOptions;

export interface WakeupTicket {
  /** True once a relevant wake-up arrived (false after a timeout). */
  readonly woken: boolean;
  /** Resolves on a relevant wake-up since the ticket was taken, or after `timeoutMs`. */
  wait(timeoutMs: number): Promise<void>;
  dispose(): void;
}

class Ticket implements WakeupTicket {
  woken = false;
  #resolve: (() => void) | undefined;

  constructor(
    private readonly source: WakeupSource,
    private readonly siteKey: string | undefined,
    /**
     * The transport's mark when the ticket was taken (SQLite: data_version). A commit by another
     * connection after that (even one before wait() starts) wakes the ticket.
     */
    readonly mark: number | undefined,
  ) {}

  matches(sites: SiteSet): boolean {
    return sites === '*' || this.siteKey === undefined || sites.has(this.siteKey);
  }

  wake(): void {
    this.woken = true;
    this.#resolve?.();
  }

  wait(timeoutMs: number): Promise<void> {
    if (!this.woken && this.source.changedSince(this.mark)) this.wake();
    if (this.woken) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      const self = this;
      function done() {
        clearTimeout(timer);
        self.#resolve = undefined;
        self.source.waiting(-1);
        resolve();
      }
      this.#resolve = done;
      this.source.waiting(+1);
    });
  }

  dispose(): void {
    this.#resolve?.();
    this.source.tickets.delete(this);
  }
}

/** A consumer's interest in lease revocations; it watches only while it holds leases. */
export interface RevocationWatch {
  /** Holding leases (true) or none (false); SQLite watches for revocations only while someone holds. */
  holding(on: boolean): void;
  dispose(): void;
}

class WakeupSource {
  readonly tickets = new Set<Ticket>();
  readonly #revocationListeners = new Set<(ids: RevokedSet) => void>();
  #holders = 0;
  #users = 0;
  #waiting = 0;
  #transport: WakeupTransport | undefined;

  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
    private readonly options: WakeupOptions = {},
  ) {}

  ticket(siteId: number | null | undefined): WakeupTicket {
    const t = new Ticket(this, siteId === undefined ? undefined : workSiteKey(siteId), this.#transport?.mark());
    this.tickets.add(t);
    return t;
  }

  wake(sites: SiteSet): void {
    this.#transport?.activity();
    for (const t of this.tickets) if (t.matches(sites)) t.wake();
  }

  revoked(ids: RevokedSet): void {
    for (const listener of this.#revocationListeners) listener(ids);
  }

  onRevoked(listener: (ids: RevokedSet) => void): RevocationWatch {
    this.#revocationListeners.add(listener);
    let holding = false;
    let disposed = false;
    const hold = (on: boolean) => {
      if (on === holding || (on && disposed)) return;
      holding = on;
      this.#holders += on ? 1 : -1;
      this.#transport?.leaseWatchers(this.#holders);
    };
    return {
      holding: hold,
      dispose: () => {
        hold(false);
        disposed = true;
        this.#revocationListeners.delete(listener);
      },
    };
  }

  acquire(): void {
    this.#users++;
    if (this.#users !== 1) return;
    this.#transport = openWakeupTransport(
      this.store,
      {
        wake: (sites) => this.wake(sites),
        revoked: (ids) => this.revoked(ids),
        wakeChanged: (changed) => {
          let woke = false;
          for (const t of this.tickets) {
            if (!t.woken && t.mark !== undefined && changed(t.mark)) {
              t.wake();
              woke = true;
            }
          }
          return woke;
        },
      },
      this.logger,
      this.options,
    );
    if (this.#holders > 0) this.#transport.leaseWatchers(this.#holders);
  }

  release(): void {
    this.#users--;
    if (this.#users > 0) return;
    this.#transport?.close();
    this.#transport = undefined;
    sources.delete(this.store);
  }

  /** True when another connection committed since `mark` was taken. */
  changedSince(mark: number | undefined): boolean {
    return this.#transport?.changedSince(mark) ?? false;
  }

  /** Counts consumers blocked in wait(); the transport may poll only while someone waits. */
  waiting(delta: number): void {
    this.#waiting += delta;
    this.#transport?.waiters(this.#waiting);
  }
}

const sources = new WeakMap<Store, WakeupSource>();

/** The shared wake-up source of a store; pair every `acquireWakeups` with `releaseWakeups`. */
export function acquireWakeups(
  store: Store,
  logger: Logger = silentLogger,
  options: WakeupOptions = {},
): {
  ticket(siteId: number | null | undefined): WakeupTicket;
  /** Calls `listener` when leases may have been revoked (see RevocationWatch). */
  onRevoked(listener: (ids: RevokedSet) => void): RevocationWatch;
  release(): void;
} {
  let source = sources.get(store);
  if (!source) {
    // Options apply to the store's first user, which creates the shared source.
    source = new WakeupSource(store, logger, options);
    sources.set(store, source);
  }
  source.acquire();
  const s = source;
  let released = false;
  return {
    ticket: (siteId) => s.ticket(siteId),
    onRevoked: (listener) => s.onRevoked(listener),
    release: () => {
      if (released) return;
      released = true;
      s.release();
    },
  };
}

/** Wakes this process's consumers waiting for these sites (after an enqueue or a requeue). */
export function signalLocalWork(store: Store, siteIds: ReadonlyArray<number | null>): void {
  sources.get(store)?.wake(new Set(siteIds.map(workSiteKey)));
}

/** Tells this process's consumers that these items' leases were revoked (after a cancel). */
export function signalLocalRevocation(store: Store, ids: readonly number[]): void {
  if (ids.length > 0) sources.get(store)?.revoked(new Set(ids));
}

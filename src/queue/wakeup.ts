/**
 * Wake-ups for idle consumers, so new work starts within milliseconds without polling storms.
 *
 * - Same process, both backends: enqueue/retry/release call `signalLocalWork`.
 * - PostgreSQL, other processes: one dedicated LISTEN connection per store (shared by every
 *   consumer on it) receives the NOTIFY sent by the insert trigger (see dialect.installWorkNotify)
 *   and by release/retry; it reconnects with backoff and wakes everyone once after a reconnect,
 *   since notifications sent while it was away are lost.
 * - SQLite, other processes: `PRAGMA data_version` changes when another connection commits; it
 *   is read synchronously (a few microseconds) while a consumer waits: every 2 ms for a second
 *   after the last activity, then every 20 ms, then every 50 ms after 10 s of quiet. The pragma
 *   is cheap but each timer wake-up is not, so a long-idle consumer polls slowly (~0% CPU) and a
 *   busy one reacts within a few milliseconds.
 *
 * A consumer takes a ticket BEFORE it claims and waits on it after an empty claim, so a wake-up
 * that arrives between the claim and the wait is never lost.
 */
import type pg from 'pg';
import { WORK_CHANNEL } from '../db/dialect.js';
import type { Store } from '../db/open.js';
import { loadPg, postgresClientConfig } from '../db/postgres-pool.js';
import { silentLogger, type Logger } from '../log.js';

/** SQLite data_version poll interval by time since the last activity. */
export function sqlitePollMs(quietMs: number): number {
  if (quietMs < 1_000) return 2;
  if (quietMs < 10_000) return 20;
  return 50;
}

/** Which sites a wake-up concerns: a set of site keys ("-" for none) or every site. */
type SiteSet = ReadonlySet<string> | '*';

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
     * SQLite: the data_version when the ticket was taken. A commit by another connection after
     * that (even one before wait() starts) wakes the ticket.
     */
    readonly dataVersion: number | undefined,
  ) {}

  matches(sites: SiteSet): boolean {
    return sites === '*' || this.siteKey === undefined || sites.has(this.siteKey);
  }

  wake(): void {
    this.woken = true;
    this.#resolve?.();
  }

  wait(timeoutMs: number): Promise<void> {
    if (!this.woken && this.source.changedSince(this.dataVersion)) this.wake();
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

class WakeupSource {
  readonly tickets = new Set<Ticket>();
  #users = 0;
  #waiting = 0;
  #listener: pg.Client | undefined;
  #closed = false;
  #reconnectDelay = 100;
  #pollTimer: NodeJS.Timeout | undefined;
  #lastActivity = Date.now();

  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
  ) {}

  ticket(siteId: number | null | undefined): WakeupTicket {
    const t = new Ticket(this, siteId === undefined ? undefined : siteKey(siteId), this.store.dataVersion?.());
    this.tickets.add(t);
    return t;
  }

  wake(sites: SiteSet): void {
    this.#lastActivity = Date.now();
    for (const t of this.tickets) if (t.matches(sites)) t.wake();
  }

  acquire(): void {
    this.#users++;
    if (this.#users === 1 && this.store.dialect.capabilities.listenNotify) void this.#listen();
  }

  release(): void {
    this.#users--;
    if (this.#users > 0) return;
    this.#closed = true;
    const client = this.#listener;
    this.#listener = undefined;
    void client?.end().catch(() => {});
    if (this.#pollTimer) clearTimeout(this.#pollTimer);
    this.#pollTimer = undefined;
    sources.delete(this.store);
  }

  /** True when another connection committed since `dataVersion` was read (SQLite only). */
  changedSince(dataVersion: number | undefined): boolean {
    return dataVersion !== undefined && this.store.dataVersion !== undefined && this.store.dataVersion() !== dataVersion;
  }

  /** Counts consumers blocked in wait(); SQLite polls data_version only while someone waits. */
  waiting(delta: number): void {
    this.#waiting += delta;
    const dataVersion = this.store.dataVersion;
    if (!dataVersion) return;
    if (this.#waiting > 0 && !this.#pollTimer) {
      const poll = () => {
        // Each ticket compares with the version it was taken at, so a commit that landed
        // between a consumer's claim and its wait is not lost.
        const v = dataVersion();
        let woke = false;
        for (const t of this.tickets) {
          if (!t.woken && t.dataVersion !== undefined && t.dataVersion !== v) {
            t.wake();
            woke = true;
          }
        }
        if (woke) this.#lastActivity = Date.now();
        this.#pollTimer = setTimeout(poll, sqlitePollMs(Date.now() - this.#lastActivity));
      };
      this.#pollTimer = setTimeout(poll, sqlitePollMs(Date.now() - this.#lastActivity));
    } else if (this.#waiting === 0 && this.#pollTimer) {
      clearTimeout(this.#pollTimer);
      this.#pollTimer = undefined;
    }
  }

  async #listen(): Promise<void> {
    if (this.#closed || this.store.target.backend !== 'postgres') return;
    const client = new (loadPg().Client)(
      postgresClientConfig({ connectionString: this.store.target.connectionString, applicationName: 'jobyard-listener' }),
    );
    let failed = false;
    const retry = (err: unknown) => {
      // 'error' and 'end' both fire for one lost connection: handle it once.
      if (failed) return;
      failed = true;
      const current = this.#listener === client;
      if (current) this.#listener = undefined;
      void client.end().catch(() => {});
      if (this.#closed || !current) return;
      this.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'work listener lost; reconnecting');
      setTimeout(() => void this.#listen(), this.#reconnectDelay).unref();
      this.#reconnectDelay = Math.min(this.#reconnectDelay * 2, 5_000);
    };
    client.on('error', retry);
    client.on('end', () => retry(new Error('connection ended')));
    client.on('notification', (msg) => {
      if (msg.channel !== WORK_CHANNEL) return;
      const payload = msg.payload ?? '*';
      this.wake(payload === '*' || payload === '' ? '*' : new Set(payload.split(',')));
    });
    try {
      this.#listener = client;
      await client.connect();
      await client.query(`listen ${WORK_CHANNEL}`);
      if (this.#closed) {
        await client.end();
        return;
      }
      this.#reconnectDelay = 100;
      // Anything enqueued while we were not listening was not announced to us.
      this.wake('*');
    } catch (err) {
      retry(err);
    }
  }
}

const sources = new WeakMap<Store, WakeupSource>();

function siteKey(siteId: number | null): string {
  return siteId === null ? '-' : String(siteId);
}

/** The shared wake-up source of a store; pair every `acquireWakeups` with `releaseWakeups`. */
export function acquireWakeups(store: Store, logger: Logger = silentLogger): { ticket(siteId: number | null | undefined): WakeupTicket; release(): void } {
  let source = sources.get(store);
  if (!source) {
    source = new WakeupSource(store, logger);
    sources.set(store, source);
  }
  source.acquire();
  const s = source;
  let released = false;
  return {
    ticket: (siteId) => s.ticket(siteId),
    release: () => {
      if (released) return;
      released = true;
      s.release();
    },
  };
}

/** Wakes this process's consumers waiting for these sites (after an enqueue or a requeue). */
export function signalLocalWork(store: Store, siteIds: ReadonlyArray<number | null>): void {
  sources.get(store)?.wake(new Set(siteIds.map(siteKey)));
}

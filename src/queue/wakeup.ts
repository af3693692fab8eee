/**
 * Wake-ups for idle consumers, so new work starts within milliseconds without polling storms.
 *
 * - Same process, both backends: enqueue/retry/release call `signalLocalWork`.
 * - PostgreSQL, other processes: one dedicated LISTEN connection per store (shared by every
 *   consumer on it) receives the NOTIFY sent by the insert trigger (see dialect.installWorkNotify)
 *   and by release/retry; it reconnects with backoff and wakes everyone once after a reconnect,
 *   since notifications sent while it was away are lost.
 * - SQLite, other processes: `PRAGMA data_version` changes when another connection commits; it
 *   is read synchronously (a few microseconds). Two things make a waiting consumer read it:
 *   a file-system watch (inotify on Linux) on the database's folder, which fires when another
 *   process writes the WAL, so a commit wakes consumers within about a millisecond however long
 *   they were idle; and a poll as a safety net for file systems whose watches miss writes. With
 *   a working watch the poll is slow (100 ms for 10 s after the last activity, then 1 s); without
 *   one it is every 2 ms for a second, then every 20 ms, then every 50 ms. The pragma is cheap
 *   but each timer wake-up is not, so a long-idle consumer uses ~0% CPU.
 *
 * A consumer takes a ticket BEFORE it claims and waits on it after an empty claim, so a wake-up
 * that arrives between the claim and the wait is never lost.
 */
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type pg from 'pg';
import { WORK_CHANNEL } from '../db/dialect.js';
import type { Store } from '../db/open.js';
import { loadPg, postgresClientConfig } from '../db/postgres-pool.js';
import { silentLogger, type Logger } from '../log.js';

/** SQLite data_version poll interval by time since the last activity, when no file watch works. */
export function sqlitePollMs(quietMs: number): number {
  if (quietMs < 1_000) return 2;
  if (quietMs < 10_000) return 20;
  return 50;
}

/** The safety-net poll while a file watch on the database folder reports other processes' writes. */
export function sqliteWatchedPollMs(quietMs: number): number {
  return quietMs < 10_000 ? 100 : 1_000;
}

export interface WakeupOptions {
  /** SQLite: replaces the poll schedule (tests use a very slow one to prove the watch works). */
  sqlitePollMs?: (quietMs: number) => number;
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
  #watcher: FSWatcher | undefined;

  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
    private readonly options: WakeupOptions = {},
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
    if (this.#users !== 1) return;
    if (this.store.dialect.capabilities.listenNotify) void this.#listen();
    else this.#watchDatabaseFolder();
  }

  release(): void {
    this.#users--;
    if (this.#users > 0) return;
    this.#closed = true;
    const client = this.#listener;
    this.#listener = undefined;
    void client?.end().catch(() => {});
    this.#watcher?.close();
    this.#watcher = undefined;
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
    if (!this.store.dataVersion) return;
    if (this.#waiting > 0 && !this.#pollTimer) {
      const poll = () => {
        this.#checkDataVersion();
        this.#pollTimer = setTimeout(poll, this.#pollMs());
      };
      this.#pollTimer = setTimeout(poll, this.#pollMs());
    } else if (this.#waiting === 0 && this.#pollTimer) {
      clearTimeout(this.#pollTimer);
      this.#pollTimer = undefined;
    }
  }

  #pollMs(): number {
    const quietMs = Date.now() - this.#lastActivity;
    const schedule = this.options.sqlitePollMs ?? (this.#watcher ? sqliteWatchedPollMs : sqlitePollMs);
    return schedule(quietMs);
  }

  /** SQLite: wakes the tickets taken before another connection's latest commit. */
  #checkDataVersion(): void {
    const dataVersion = this.store.dataVersion;
    if (!dataVersion) return;
    // Each ticket compares with the version it was taken at, so a commit that landed between a
    // consumer's claim and its wait is not lost.
    const v = dataVersion();
    let woke = false;
    for (const t of this.tickets) {
      if (!t.woken && t.dataVersion !== undefined && t.dataVersion !== v) {
        t.wake();
        woke = true;
      }
    }
    if (woke) this.#lastActivity = Date.now();
  }

  /**
   * SQLite file databases: watch the folder (the WAL, journal and database files are written
   * by every commit of every process) and check data_version when one of this database's files
   * changes while someone waits. Events from this process's own writes are harmless: its own
   * commits do not change its data_version. Where no watch can be set, the fast poll remains.
   */
  #watchDatabaseFolder(): void {
    const target = this.store.target;
    if (target.backend !== 'sqlite' || target.path === ':memory:') return;
    const file = resolve(target.path);
    const name = basename(file);
    try {
      const watcher = watch(dirname(file), { persistent: false }, (_event, changed) => {
        if (this.#waiting > 0 && (changed === null || changed.startsWith(name))) this.#checkDataVersion();
      });
      watcher.on('error', (err) => {
        this.logger.warn({ err: err.message }, 'database folder watch failed; polling for other processes\' work');
        watcher.close();
        if (this.#watcher === watcher) this.#watcher = undefined;
      });
      this.#watcher = watcher;
    } catch (err) {
      this.logger.debug({ err: err instanceof Error ? err.message : String(err) }, 'cannot watch the database folder; polling instead');
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
export function acquireWakeups(
  store: Store,
  logger: Logger = silentLogger,
  options: WakeupOptions = {},
): { ticket(siteId: number | null | undefined): WakeupTicket; release(): void } {
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

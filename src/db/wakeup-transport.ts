/**
 * How a process learns that another process made work claimable: the backend-specific half of
 * the wake-ups in src/queue/wakeup.ts, which keeps the tickets and knows nothing of backends.
 *
 * - PostgreSQL (wakeup-postgres.ts): a LISTEN connection receives the NOTIFY that the insert
 *   trigger and `dialect.notifyWork` send, and names the sites it concerns.
 * - SQLite (wakeup-sqlite.ts): nothing is announced; each ticket records `PRAGMA data_version`
 *   when taken, and a folder watch plus a safety-net poll wake the tickets it has moved past.
 *
 * The same transport tells lease holders that leases may have been revoked (an operator cancelled
 * a running item): PostgreSQL names the items (dialect.notifyLeasesRevoked); SQLite reports any
 * commit by another connection, checked every LEASE_WATCH_MS while someone holds leases.
 */
import type { Logger } from '../log.js';
import type { Store } from './open.js';
import { openPostgresWakeups } from './wakeup-postgres.js';
import { openSqliteWakeups } from './wakeup-sqlite.js';

/** Which sites a wake-up concerns: site keys (see `workSiteKey`) or every site. */
export type SiteSet = ReadonlySet<string> | '*';

/** A site id as the NOTIFY payload spells it (dialect.notifyWork and the insert trigger): "-" for none. */
export function workSiteKey(siteId: number | null): string {
  return siteId === null ? '-' : String(siteId);
}

/** What the transport calls back into the tickets' owner. */
export interface WakeupHooks {
  /** Another process announced work for these sites, or '*' when announcements may have been missed. */
  wake(sites: SiteSet): void;
  /** Wakes the tickets whose mark `changed` reports as outdated; true when one was woken. */
  wakeChanged(changed: (mark: number) => boolean): boolean;
  /** Leases of these items (or of any, '*') may have been revoked by another process. */
  revoked(ids: RevokedSet): void;
}

/** Item ids whose leases may have been revoked, or '*' when any may have been. */
export type RevokedSet = ReadonlySet<number> | '*';

/** SQLite: how often data_version is read while someone holds leases (a few microseconds each). */
export const LEASE_WATCH_MS = 250;

export interface WakeupTransport {
  /**
   * Recorded with each ticket: the database's state as this connection sees it (SQLite's
   * data_version), or undefined where changes are announced instead (PostgreSQL).
   */
  mark(): number | undefined;
  /** True when another connection committed since `mark` was taken. */
  changedSince(mark: number | undefined): boolean;
  /** How many consumers are blocked waiting (SQLite polls only while someone waits). */
  waiters(count: number): void;
  /** How many consumers hold leases and want `revoked` (SQLite watches only while some do). */
  leaseWatchers(count: number): void;
  /** Work was signalled here: a poll after activity is faster than an idle one. */
  activity(): void;
  close(): void;
}

export interface WakeupTransportOptions {
  /** SQLite: replaces the poll schedule (tests use a very slow one to prove the watch works). */
  sqlitePollMs?: (quietMs: number) => number;
}

/** Starts the store's transport; one per store and process, closed when its last user leaves. */
export function openWakeupTransport(
  store: Store,
  hooks: WakeupHooks,
  logger: Logger,
  options: WakeupTransportOptions = {},
): WakeupTransport {
  const { target } = store;
  if (target.backend === 'postgres') return openPostgresWakeups(store.wakeups, hooks, logger);
  if (!store.dataVersion) throw new Error(`SQLite store ${store.description} has no data_version reader`);
  return openSqliteWakeups(target.path, store.dataVersion, hooks, logger, options.sqlitePollMs);
}

/**
 * SQLite wake-ups: `PRAGMA data_version` changes when another connection commits; it is read
 * synchronously (a few microseconds). Two things make a waiting consumer read it: a file-system
 * watch (inotify on Linux) on the database's folder, which fires when another process writes the
 * WAL, so a commit wakes consumers within about a millisecond however long they were idle; and a
 * poll as a safety net for file systems whose watches miss writes. With a working watch the poll
 * is slow (100 ms for 10 s after the last activity, then 1 s); without one it is every 2 ms for a
 * second, then every 20 ms, then every 50 ms. The pragma is cheap but each timer wake-up is not,
 * so a long-idle consumer uses ~0% CPU.
 *
 * Lease holders are told of revocations (a cancelled item) the same way: while some consumer holds
 * leases, data_version is read every LEASE_WATCH_MS, and any other connection's commit since the
 * last read reports that any lease may have been revoked (the holder then reads its items' rows).
 */
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { Logger } from '../log.js';
import { LEASE_WATCH_MS, type WakeupHooks, type WakeupTransport } from './wakeup-transport.js';

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

/** `path` is the database file (":memory:" has no file, so only the poll runs). */
export function openSqliteWakeups(
  path: string,
  dataVersion: () => number,
  hooks: WakeupHooks,
  logger: Logger,
  pollSchedule?: (quietMs: number) => number,
): WakeupTransport {
  let waiting = 0;
  let pollTimer: NodeJS.Timeout | undefined;
  let lastActivity = Date.now();
  let watcher: FSWatcher | undefined;
  let leaseTimer: NodeJS.Timeout | undefined;

  const pollMs = () => (pollSchedule ?? (watcher ? sqliteWatchedPollMs : sqlitePollMs))(Date.now() - lastActivity);

  let closed = false;

  /**
   * data_version for the watch, the poll and the lease watch, which run on their own (a file
   * event, a timer): undefined, and everything stopped, once the store's connection is closed
   * under a consumer that has not released its wake-ups yet (a shutdown in progress). Thrown
   * there, it was an uncaught exception that ended the process.
   */
  function version(): number | undefined {
    if (closed) return undefined;
    try {
      return dataVersion();
    } catch (err) {
      logger.debug({ err: err instanceof Error ? err.message : String(err) }, 'database closed; wake-ups stopped');
      stop();
      return undefined;
    }
  }

  /** Wakes the tickets taken before another connection's latest commit. */
  function check(): void {
    // Each ticket compares with the version it was taken at, so a commit that landed between a
    // consumer's claim and its wait is not lost.
    const v = version();
    if (v === undefined) return;
    if (hooks.wakeChanged((mark) => mark !== v)) lastActivity = Date.now();
  }

  function stop(): void {
    closed = true;
    watcher?.close();
    watcher = undefined;
    if (pollTimer) clearTimeout(pollTimer);
    pollTimer = undefined;
    if (leaseTimer) clearInterval(leaseTimer);
    leaseTimer = undefined;
  }

  /**
   * Watches the folder (the WAL, journal and database files are written by every commit of every
   * process) and checks data_version when one of this database's files changes while someone
   * waits. Events from this process's own writes are harmless: its own commits do not change its
   * data_version. Where no watch can be set, the fast poll remains.
   */
  function watchDatabaseFolder(): void {
    if (path === ':memory:') return;
    const file = resolve(path);
    const name = basename(file);
    try {
      const w = watch(dirname(file), { persistent: false }, (_event, changed) => {
        if (waiting > 0 && (changed === null || changed.startsWith(name))) check();
      });
      w.on('error', (err) => {
        logger.warn({ err: err.message }, 'database folder watch failed; polling for other processes\' work');
        w.close();
        if (watcher === w) watcher = undefined;
      });
      watcher = w;
    } catch (err) {
      logger.debug({ err: err instanceof Error ? err.message : String(err) }, 'cannot watch the database folder; polling instead');
    }
  }

  watchDatabaseFolder();
  return {
    mark: () => dataVersion(),
    changedSince: (mark) => mark !== undefined && dataVersion() !== mark,
    waiters(count) {
      waiting = count;
      if (waiting > 0 && !pollTimer && !closed) {
        const poll = () => {
          check();
          if (!closed) pollTimer = setTimeout(poll, pollMs());
        };
        pollTimer = setTimeout(poll, pollMs());
      } else if (waiting === 0 && pollTimer) {
        clearTimeout(pollTimer);
        pollTimer = undefined;
      }
    },
    leaseWatchers(count) {
      if (count > 0 && !leaseTimer && !closed) {
        let seen = dataVersion();
        leaseTimer = setInterval(() => {
          const v = version();
          if (v === undefined || v === seen) return;
          seen = v;
          hooks.revoked('*');
        }, LEASE_WATCH_MS);
        leaseTimer.unref();
      } else if (count === 0 && leaseTimer) {
        clearInterval(leaseTimer);
        leaseTimer = undefined;
      }
    },
    activity() {
      lastActivity = Date.now();
    },
    close: stop,
  };
}

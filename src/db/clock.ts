/**
 * One clock for leases. Lease expiry, heartbeats and reclaim compare epoch milliseconds written by
 * different processes, so on PostgreSQL every process reads time as the DATABASE SERVER's clock:
 * it samples the server's `clock_timestamp()` at open and every SYNC_INTERVAL_MS (one small query
 * in the background, never on the claim path), and between samples advances the sampled server
 * time with its own monotonic clock (`performance.now()`), so a host whose wall clock is wrong, or
 * is stepped by NTP, still agrees with every other host to within half the sample's round trip.
 *
 * Reclaim (which acts on other processes' leases) refuses to run while this process has no fresh
 * sample, or when its wall clock is further than `maxOffsetMs` from the server's (a host that
 * wrong is broken; the operator must look), and says so once per state change.
 *
 * SQLite: every process shares one host (one file, one machine), so the host clock is the one
 * clock; nothing is sampled.
 */
import { sql } from './kysely.js';
import type { Kysely } from 'kysely';
import type { Logger } from '../log.js';

/** How often the offset is sampled again. */
export const SYNC_INTERVAL_MS = 30_000;
/** A sample whose round trip took longer is discarded (its error would be up to half of it). */
export const MAX_SAMPLE_RTT_MS = 1_000;
/** A sample not answered by then is abandoned (the next one is tried at the next interval). */
export const SAMPLE_TIMEOUT_MS = 10_000;
/** Past this, the host's own clock is reported as wrong (the corrected time is still used). */
export const WARN_OFFSET_MS = 1_000;
/** Default bound past which reclaim is refused (DB_MAX_CLOCK_OFFSET_SECONDS). */
export const DEFAULT_MAX_OFFSET_MS = 300_000;
/** What a claim allows for the other processes' clock error (their samples' half round trips). */
export const CLAIM_SLACK_MARGIN_MS = 50;
/** An item is never claimed more than this before its time. */
export const MAX_CLAIM_SLACK_MS = 1_000;

export interface StoreClock {
  /** Epoch milliseconds on the one clock (the server's on PostgreSQL). */
  now(): number;
  /** Why this process must not reclaim other processes' leases now, or null when it may. */
  reclaimRefusal(): string | null;
  /** Host wall clock minus server clock at the last sample (0 on SQLite or before one). */
  offsetMs(): number;
  /** True once the first sample was taken or tried (always on SQLite): no need to wait for it. */
  synced(): boolean;
  /** Samples now (PostgreSQL); resolves when the sample is taken or failed. */
  sync(): Promise<void>;
  /**
   * How far another process's idea of "now" may be ahead of this one's: 0 on one host clock; on
   * PostgreSQL, the round trip of this process's sample (its own error is half of it) plus a
   * margin for the other side's. A claim counts items due within it as due, so an item another
   * process enqueued "now" is claimable at once, not at the next poll.
   */
  claimSlackMs(): number;
  close(): void;
}

/** The host clock: SQLite, where every process shares one machine. */
export const hostClock: StoreClock = {
  now: () => Date.now(),
  reclaimRefusal: () => null,
  offsetMs: () => 0,
  synced: () => true,
  sync: async () => {},
  claimSlackMs: () => 0,
  close: () => {},
};

export interface ServerClockOptions {
  logger: Logger;
  maxOffsetMs?: number;
  syncIntervalMs?: number;
  /** The host clocks (tests inject them; production reads Date.now and performance.now). */
  wallClock?: () => number;
  monotonic?: () => number;
}

/** A sample: the server's time at `mono` on this process's monotonic clock. */
interface Sample {
  serverMs: number;
  mono: number;
  offsetMs: number;
  rttMs: number;
}

/** Pure: server time from a sample, advanced by monotonic time since it was taken. */
export function serverTimeAt(sample: Sample, mono: number): number {
  return Math.round(sample.serverMs + (mono - sample.mono));
}

/** Pure: a sample from a round trip (t0, t1 on both clocks) and the server's reading in between. */
export function makeSample(serverMs: number, wall0: number, wall1: number, mono0: number, mono1: number): Sample {
  const mid = (mono0 + mono1) / 2;
  return { serverMs, mono: mid, offsetMs: Math.round((wall0 + wall1) / 2 - serverMs), rttMs: mono1 - mono0 };
}

export function openServerClock(db: Kysely<any>, options: ServerClockOptions): StoreClock {
  const wall = options.wallClock ?? Date.now;
  const mono = options.monotonic ?? (() => performance.now());
  const maxOffsetMs = options.maxOffsetMs ?? DEFAULT_MAX_OFFSET_MS;
  const intervalMs = options.syncIntervalMs ?? SYNC_INTERVAL_MS;
  const logger = options.logger;
  let sample: Sample | undefined;
  let lastSyncAttemptOk = false;
  /** The first sample was tried (even if it failed): statements stop waiting for it. */
  let attempted = false;
  let reportedState: string | undefined;
  let closed = false;
  let inFlight: Promise<void> | undefined;

  const report = (state: string, level: 'info' | 'warn' | 'error', fields: Record<string, unknown>, message: string) => {
    if (state === reportedState) return;
    reportedState = state;
    logger[level](fields, message);
  };

  async function takeSample(): Promise<void> {
    // The first sample must not time a connection being opened: the server's time is read at the
    // end of that wait, not in its middle, and the estimate would lag by half of it.
    if (!sample) await sql`select 1`.execute(db);
    const wall0 = wall();
    const mono0 = mono();
    let timer: NodeJS.Timeout | undefined;
    // A sample that hangs (a half-open pooled connection) must not block every later one.
    const r = await Promise.race([
      sql<{ now: number | string }>`select cast(extract(epoch from clock_timestamp()) * 1000 as bigint) as now`.execute(db),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('clock sample timed out')), SAMPLE_TIMEOUT_MS);
        timer.unref();
      }),
    ]).finally(() => clearTimeout(timer));
    const mono1 = mono();
    const wall1 = wall();
    const s = makeSample(Number(r.rows[0]!.now), wall0, wall1, mono0, mono1);
    // A slow round trip makes a rough sample: better than none (the host clock), worse than one we have.
    if (s.rttMs > MAX_SAMPLE_RTT_MS && sample) {
      lastSyncAttemptOk = true;
      return;
    }
    sample = s;
    lastSyncAttemptOk = true;
    const off = Math.abs(s.offsetMs);
    if (off > maxOffsetMs) {
      report('refuse', 'error', { offsetMs: s.offsetMs, maxOffsetMs }, 'host clock is further from the database server than allowed; this process will not reclaim leases until it is fixed');
    } else if (off > WARN_OFFSET_MS) {
      report('warn', 'warn', { offsetMs: s.offsetMs }, 'host clock differs from the database server; using the server clock');
    } else if (reportedState !== undefined && reportedState !== 'ok') {
      report('ok', 'info', { offsetMs: s.offsetMs }, 'host clock agrees with the database server again');
    } else reportedState ??= 'ok';
  }

  function sync(): Promise<void> {
    inFlight ??= takeSample()
      .catch(() => {
        lastSyncAttemptOk = false;
      })
      .finally(() => {
        attempted = true;
        inFlight = undefined;
      });
    return inFlight;
  }

  void sync();
  const timer = setInterval(() => void sync(), intervalMs);
  timer.unref();

  return {
    now: () => (sample ? serverTimeAt(sample, mono()) : wall()),
    offsetMs: () => sample?.offsetMs ?? 0,
    claimSlackMs: () => (sample ? Math.min(MAX_CLAIM_SLACK_MS, CLAIM_SLACK_MARGIN_MS + Math.ceil(sample.rttMs)) : 0),
    synced: () => sample !== undefined || attempted,
    reclaimRefusal() {
      if (closed) return 'clock closed';
      if (!sample) return 'no clock sample from the database server yet';
      // Stale: the monotonic extrapolation is still right, but a sample that old hides a host
      // whose clock drifts fast; two missed samples are tolerated (a busy or restarting server).
      if (!lastSyncAttemptOk && mono() - sample.mono > 3 * intervalMs) return 'clock sample from the database server is stale';
      if (Math.abs(sample.offsetMs) > maxOffsetMs) {
        return `host clock is ${sample.offsetMs} ms off the database server (bound ${maxOffsetMs} ms)`;
      }
      return null;
    },
    sync,
    close() {
      closed = true;
      clearInterval(timer);
    },
  };
}

/**
 * The one clock's time for a statement about to run: before the first sample (just after open),
 * waits for it, so no lease is ever written from an uncorrected host clock.
 */
export async function clockNow(clock: StoreClock): Promise<number> {
  if (!clock.synced()) await clock.sync();
  return clock.now();
}

/**
 * PostgreSQL wake-ups: one dedicated LISTEN connection per store (shared by every consumer on
 * it) receives the NOTIFY sent by the insert trigger (dialect.installWorkNotify) and by
 * release/retry (dialect.notifyWork), and the lease revocations of dialect.notifyLeasesRevoked
 * (cancelled items). It goes to DATABASE_LISTEN_URL when set (a transaction pooler cannot carry
 * LISTEN), else to DATABASE_URL; with no LISTEN possible it polls (see connection-settings.ts).
 *
 * A listener that is deaf is worse than one that failed: a half-open socket (the server or a
 * firewall gone without a FIN) raises no error. So the connection has TCP keepalive, and every
 * checkIntervalMs it asks the server, on that very connection and with a timeout, whether its
 * channel is still listened (`pg_listening_channels()`); a check that fails or times out drops
 * the connection and reconnects with a capped backoff. After every (re)connect it wakes every
 * consumer, since notifications sent while it was away are lost. One log line per state change.
 *
 * The same check counts the processes listening on this database; when there are several, a
 * NOTIFY wakes this process's consumers after a small random delay (at most wakeJitterMs) that
 * also merges a burst of notifications into one wake-up, so N replicas do not all claim at once.
 */
import type pg from 'pg';
import type { Logger } from '../log.js';
import type { WakeupSettings } from './connection-settings.js';
import { LEASE_CHANNEL, WORK_CHANNEL } from './dialect.js';
import { loadPg, postgresClientConfig } from './postgres-pool.js';
import type { RevokedSet, SiteSet, WakeupHooks, WakeupTransport } from './wakeup-transport.js';

export const LISTENER_APPLICATION_NAME = 'jobyard-listener';
/** TCP keepalive probes start after this much silence on the LISTEN socket. */
export const LISTENER_KEEPALIVE_MS = 10_000;

export function openPostgresWakeups(settings: WakeupSettings, hooks: WakeupHooks, logger: Logger): WakeupTransport {
  if (settings.listenUrl === null) return openPolling(settings, hooks, logger);
  const connectionString = settings.listenUrl;
  let listener: pg.Client | undefined;
  let closed = false;
  let reconnectDelay = 100;
  let checkTimer: NodeJS.Timeout | undefined;
  let lostSince: number | undefined;
  let everListened = false;
  let listeners = 1;
  let pendingSites: Set<string> | '*' | undefined;
  let jitterTimer: NodeJS.Timeout | undefined;

  /** Wakes now, or (several listeners) after a random delay that merges a burst into one wake. */
  function wake(sites: SiteSet): void {
    if (listeners <= 1 || settings.wakeJitterMs <= 0) return hooks.wake(sites);
    pendingSites = sites === '*' || pendingSites === '*' ? '*' : new Set([...(pendingSites ?? []), ...sites]);
    jitterTimer ??= setTimeout(() => {
      jitterTimer = undefined;
      const s = pendingSites;
      pendingSites = undefined;
      if (s && !closed) hooks.wake(s);
    }, Math.random() * settings.wakeJitterMs);
  }

  /** Drops a connection at once: end() on a half-open socket would wait for an answer that never comes. */
  function destroy(client: pg.Client): void {
    const stream = (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream;
    stream?.destroy();
    void client.end().catch(() => {});
  }

  function lost(client: pg.Client, reason: string): void {
    if (listener !== client) return;
    listener = undefined;
    if (checkTimer) clearTimeout(checkTimer);
    checkTimer = undefined;
    destroy(client);
    if (closed) return;
    if (lostSince === undefined) {
      lostSince = Date.now();
      logger.warn({ reason }, 'work listener lost; reconnecting (consumers fall back to polling meanwhile)');
    }
    setTimeout(() => void listen(), reconnectDelay).unref();
    reconnectDelay = Math.min(reconnectDelay * 2, settings.maxBackoffMs);
  }

  function scheduleCheck(client: pg.Client): void {
    checkTimer = setTimeout(() => void check(client), settings.checkIntervalMs);
    checkTimer.unref();
  }

  async function check(client: pg.Client): Promise<void> {
    let timeout: NodeJS.Timeout | undefined;
    try {
      const result = await Promise.race([
        client.query<{ listening: boolean; listeners: string }>(
          `select exists (select 1 from pg_listening_channels() c where c = $1) as listening,
                  (select count(*) from pg_stat_activity where application_name = $2 and datname = current_database()) as listeners`,
          [WORK_CHANNEL, LISTENER_APPLICATION_NAME],
        ),
        new Promise<never>((_, reject) => {
          timeout = setTimeout(() => reject(new Error(`no answer to the listen check within ${settings.checkTimeoutMs} ms`)), settings.checkTimeoutMs);
        }),
      ]);
      const row = result.rows[0];
      if (!row?.listening) throw new Error('the connection no longer listens on the work channel');
      listeners = Math.max(1, Number(row.listeners));
      if (listener === client && !closed) scheduleCheck(client);
    } catch (err) {
      lost(client, err instanceof Error ? err.message : String(err));
    } finally {
      clearTimeout(timeout);
    }
  }

  async function listen(): Promise<void> {
    if (closed) return;
    const client = new (loadPg().Client)({
      ...postgresClientConfig({ connectionString, applicationName: LISTENER_APPLICATION_NAME, keepAliveInitialDelayMs: LISTENER_KEEPALIVE_MS }),
      connectionTimeoutMillis: settings.checkTimeoutMs,
    });
    listener = client;
    // 'error' and 'end' both fire for one lost connection; lost() acts once per client.
    client.on('error', (err) => lost(client, err.message));
    client.on('end', () => lost(client, 'connection ended'));
    client.on('notification', (msg) => {
      if (msg.channel === LEASE_CHANNEL) return hooks.revoked(revokedIds(msg.payload));
      if (msg.channel !== WORK_CHANNEL) return;
      const payload = msg.payload ?? '*';
      wake(payload === '*' || payload === '' ? '*' : new Set(payload.split(',')));
    });
    try {
      await client.connect();
      await client.query(`listen ${WORK_CHANNEL}; listen ${LEASE_CHANNEL}`);
      if (closed || listener !== client) {
        destroy(client);
        return;
      }
      reconnectDelay = 100;
      if (lostSince !== undefined) logger.info({ deafMs: Date.now() - lostSince }, 'work listener reconnected; waking every consumer');
      else if (!everListened) logger.debug('work listener listening');
      lostSince = undefined;
      everListened = true;
      // A first check at once: it also counts the listeners, which decides the wake-up jitter.
      void check(client);
      // Anything enqueued or cancelled while we were not listening was not announced to us.
      hooks.wake('*');
      hooks.revoked('*');
    } catch (err) {
      lost(client, err instanceof Error ? err.message : String(err));
    }
  }

  void listen();
  return {
    // Changes are announced, so tickets carry no mark.
    mark: () => undefined,
    changedSince: () => false,
    waiters: () => {},
    leaseWatchers: () => {},
    activity: () => {},
    close() {
      closed = true;
      if (checkTimer) clearTimeout(checkTimer);
      if (jitterTimer) clearTimeout(jitterTimer);
      const client = listener;
      listener = undefined;
      if (client) void client.end().catch(() => {});
    },
  };
}

/**
 * Poll-only (no LISTEN possible): every pollMs, wake the consumers that wait (each then runs one
 * claim) and have lease holders check their leases. New work starts within pollMs; a cancelled
 * item's handler stops within pollMs plus the early-check gap.
 */
function openPolling(settings: WakeupSettings, hooks: WakeupHooks, logger: Logger): WakeupTransport {
  logger.info({ pollMs: settings.pollMs, reason: settings.pollReason }, 'no LISTEN connection: consumers poll for work');
  let waiting = 0;
  let holders = 0;
  const timer = setInterval(() => {
    if (waiting > 0) hooks.wake('*');
    if (holders > 0) hooks.revoked('*');
  }, settings.pollMs);
  timer.unref();
  return {
    mark: () => undefined,
    changedSince: () => false,
    waiters: (count) => void (waiting = count),
    leaseWatchers: (count) => void (holders = count),
    activity: () => {},
    close: () => clearInterval(timer),
  };
}

/** The ids a lease NOTIFY lists ("*" or anything unreadable: any lease may have been revoked). */
function revokedIds(payload: string | undefined): RevokedSet {
  if (!payload || payload === '*') return '*';
  const ids = payload.split(',').map(Number);
  return ids.every(Number.isSafeInteger) ? new Set(ids) : '*';
}

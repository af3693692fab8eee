/**
 * PostgreSQL wake-ups: one dedicated LISTEN connection per store (shared by every consumer on
 * it) receives the NOTIFY sent by the insert trigger (dialect.installWorkNotify) and by
 * release/retry (dialect.notifyWork), and the lease revocations of dialect.notifyLeasesRevoked
 * (cancelled items). It reconnects with backoff and wakes everyone once after a
 * (re)connect, since notifications sent while it was away are lost.
 */
import type pg from 'pg';
import type { Logger } from '../log.js';
import { LEASE_CHANNEL, WORK_CHANNEL } from './dialect.js';
import { loadPg, postgresClientConfig } from './postgres-pool.js';
import type { RevokedSet, WakeupHooks, WakeupTransport } from './wakeup-transport.js';

export function openPostgresWakeups(connectionString: string, hooks: WakeupHooks, logger: Logger): WakeupTransport {
  let listener: pg.Client | undefined;
  let closed = false;
  let reconnectDelay = 100;

  async function listen(): Promise<void> {
    if (closed) return;
    const client = new (loadPg().Client)(postgresClientConfig({ connectionString, applicationName: 'jobyard-listener' }));
    let failed = false;
    const retry = (err: unknown) => {
      // 'error' and 'end' both fire for one lost connection: handle it once.
      if (failed) return;
      failed = true;
      const current = listener === client;
      if (current) listener = undefined;
      void client.end().catch(() => {});
      if (closed || !current) return;
      logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'work listener lost; reconnecting');
      setTimeout(() => void listen(), reconnectDelay).unref();
      reconnectDelay = Math.min(reconnectDelay * 2, 5_000);
    };
    client.on('error', retry);
    client.on('end', () => retry(new Error('connection ended')));
    client.on('notification', (msg) => {
      if (msg.channel === LEASE_CHANNEL) return hooks.revoked(revokedIds(msg.payload));
      if (msg.channel !== WORK_CHANNEL) return;
      const payload = msg.payload ?? '*';
      hooks.wake(payload === '*' || payload === '' ? '*' : new Set(payload.split(',')));
    });
    try {
      listener = client;
      await client.connect();
      await client.query(`listen ${WORK_CHANNEL}; listen ${LEASE_CHANNEL}`);
      if (closed) {
        await client.end();
        return;
      }
      reconnectDelay = 100;
      // Anything enqueued or cancelled while we were not listening was not announced to us.
      hooks.wake('*');
      hooks.revoked('*');
    } catch (err) {
      retry(err);
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
      const client = listener;
      listener = undefined;
      void client?.end().catch(() => {});
    },
  };
}

/** The ids a lease NOTIFY lists ("*" or anything unreadable: any lease may have been revoked). */
function revokedIds(payload: string | undefined): RevokedSet {
  if (!payload || payload === '*') return '*';
  const ids = payload.split(',').map(Number);
  return ids.every(Number.isSafeInteger) ? new Set(ids) : '*';
}

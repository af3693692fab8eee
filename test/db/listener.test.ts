/**
 * A listener that notices it is deaf (PostgreSQL; SQLite has no listener). Its backend is
 * terminated, or its socket blackholed in a network namespace (the link taken down: no FIN, no
 * RST, a half-open connection): it notices within the check interval plus the check timeout,
 * logs one line per state change, reconnects with a capped backoff, and wakes every consumer
 * once it listens again, so work enqueued while it was deaf is not missed.
 */
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Store } from '../../src/db/open.js';
import { enqueueWorkItem } from '../../src/queue/index.js';
import { acquireWakeups } from '../../src/queue/wakeup.js';
import { BackendContext } from '../helpers/backends.js';
import { createNetnsHost, forwardTcp, type NetnsHost, type TcpForwarder } from '../helpers/netns.js';
import { waitUntil } from '../helpers/processes.js';

const PROBE = fileURLToPath(new URL('../fixtures/listener-probe.mjs', import.meta.url));
const SITE = 3;
const CHECK_MS = 500;
const CHECK_TIMEOUT_MS = 1_000;
const LOST = 'work listener lost; reconnecting (consumers fall back to polling meanwhile)';
const RECONNECTED = 'work listener reconnected; waking every consumer';

async function listenerPids(ctx: BackendContext): Promise<number[]> {
  const r = await sql<{ pid: number }>`select pid from pg_stat_activity where application_name = 'jobyard-listener' and datname = current_database()`.execute(ctx.db);
  return r.rows.map((row) => row.pid);
}

describe('the LISTEN connection [postgres]', () => {
  // A database of its own, so the listener sessions counted are this file's.
  const ctx = new BackendContext('postgres', { isolation: 'database' });
  beforeAll(() => ctx.setup());
  afterAll(() => ctx.teardown());

  it('terminated by the server: one log line, a reconnect, every consumer woken, and later NOTIFYs heard', async () => {
    const lines: Array<Record<string, any>> = [];
    const logger = pino({ level: 'debug', messageKey: 'event' }, { write: (l: string) => void lines.push(JSON.parse(l)) });
    const store: Store = openDatabase(ctx.url, { logger, env: { DB_LISTEN_CHECK_MS: String(CHECK_MS), DB_POOL_SIZE: '2', DB_MAX_OVERFLOW: '0' } });
    const wakeups = acquireWakeups(store, logger);
    try {
      await waitUntil(async () => (await listenerPids(ctx)).length === 1, 10_000, () => 'no listener session');
      const [pid] = await listenerPids(ctx);
      const pending = wakeups.ticket(SITE);
      await sql`select pg_terminate_backend(${pid})`.execute(ctx.db);
      await waitUntil(() => lines.some((l) => l.event === RECONNECTED), 10_000, () => JSON.stringify(lines));
      // Woken by the reconnect itself: anything enqueued in the gap was not announced.
      await pending.wait(1_000);
      expect(pending.woken).toBe(true);
      pending.dispose();
      expect(lines.filter((l) => l.event === LOST)).toHaveLength(1);
      expect((await listenerPids(ctx)).filter((p) => p !== pid)).toHaveLength(1);

      const ticket = wakeups.ticket(SITE);
      await enqueueWorkItem(ctx.store, { kind: 'k', siteId: SITE });
      await ticket.wait(10_000);
      expect(ticket.woken).toBe(true);
      ticket.dispose();
    } finally {
      wakeups.release();
      await store.close();
    }
  });

  describe('blackholed in a network namespace', () => {
    let host: NetnsHost | undefined;
    let forwarder: TcpForwarder | undefined;
    let child: ChildProcess | undefined;
    afterEach(async () => {
      child?.kill('SIGKILL');
      await forwarder?.close();
      await host?.destroy();
    });

    it('notices within the check interval plus its timeout, and wakes its consumers once the link is back', async () => {
      host = await createNetnsHost();
      forwarder = await forwardTcp(host.gateway, { host: '127.0.0.1', port: 5432 });
      const url = new URL(ctx.url);
      url.hostname = host.gateway;
      url.port = String(forwarder.port);
      child = host.spawn(process.execPath, [PROBE], {
        env: {
          ...process.env,
          DATABASE_URL: url.toString(),
          JY_SITE_ID: String(SITE),
          DB_LISTEN_CHECK_MS: String(CHECK_MS),
          DB_LISTEN_CHECK_TIMEOUT_MS: String(CHECK_TIMEOUT_MS),
          DB_POOL_SIZE: '2',
          DB_MAX_OVERFLOW: '0',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const events: Array<Record<string, any> & { seenAt: number }> = [];
      let stderr = '';
      child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
      createInterface({ input: child.stdout! }).on('line', (line) => {
        try {
          events.push({ ...JSON.parse(line), seenAt: Date.now() });
        } catch {
          events.push({ event: 'text', line, seenAt: Date.now() });
        }
      });
      const seen = (event: string, after = 0) => events.some((e) => e.event === event && e.seenAt >= after);
      const state = () => `${JSON.stringify(events.map((e) => e.event))} stderr: ${stderr.slice(-2000)}`;

      await waitUntil(() => seen('work listener listening') && seen('woken'), 20_000, state);
      const down = Date.now();
      await host.linkDown();
      // Work enqueued while the link is down: its NOTIFY never reaches the probe.
      await enqueueWorkItem(ctx.store, { kind: 'k', siteId: SITE });
      await waitUntil(() => seen(LOST, down), CHECK_MS + CHECK_TIMEOUT_MS + 3_000, state);
      const noticedMs = events.find((e) => e.event === LOST && e.seenAt >= down)!.seenAt - down;
      expect(noticedMs).toBeLessThan(CHECK_MS + CHECK_TIMEOUT_MS + 1_000);

      // Several failed reconnects while down, still one line.
      await new Promise((r) => setTimeout(r, 3_000));
      expect(events.filter((e) => e.event === LOST)).toHaveLength(1);
      expect(seen('woken', down)).toBe(false);

      const up = Date.now();
      await host.linkUp();
      await waitUntil(() => seen(RECONNECTED, up) && seen('woken', up), 20_000, state);
      const reconnected = events.find((e) => e.event === RECONNECTED)!;
      expect(reconnected.deafMs).toBeGreaterThan(3_000);

      // And it hears NOTIFYs again.
      const later = Date.now();
      await new Promise((r) => setTimeout(r, 100));
      await enqueueWorkItem(ctx.store, { kind: 'k', siteId: SITE });
      await waitUntil(() => seen('woken', later + 100), 10_000, state);
    });
  });
});

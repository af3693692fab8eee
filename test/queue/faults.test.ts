/**
 * Faults with real consumer processes (test/fixtures/queue-consumer.mjs, compiled code):
 * - a consumer frozen (SIGSTOP) past its lease and then resumed (SIGCONT) changes nothing: its
 *   late outcomes get lease_lost, another consumer completes each item once, and its heartbeat
 *   does not bring its lease back (both backends);
 * - every session of the database terminated mid-drain (PostgreSQL): consumers and their wake-up
 *   listeners recover on their own, and every item is completed, once.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/db/open.js';
import { enqueueWorkItems } from '../../src/queue/index.js';
import { BackendContext, describeBackends } from '../helpers/backends.js';

const CONSUMER = fileURLToPath(new URL('../fixtures/queue-consumer.mjs', import.meta.url));
const SITE = 23;
const KIND = 'fault_test';

// ---------------------------------------------------------------------------------------------
// A small consumer-process helper (the fixture prints {"event":"ready",owner} and, after SIGTERM,
// {"event":"stopped",...stats}; its log file gets "start/done <id>" and "settled <id> <outcome>").

interface Consumer {
  name: string;
  child: ChildProcessWithoutNullStreams;
  pid: number;
  log: string;
  stderr: string;
  ready: Promise<{ owner: string }>;
  stopped: Promise<Record<string, number>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const live = new Set<Consumer>();

function spawnConsumer(url: string, name: string, dir: string, env: Record<string, string>): Consumer {
  const log = join(dir, `${name}.log`);
  const child = spawn(process.execPath, [CONSUMER], {
    env: {
      ...process.env,
      DB_POOL_SIZE: '3',
      DB_MAX_OVERFLOW: '1',
      DATABASE_URL: url,
      JY_SITE_ID: String(SITE),
      JY_KIND: KIND,
      JY_LOG_FILE: log,
      JY_LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const events = new Map<string, (e: Record<string, unknown>) => void>();
  const once = <T>(event: string) => new Promise<T>((resolve) => events.set(event, resolve as (e: Record<string, unknown>) => void));
  const c: Consumer = {
    name,
    child,
    pid: child.pid!,
    log,
    stderr: '',
    ready: once('ready'),
    stopped: once('stopped'),
    exited: new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal }))),
  };
  createInterface({ input: child.stdout }).on('line', (line) => {
    try {
      const e = JSON.parse(line) as Record<string, unknown>;
      events.get(e.event as string)?.(e);
    } catch {
      // not an event line
    }
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (c.stderr += chunk));
  live.add(c);
  void c.exited.then((exit) => {
    live.delete(c);
    c.stderr += `\n[exited ${JSON.stringify(exit)}]`;
  });
  return c;
}

function alive(c: Consumer): boolean {
  return c.child.exitCode === null && c.child.signalCode === null;
}

async function killLeftovers(): Promise<void> {
  const all = [...live];
  for (const c of all) {
    if (!alive(c)) continue;
    c.child.kill('SIGCONT');
    c.child.kill('SIGKILL');
  }
  await Promise.all(all.map((c) => c.exited));
}
afterEach(killLeftovers);
afterAll(killLeftovers);

async function stopGracefully(c: Consumer): Promise<Record<string, number>> {
  c.child.kill('SIGTERM');
  const exit = await withTimeout(c.exited, 15_000, `${c.name} did not exit after SIGTERM`);
  expect(exit, `${c.name}; stderr:\n${c.stderr.slice(-3000)}`).toEqual({ code: 0, signal: null });
  return withTimeout(c.stopped, 1_000, `${c.name} printed no "stopped"`);
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${message} (${ms} ms)`)), ms))),
  ]).finally(() => clearTimeout(timer));
}

/** Polls `check` until true; fails fast if a consumer died, or after `timeoutMs` with `describe()`. */
async function waitUntil(check: () => Promise<boolean> | boolean, consumers: Consumer[], timeoutMs: number, describe: () => Promise<string> | string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const c of consumers) if (!alive(c)) throw new Error(`${c.name} exited; stderr:\n${c.stderr.slice(-3000)}`);
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${await describe()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Log {
  start: Map<number, number>;
  done: Map<number, number>;
  settled: Array<{ id: number; outcome: string }>;
}

function readLog(file: string): Log {
  const log: Log = { start: new Map(), done: new Map(), settled: [] };
  if (!existsSync(file)) return log;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const [what, idText, outcome] = line.split(' ');
    const id = Number(idText);
    if (what === 'start' || what === 'done') log[what].set(id, (log[what].get(id) ?? 0) + 1);
    else if (what === 'settled') log.settled.push({ id, outcome: outcome! });
  }
  return log;
}

interface Row {
  id: number;
  status: string;
  attempt_count: number;
  lease_owner: string | null;
  lease_expires_at: number | null;
  heartbeat_at: number | null;
  finished_at: number | null;
  result_json: unknown;
}

const byOf = (r: Row) => (r.result_json as { by?: number } | null)?.by;

async function rows(store: Store): Promise<Row[]> {
  return (await store.db
    .selectFrom('job_scheduler_work_items')
    .select(['id', 'status', 'attempt_count', 'lease_owner', 'lease_expires_at', 'heartbeat_at', 'finished_at', 'result_json'])
    .where('site_id', '=', SITE)
    .orderBy('id')
    .execute()) as Row[];
}

async function enqueue(store: Store, count: number): Promise<number[]> {
  const made = await enqueueWorkItems(store, Array.from({ length: count }, (_, i) => ({ kind: KIND, siteId: SITE, payload: { n: i }, maxAttempts: 5 })));
  return made.map((r) => r.item.id);
}

// ---------------------------------------------------------------------------------------------

describeBackends('a consumer frozen past its lease and then resumed', (ctx) => {
  let dir: string;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'jobyard-faults-'));
    await ctx.truncateAll();
  });
  afterEach(async () => {
    await killLeftovers();
    rmSync(dir, { recursive: true, force: true });
  });

  /**
   * SIGSTOPs the process at a moment it holds no write lock. On SQLite a process stopped inside a
   * write statement would block every other writer until it resumes, so it is resumed and stopped
   * again until a write of ours goes through at once. PostgreSQL statements run in the server, so
   * a stopped client never holds a lock there between autocommit statements.
   */
  async function freeze(c: Consumer): Promise<void> {
    for (;;) {
      c.child.kill('SIGSTOP');
      if (ctx.backend !== 'sqlite') return;
      try {
        await sql`update job_scheduler_work_items set updated_at = updated_at where id = -1`.execute(ctx.db);
        return;
      } catch {
        c.child.kill('SIGCONT');
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  }

  it('its late completion gets lease_lost, another consumer completes each item once, and its heartbeat does not revive the lease', async () => {
    const ids = await enqueue(ctx.store, 3);
    // Handlers of 2.5 s against a 1.5 s lease: the leases run out while the process is stopped.
    const frozen = spawnConsumer(ctx.url, 'frozen', dir, {
      JY_CONCURRENCY: '3',
      JY_PREFETCH: '3',
      JY_LEASE_SECONDS: '1.5',
      JY_HEARTBEAT_SECONDS: '0.3',
      JY_DELAY_MS: '2500',
      JY_POLL_MS: '200',
    });
    const { owner } = await withTimeout(frozen.ready, 20_000, 'frozen consumer not ready');
    await waitUntil(() => readLog(frozen.log).start.size === 3, [frozen], 20_000, () => `started: ${readLog(frozen.log).start.size}`);
    await freeze(frozen);
    const frozenAt = Date.now();
    expect((await rows(ctx.store)).every((r) => r.status === 'running' && r.lease_owner === owner)).toBe(true);

    // Another consumer reclaims the expired leases and completes the items.
    const rescuer = spawnConsumer(ctx.url, 'rescuer', dir, {
      JY_CONCURRENCY: '3',
      JY_LEASE_SECONDS: '30',
      JY_HEARTBEAT_SECONDS: '5',
      JY_RECLAIM_MS: '200',
      JY_POLL_MS: '100',
    });
    await withTimeout(rescuer.ready, 20_000, 'rescuer not ready');
    await waitUntil(
      async () => (await rows(ctx.store)).every((r) => r.status === 'succeeded'),
      [rescuer],
      20_000,
      async () => JSON.stringify(await rows(ctx.store)),
    );
    const completed = await rows(ctx.store);
    for (const r of completed) {
      expect(byOf(r), `item ${r.id}`).toBe(rescuer.pid);
      expect(r.attempt_count).toBe(2);
      expect(r.finished_at!).toBeGreaterThan(frozenAt);
    }

    // Resumed: its handlers finish and it heartbeats; every outcome of it is lease_lost.
    frozen.child.kill('SIGCONT');
    await waitUntil(() => readLog(frozen.log).settled.length === 3, [frozen, rescuer], 20_000, () => `frozen settled: ${JSON.stringify(readLog(frozen.log).settled)}`);
    const frozenLog = readLog(frozen.log);
    expect(frozenLog.settled.map((s) => s.outcome)).toEqual(['lease_lost', 'lease_lost', 'lease_lost']);
    expect(frozenLog.settled.map((s) => s.id).sort((a, b) => a - b)).toEqual(ids);
    // Its heartbeats and completions after the resume matched nothing: a heartbeat that had would
    // have set lease_expires_at and heartbeat_at again. The rows are exactly as the rescuer left them.
    expect(await rows(ctx.store)).toEqual(completed);

    const rescuerLog = readLog(rescuer.log);
    expect(rescuerLog.settled.filter((s) => s.outcome === 'completed').map((s) => s.id).sort((a, b) => a - b)).toEqual(ids);
    expect([...rescuerLog.done.values()]).toEqual([1, 1, 1]);
    // Both still work: each stops gracefully; the resumed one completed nothing.
    expect((await stopGracefully(frozen)).completed).toBe(0);
    expect((await stopGracefully(rescuer)).completed).toBe(3);
  }, 60_000);
});

// ---------------------------------------------------------------------------------------------

describe('every session of the database terminated mid-drain [PostgreSQL only]', () => {
  const ctx = new BackendContext('postgres', { isolation: 'database' });
  let dir: string;
  /** On the isolated database itself; the termination spares only this session. */
  let monitor: pg.Client;

  beforeAll(async () => {
    await ctx.setup();
    dir = mkdtempSync(join(tmpdir(), 'jobyard-faults-pg-'));
    monitor = new pg.Client({ connectionString: ctx.url, application_name: 'jobyard-test-monitor' });
    await monitor.connect();
  });
  afterAll(async () => {
    await killLeftovers();
    await monitor?.end();
    await ctx.teardown();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const counts = async () => {
    const r = await monitor.query<{ status: string; n: number }>(
      'select status, count(*)::int as n from job_scheduler_work_items where site_id = $1 group by status',
      [SITE],
    );
    return Object.fromEntries(r.rows.map((x) => [x.status, x.n])) as Record<string, number>;
  };

  async function terminateAll(): Promise<string[]> {
    const r = await monitor.query<{ application_name: string; ok: boolean }>(
      `select application_name, pg_terminate_backend(pid) as ok
         from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()`,
      [ctx.databaseName],
    );
    expect(r.rows.every((x) => x.ok)).toBe(true);
    return r.rows.map((x) => x.application_name);
  }

  it('consumers and their wake-up listeners recover by themselves; every item is completed, once', async () => {
    const TOTAL = 1_500;
    // Idle polling every 60 s: within this test, only the LISTEN sessions can wake an idle consumer.
    const env = {
      JY_CONCURRENCY: '10',
      JY_PREFETCH: '10',
      JY_DELAY_MS: '10',
      JY_LEASE_SECONDS: '3',
      JY_HEARTBEAT_SECONDS: '1',
      JY_RECLAIM_MS: '500',
      JY_POLL_MS: '60000',
    };
    const consumers = [0, 1].map((i) => spawnConsumer(ctx.url, `consumer-${i}`, dir, env));
    await Promise.all(consumers.map((c) => withTimeout(c.ready, 20_000, `${c.name} not ready`)));
    const ids = await enqueue(ctx.store, TOTAL);

    for (const share of [0.3, 0.6]) {
      await waitUntil(async () => ((await counts()).succeeded ?? 0) >= TOTAL * share, consumers, 30_000, async () => JSON.stringify(await counts()));
      expect((await counts()).succeeded ?? 0, 'terminated mid-drain').toBeLessThan(TOTAL);
      const names = await terminateAll();
      expect(names.filter((n) => n === 'jobyard-listener').length, 'both work listeners terminated').toBeGreaterThanOrEqual(2);
    }
    await waitUntil(async () => (await counts()).succeeded === TOTAL, consumers, 40_000, async () => JSON.stringify(await counts()));

    // The listeners are back: items enqueued to idle consumers start long before their 60 s poll.
    const later = await enqueue(ctx.open(), 20);
    const t0 = Date.now();
    await waitUntil(async () => (await counts()).succeeded === TOTAL + 20, consumers, 20_000, async () => JSON.stringify(await counts()));
    expect(Date.now() - t0).toBeLessThan(15_000);

    // Every item succeeded, completed by a consumer whose handler ran it; none completed twice.
    const all = (await monitor.query<{ id: string; status: string; result_json: { by: number } }>(
      'select id, status, result_json from job_scheduler_work_items where site_id = $1 order by id',
      [SITE],
    )).rows;
    expect(all.map((r) => Number(r.id))).toEqual([...ids, ...later]);
    expect(all.filter((r) => r.status !== 'succeeded')).toEqual([]);
    const logs = new Map(consumers.map((c) => [c.pid, readLog(c.log)]));
    for (const r of all) expect(logs.get(r.result_json.by)?.done.has(Number(r.id)), `item ${r.id} done by its completer`).toBe(true);
    const completions = new Map<number, number>();
    for (const log of logs.values()) for (const s of log.settled) if (s.outcome === 'completed') completions.set(s.id, (completions.get(s.id) ?? 0) + 1);
    expect([...completions.values()].filter((n) => n > 1)).toEqual([]);
    for (const c of consumers) expect(c.stderr, `${c.name} noticed its listener die`).toContain('work listener lost');

    await Promise.all(consumers.map((c) => stopGracefully(c)));
  }, 90_000);
});

/**
 * The queue across real processes: several consumer (and enqueuer) processes running the
 * compiled code against one database — drain without double completion, concurrent dedupe,
 * graceful SIGTERM, kill -9 and lease reclaim, and (PostgreSQL) server-side connection kills.
 *
 * The processes are test/fixtures/queue-consumer.mjs and queue-enqueuer.mjs, started through
 * test/helpers/processes.ts; any still running after a test is SIGKILLed.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/db/open.js';
import { BackendContext, describeBackends } from '../helpers/backends.js';
import { TEST_POSTGRES_URL } from '../helpers/env.js';
import {
  assertAlive,
  completedByPid as byOf,
  histogram,
  killChildProcessesAfterEach,
  killLiveProcesses,
  queueSite,
  readConsumerLog as readLog,
  sleep,
  spawnEnqueuer,
  stopGracefully,
  sumCounts,
  waitUntil,
  withTimeout,
  useProcessTestBed,
} from '../helpers/processes.js';

/** Items and consumers of these tests all use this site (work items have no FK on site_id). */
const SITE = 7;
const KIND = 'proc_test';

killChildProcessesAfterEach();

const { startConsumer, enqueue, rows, statusCounts } = queueSite(SITE, KIND);

// ---------------------------------------------------------------------------------------------
// Both backends

describeBackends(
  'queue across processes',
  (ctx) => {
    const dir = useProcessTestBed(ctx, 'jobyard-proc-');

    it('4 consumer processes drain 5,000 items: each succeeds once, none left queued, running or dead', async () => {
      const TOTAL = 5_000;
      const logs = [0, 1, 2, 3].map((i) => join(dir(), `consumer-${i}.log`));
      // Small claims (prefetch 10, not runQueue's default 500) keep all four processes contending
      // for rows throughout: with 500, three of them can drain 5,000 items on SQLite before the
      // fourth gets the write lock, and this test is about contention, not throughput.
      const consumers = logs.map((log, i) => startConsumer(ctx.url, `consumer-${i}`, { log, concurrency: 10, prefetch: 10 }));
      await Promise.all(consumers.map((c) => c.waitFor('ready')));

      const ids = await enqueue(ctx.store, TOTAL);
      expect(new Set(ids).size).toBe(TOTAL);
      await waitUntil(
        async () => (assertAlive(consumers), (await statusCounts(ctx.store)).succeeded === TOTAL),
        60_000,
        async () => JSON.stringify(await statusCounts(ctx.store)),
      );
      const stopped = await Promise.all(consumers.map((c) => stopGracefully(c)));

      const all = await rows(ctx.store);
      expect(all).toHaveLength(TOTAL);
      expect(histogram(all.map((r) => r.status))).toEqual(new Map([['succeeded', TOTAL]]));
      expect(all.filter((r) => r.attempt_count !== 1)).toEqual([]);
      expect(all.filter((r) => r.lease_owner !== null && r.finished_at === null)).toEqual([]);

      // result_json says who completed each item; each process's count matches its own stats.
      const pids = consumers.map((c) => c.pid);
      const completedBy = histogram(all.map(byOf));
      expect([...completedBy.keys()].sort()).toEqual([...pids].sort());
      consumers.forEach((c, i) => {
        expect(completedBy.get(c.pid), c.name).toBe(stopped[i]!.completed);
        expect(stopped[i]!.completed, `${c.name} completed some items`).toBeGreaterThan(0);
      });
      expect(stopped.reduce((n, s) => n + (s.completed as number), 0)).toBe(TOTAL);

      // Each handler ran exactly once across all processes, and completed once.
      const parsed = logs.map(readLog);
      const starts = sumCounts(parsed, 'start');
      const dones = sumCounts(parsed, 'done');
      expect(starts.size).toBe(TOTAL);
      expect(dones.size).toBe(TOTAL);
      expect([...starts.values()].filter((n) => n !== 1)).toEqual([]);
      expect([...dones.values()].filter((n) => n !== 1)).toEqual([]);
      const settled = parsed.flatMap((l) => l.settled);
      expect(settled).toHaveLength(TOTAL);
      expect(histogram(settled.map((s) => s.outcome))).toEqual(new Map([['completed', TOTAL]]));
      // The process whose handler ran an item is the one that completed it.
      parsed.forEach((log, i) => {
        for (const id of log.done.keys()) expect(byOf(all.find((r) => r.id === id)!)).toBe(consumers[i]!.pid);
      });
    }, 90_000);

    it('two processes enqueuing the same 1,000 dedupe keys at once create exactly 1,000 items', async () => {
      const KEYS = 1_000;
      const outs = [0, 1].map((i) => join(dir(), `enqueuer-${i}.json`));
      const enqueuers = outs.map((out, i) =>
        spawnEnqueuer(ctx.url, `enqueuer-${i}`, { siteId: SITE, count: KEYS, batch: 50, outFile: out }),
      );
      await Promise.all(enqueuers.map((p) => p.waitFor('ready')));
      for (const p of enqueuers) p.child.stdin.write('go\n'); // both released at the same moment
      for (const p of enqueuers) {
        const exit = await withTimeout(p.exited, 30_000, `${p.name} did not finish`);
        expect(exit, `${p.name}; stderr:\n${p.stderr}`).toEqual({ code: 0, signal: null });
      }

      const all = await rows(ctx.store);
      expect(all).toHaveLength(KEYS);
      const keys = await ctx.db.selectFrom('job_scheduler_work_items').select(['id', 'dedupe_key']).where('site_id', '=', SITE).execute();
      const idByKey = new Map(keys.map((k) => [k.dedupe_key!, k.id]));
      expect(idByKey.size).toBe(KEYS);

      type Out = { pid: number; startedAt: number; finishedAt: number; results: Array<{ key: string; id: number; itemKey: string; created: boolean }> };
      const results = outs.map((f) => JSON.parse(readFileSync(f, 'utf8')) as Out);
      const createdByKey = new Map<string, number>();
      for (const out of results) {
        expect(out.results).toHaveLength(KEYS);
        expect(new Set(out.results.map((r) => r.key)).size).toBe(KEYS);
        for (const r of out.results) {
          // Each process was told, for every key, the one item that holds it.
          expect(r.itemKey).toBe(r.key);
          expect(r.id).toBe(idByKey.get(r.key));
          createdByKey.set(r.key, (createdByKey.get(r.key) ?? 0) + (r.created ? 1 : 0));
        }
      }
      const createdTotal = results.reduce((n, out) => n + out.results.filter((r) => r.created).length, 0);
      expect(createdTotal).toBe(KEYS);
      expect(createdByKey.size).toBe(KEYS);
      expect([...createdByKey.values()].filter((n) => n !== 1)).toEqual([]);
    }, 60_000);

    it('SIGTERM during slow work: exits 0 within the grace period and requeues its items, attempt not counted', async () => {
      const TOTAL = 20;
      const GRACE = 500;
      const ids = await enqueue(ctx.store, TOTAL);
      const log1 = join(dir(), 'slow.log');
      const slow = startConsumer(ctx.url, 'slow', { log: log1, concurrency: 5, prefetch: 5, delayMs: 10_000, graceMs: GRACE });
      const { owner } = await slow.waitFor('ready');

      // It holds concurrency + prefetch = 10 items, 5 of them in running handlers.
      await waitUntil(
        async () =>
          (assertAlive([slow]), readLog(log1).start.size === 5) && (await rows(ctx.store)).filter((r) => r.lease_owner === owner).length === 10,
        15_000,
        async () => `starts ${readLog(log1).start.size}, counts ${JSON.stringify(await statusCounts(ctx.store))}`,
      );
      const heldIds = (await rows(ctx.store)).filter((r) => r.lease_owner === owner).map((r) => r.id);
      expect(heldIds).toHaveLength(10);

      const t0 = Date.now();
      await stopGracefully(slow, GRACE + 10_000);
      const elapsed = Date.now() - t0;
      expect(elapsed).toBeGreaterThanOrEqual(GRACE - 50); // it waited for the running handlers
      expect(elapsed).toBeLessThan(GRACE + 3_000); // but not for the 10 s handlers

      const afterStop = await rows(ctx.store);
      expect(histogram(afterStop.map((r) => r.status))).toEqual(new Map([['queued', TOTAL]]));
      expect(afterStop.filter((r) => r.attempt_count !== 0)).toEqual([]); // the interrupted attempt was refunded
      expect(afterStop.filter((r) => r.lease_owner !== null || r.lease_expires_at !== null)).toEqual([]);
      expect(afterStop.filter((r) => heldIds.includes(r.id)).map((r) => r.error)).toEqual(
        heldIds.map(() => expect.stringContaining('released on shutdown')),
      );
      const slowLog = readLog(log1);
      expect(slowLog.done.size).toBe(0);
      expect(histogram(slowLog.settled.map((s) => s.outcome))).toEqual(new Map([['released', 10]]));

      // A second, fast consumer completes all of them, each on its first counted attempt.
      const fast = startConsumer(ctx.url, 'fast', { log: join(dir(), 'fast.log'), concurrency: 5 });
      await fast.waitFor('ready');
      await waitUntil(
        async () => (assertAlive([fast]), (await statusCounts(ctx.store)).succeeded === TOTAL),
        20_000,
        async () => JSON.stringify(await statusCounts(ctx.store)),
      );
      await stopGracefully(fast);
      const final = await rows(ctx.store);
      expect(final.map((r) => r.id)).toEqual(ids);
      expect(final.filter((r) => r.status !== 'succeeded' || r.attempt_count !== 1 || byOf(r) !== fast.pid)).toEqual([]);
    }, 60_000);

    it('kill -9 mid-batch: the held items are reclaimed after lease expiry and succeed once each', async () => {
      const TOTAL = 60;
      await enqueue(ctx.store, TOTAL);
      const log1 = join(dir(), 'victim.log');
      const victim = startConsumer(ctx.url, 'victim', { log: log1, concurrency: 5, delayMs: 200, leaseSeconds: 2, heartbeatSeconds: 0.5 });
      const { owner } = await victim.waitFor('ready');
      await waitUntil(
        () => (assertAlive([victim]), readLog(log1).settled.length >= 10),
        20_000,
        () => `victim settled ${readLog(log1).settled.length}`,
      );
      victim.child.kill('SIGKILL');
      expect(await victim.exited).toEqual({ code: null, signal: 'SIGKILL' });
      await sleep(100); // let any statement the server had already received finish

      const atKill = await rows(ctx.store);
      const orphaned = atKill.filter((r) => r.status === 'running');
      expect(orphaned.length).toBeGreaterThan(0); // it died holding items…
      expect(orphaned.every((r) => r.lease_owner === owner)).toBe(true);
      const doneByVictim = atKill.filter((r) => r.status === 'succeeded');
      expect(doneByVictim.length).toBeGreaterThanOrEqual(10); // …after completing some
      expect(doneByVictim.every((r) => byOf(r) === victim.pid)).toBe(true);
      const expiry = new Map(orphaned.map((r) => [r.id, r.lease_expires_at!]));

      const log2 = join(dir(), 'rescuer.log');
      const rescuer = startConsumer(ctx.url, 'rescuer', {
        log: log2,
        concurrency: 5,
        leaseSeconds: 2,
        heartbeatSeconds: 0.5,
        reclaimMs: 250,
      });
      await rescuer.waitFor('ready');
      await waitUntil(
        async () => (assertAlive([rescuer]), (await statusCounts(ctx.store)).succeeded === TOTAL),
        20_000,
        async () => JSON.stringify(await statusCounts(ctx.store)),
      );
      await stopGracefully(rescuer);

      const final = await rows(ctx.store);
      expect(final).toHaveLength(TOTAL);
      expect(histogram(final.map((r) => r.status))).toEqual(new Map([['succeeded', TOTAL]]));
      for (const r of final) {
        if (expiry.has(r.id)) {
          // Reclaimed: completed by the rescuer on a second attempt, started only after the
          // victim's lease had expired.
          expect(byOf(r), `item ${r.id}`).toBe(rescuer.pid);
          expect(r.attempt_count, `item ${r.id}`).toBe(2);
          expect(r.started_at!, `item ${r.id}`).toBeGreaterThan(expiry.get(r.id)!);
        } else if (doneByVictim.some((d) => d.id === r.id)) {
          expect(r.result_json).toEqual({ by: victim.pid }); // untouched
          expect(r.attempt_count).toBe(1);
        } else {
          expect(byOf(r), `item ${r.id}`).toBe(rescuer.pid); // never claimed by the victim
          expect(r.attempt_count).toBe(1);
        }
      }
      // Completion recorded once: the rescuer ran and completed each item it got exactly once,
      // and never one the victim had completed.
      const rescued = readLog(log2);
      expect([...rescued.done.values()].filter((n) => n !== 1)).toEqual([]);
      expect(rescued.settled.filter((s) => s.outcome !== 'completed')).toEqual([]);
      expect(new Set(rescued.settled.map((s) => s.id)).size).toBe(rescued.settled.length);
      expect(rescued.settled).toHaveLength(TOTAL - doneByVictim.length);
      for (const d of doneByVictim) expect(rescued.start.has(d.id)).toBe(false);
      for (const id of expiry.keys()) expect(rescued.done.get(id)).toBe(1);
    }, 60_000);
  },
  { isolation: 'database' },
);

// ---------------------------------------------------------------------------------------------
// PostgreSQL only: the server kills the consumers' sessions

describe('queue consumers survive pg_terminate_backend of all their sessions [PostgreSQL only]', () => {
  const ctx = new BackendContext('postgres', { isolation: 'database' });
  let dir: string;
  let admin: pg.Client;
  let monitor: Store;
  const MONITOR_APP = 'jobyard-test-monitor';

  beforeAll(async () => {
    await ctx.setup();
    dir = mkdtempSync(join(tmpdir(), 'jobyard-proc-pg-'));
    // The admin session lives in another database, so it is never among the terminated ones.
    admin = new pg.Client({ connectionString: TEST_POSTGRES_URL, application_name: 'jobyard-test-admin' });
    await admin.connect();
    monitor = ctx.open({ applicationName: MONITOR_APP, env: { DB_POOL_SIZE: '1', DB_MAX_OVERFLOW: '0' } });
  });
  afterAll(async () => {
    await killLiveProcesses();
    await admin?.end();
    await ctx.teardown();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Terminates every session of the test database except the monitor's; returns their application names. */
  async function terminateAll(): Promise<string[]> {
    const r = await admin.query<{ pid: number; application_name: string; ok: boolean }>(
      `select pid, application_name, pg_terminate_backend(pid) as ok
         from pg_stat_activity
        where datname = $1 and pid <> pg_backend_pid() and application_name <> $2`,
      [ctx.databaseName, MONITOR_APP],
    );
    expect(r.rows.every((row) => row.ok)).toBe(true);
    return r.rows.map((row) => row.application_name);
  }

  it('2 consumers draining 3,000 items reconnect after 3 rounds of terminated backends, complete every item once, and are woken by new items again', async () => {
    const TOTAL = 3_000;
    const logs = [0, 1].map((i) => join(dir, `consumer-${i}.log`));
    // Reclaim on: a claim whose commit happened just before its session was killed never
    // reaches the consumer, so only lease expiry can return those items. Idle polling every 60 s:
    // within this test, only the LISTEN sessions can wake an idle consumer.
    const consumers = logs.map((log, i) =>
      startConsumer(ctx.url, `pg-consumer-${i}`, { log, concurrency: 10, delayMs: 15, leaseSeconds: 4, heartbeatSeconds: 1, reclaimMs: 500, pollMs: 60_000 }),
    );
    await Promise.all(consumers.map((c) => c.waitFor('ready')));
    const ids = await enqueue(monitor, TOTAL);

    const rounds: string[][] = [];
    for (const threshold of [TOTAL * 0.2, TOTAL * 0.45, TOTAL * 0.7]) {
      await waitUntil(
        async () => (assertAlive(consumers), ((await statusCounts(monitor)).succeeded ?? 0) >= threshold),
        30_000,
        async () => `waiting for ${threshold}: ${JSON.stringify(await statusCounts(monitor))}`,
      );
      const progress = await statusCounts(monitor);
      expect(progress.succeeded ?? 0, 'terminated mid-drain').toBeLessThan(TOTAL);
      rounds.push(await terminateAll());
    }
    // Every round hit both consumers' work listeners and pool sessions.
    for (const names of rounds) {
      expect(names.filter((n) => n === 'jobyard-listener').length).toBeGreaterThanOrEqual(2);
      expect(names.filter((n) => n === 'jobyard').length).toBeGreaterThanOrEqual(2);
    }

    await waitUntil(
      async () => (assertAlive(consumers), (await statusCounts(monitor)).succeeded === TOTAL),
      45_000,
      async () => JSON.stringify(await statusCounts(monitor)),
    );

    // The listeners are back: items enqueued to the idle consumers start long before their 60 s poll.
    const t0 = Date.now();
    const later = await enqueue(monitor, 20);
    await waitUntil(
      async () => (assertAlive(consumers), (await statusCounts(monitor)).succeeded === TOTAL + 20),
      20_000,
      async () => JSON.stringify(await statusCounts(monitor)),
    );
    expect(Date.now() - t0, 'new items after the terminations woke an idle consumer').toBeLessThan(15_000);

    const all = await rows(monitor);
    expect(all.map((r) => r.id)).toEqual([...ids, ...later]);
    expect(histogram(all.map((r) => r.status))).toEqual(new Map([['succeeded', TOTAL + 20]]));
    for (const c of consumers) expect(c.stderr, `${c.name} noticed its listener die`).toContain('work listener lost');

    // Each item was completed by a consumer whose handler ran it, and settled as completed once.
    const parsed = logs.map(readLog);
    const doneBy = new Map(consumers.map((c, i) => [c.pid, parsed[i]!.done]));
    expect(all.filter((r) => !doneBy.get(byOf(r)!)?.has(r.id))).toEqual([]);
    const completions = histogram(parsed.flatMap((l) => l.settled.filter((x) => x.outcome === 'completed').map((x) => x.id)));
    expect([...completions].filter(([, n]) => n > 1)).toEqual([]);
    // Nothing executed twice except what a lost claim/lease forced (then at most twice).
    const dones = sumCounts(parsed, 'done');
    expect(dones.size).toBe(TOTAL + 20);
    expect([...dones.values()].filter((n) => n > 2)).toEqual([]);

    // They are still healthy: a graceful stop works after all that.
    await Promise.all(consumers.map((c) => stopGracefully(c)));
  }, 90_000);

  it('a consumer whose LISTEN session is terminated 3 times keeps exactly one listener and still gets wake-ups', async () => {
    await monitor.db.deleteFrom('job_scheduler_work_items').execute();
    const listeners = async () =>
      (
        await admin.query<{ n: number }>(
          `select count(*)::int as n from pg_stat_activity where datname = $1 and application_name = 'jobyard-listener'`,
          [ctx.databaseName],
        )
      ).rows[0]!.n;
    // Polling every 60 s: within this test only a NOTIFY can wake it.
    const consumer = startConsumer(ctx.url, 'listen-consumer', { log: join(dir, 'listen.log'), pollMs: 60_000 });
    await consumer.waitFor('ready');
    await waitUntil(async () => (await listeners()) === 1, 10_000, async () => `listeners: ${await listeners()}`);

    const seen: number[] = [];
    for (let round = 1; round <= 3; round++) {
      const killed = await admin.query(
        `select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and application_name = 'jobyard-listener'`,
        [ctx.databaseName],
      );
      expect(killed.rowCount, `round ${round}: listener sessions terminated`).toBeGreaterThanOrEqual(1);
      await waitUntil(async () => (assertAlive([consumer]), (await listeners()) >= 1), 10_000, async () => `listeners: ${await listeners()}`);
      await sleep(1_500); // past every reconnect backoff step that could open another session
      seen.push(await listeners());
    }
    expect(seen, 'LISTEN sessions after each of 3 terminations').toEqual([1, 1, 1]);

    // The reconnected listener still delivers wake-ups: new items start long before the 60 s poll.
    await sleep(200); // the consumer is idle again, waiting on its ticket
    const t0 = Date.now();
    await enqueue(monitor, 20);
    await waitUntil(
      async () => (assertAlive([consumer]), (await statusCounts(monitor)).succeeded === 20),
      10_000,
      async () => JSON.stringify(await statusCounts(monitor)),
    );
    expect(Date.now() - t0).toBeLessThan(5_000);
    await stopGracefully(consumer);
  }, 60_000);
});

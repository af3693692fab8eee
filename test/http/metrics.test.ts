/**
 * /metrics on both backends. Items are completed by a queue consumer on a store of its own (as a
 * site worker in another process would), and the scheduler's server must still count them: the
 * counters are read from the database at scrape time.
 */
import { register as globalRegistry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toJson } from '../../src/db/dialect.js';
import { createMetrics, startHttpServer, type HttpServer, type TickStatus } from '../../src/http/index.js';
import { silentLogger } from '../../src/log.js';
import {
  claimWorkItems,
  enqueueWorkItems,
  failWorkItem,
  pruneFinishedWorkItems,
  reclaimExpiredLeases,
  runQueue,
} from '../../src/queue/index.js';
import { describeBackends } from '../helpers/backends.js';
import { insertJob } from '../helpers/jobs.js';
import { request, sampleValue } from './helpers.js';

const TOKEN = 'metrics-token';
const SITE = 3;

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describeBackends('http metrics', (ctx) => {
  let server: HttpServer;
  const status: TickStatus = { lastTickAt: 1_800_000_000_000, tickIntervalMs: 1000 };
  const scrape = async (): Promise<string> => {
    const r = await request(server.url, '/metrics', { token: TOKEN });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return r.text;
  };
  const count = async (statusName: string, kind: string) =>
    Number(
      (
        await ctx.db
          .selectFrom('job_scheduler_work_items')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('status', '=', statusName)
          .where('kind', '=', kind)
          .executeTakeFirstOrThrow()
      ).n,
    );

  beforeAll(async () => {
    // settleMs 0: items are observed in the duration histogram as soon as they are committed.
    const metrics = createMetrics({ store: ctx.store, status: () => status, settleMs: 0 });
    server = await startHttpServer({ store: ctx.store, logger: silentLogger, port: 0, token: TOKEN, status: () => status, metrics });
  });
  afterAll(() => server?.close());

  it('requires the token', async () => {
    expect((await request(server.url, '/metrics')).status).toBe(401);
  });

  it('counts 100 items completed by a consumer on another connection', async () => {
    const before = await scrape();
    expect(before).not.toContain('kind="metrics_ok"');

    await enqueueWorkItems(ctx.store, Array.from({ length: 100 }, (_, i) => ({ kind: 'metrics_ok', siteId: SITE, payload: { i } })));
    expect(sampleValue(await scrape(), 'jobyard_work_items', { status: 'queued', kind: 'metrics_ok', site: String(SITE) })).toBe(100);

    const workerStore = ctx.open();
    const consumer = runQueue({
      store: workerStore,
      siteId: SITE,
      concurrency: 10,
      pollIntervalMs: 50,
      handlers: { metrics_ok: async () => ({ done: true }) },
    });
    try {
      await until('100 items to succeed', async () => (await count('succeeded', 'metrics_ok')) === 100);
    } finally {
      await consumer.stop();
    }

    const text = await scrape();
    expect(sampleValue(text, 'jobyard_work_item_completions_total', { kind: 'metrics_ok' })).toBe(100);
    expect(sampleValue(text, 'jobyard_work_item_claims_total', { kind: 'metrics_ok' })).toBe(100);
    expect(sampleValue(text, 'jobyard_work_items', { status: 'succeeded', kind: 'metrics_ok', site: String(SITE) })).toBe(100);
    expect(text).not.toMatch(/jobyard_work_items\{status="queued",kind="metrics_ok"/);
    expect(sampleValue(text, 'jobyard_work_item_duration_seconds_count', { kind: 'metrics_ok', status: 'succeeded' })).toBe(100);
    expect(sampleValue(text, 'jobyard_work_item_duration_seconds_bucket', { kind: 'metrics_ok', status: 'succeeded', le: '+Inf' })).toBe(100);
    // A second scrape observes nothing twice.
    expect(sampleValue(await scrape(), 'jobyard_work_item_duration_seconds_count', { kind: 'metrics_ok', status: 'succeeded' })).toBe(100);
  });

  it('counts final failures (failed and dead) per kind and status', async () => {
    const [a, b, c] = await enqueueWorkItems(ctx.store, [
      { kind: 'metrics_bad', siteId: SITE, maxAttempts: 1 },
      { kind: 'metrics_bad', siteId: SITE, maxAttempts: 1 },
      { kind: 'metrics_bad', siteId: SITE, maxAttempts: 1 },
    ]);
    const claimed = await claimWorkItems(ctx.store, { owner: 'w-fail', kinds: ['metrics_bad'], limit: 10, leaseSeconds: 60 });
    expect(claimed).toHaveLength(3);
    const claimOf = (r: typeof a) => claimed.find((i) => i.id === r!.item.id)!;
    expect((await failWorkItem(ctx.store, 'w-fail', claimOf(a), new Error('bad input'), { retryable: false })).outcome).toBe('failed');
    expect((await failWorkItem(ctx.store, 'w-fail', claimOf(b), new Error('flaky'))).outcome).toBe('dead');
    expect((await failWorkItem(ctx.store, 'w-fail', claimOf(c), new Error('flaky'))).outcome).toBe('dead');
    const text = await scrape();
    expect(sampleValue(text, 'jobyard_work_item_failures_total', { kind: 'metrics_bad', status: 'failed' })).toBe(1);
    expect(sampleValue(text, 'jobyard_work_item_failures_total', { kind: 'metrics_bad', status: 'dead' })).toBe(2);
    expect(sampleValue(text, 'jobyard_work_item_claims_total', { kind: 'metrics_bad' })).toBe(3);
    expect(sampleValue(text, 'jobyard_work_item_duration_seconds_count', { kind: 'metrics_bad', status: 'dead' })).toBe(2);
  });

  it('keeps counters monotonic when finished items are pruned', async () => {
    const pruned = await pruneFinishedWorkItems(ctx.store, { now: Date.now() + 86_400_000, retentionMs: 0 });
    expect(pruned).toBe(103);
    expect(await count('succeeded', 'metrics_ok')).toBe(0);
    const text = await scrape();
    expect(sampleValue(text, 'jobyard_work_item_completions_total', { kind: 'metrics_ok' })).toBe(100);
    expect(sampleValue(text, 'jobyard_work_item_claims_total', { kind: 'metrics_ok' })).toBe(100);
    expect(sampleValue(text, 'jobyard_work_item_failures_total', { kind: 'metrics_bad', status: 'dead' })).toBe(2);
    expect(text).not.toMatch(/jobyard_work_items\{status="succeeded",kind="metrics_ok"/);

    // New completions after the prune add on top.
    await enqueueWorkItems(ctx.store, [{ kind: 'metrics_ok', siteId: SITE }]);
    const [item] = await claimWorkItems(ctx.store, { owner: 'w-late', kinds: ['metrics_ok'], limit: 1, leaseSeconds: 60 });
    const { completeWorkItem } = await import('../../src/queue/index.js');
    expect(await completeWorkItem(ctx.store, 'w-late', item!)).toBe('completed');
    expect(sampleValue(await scrape(), 'jobyard_work_item_completions_total', { kind: 'metrics_ok' })).toBe(101);
  });

  it('reports workers by status, due jobs and the oldest claimable item', async () => {
    const now = Date.now();
    const worker = (worker_guid: string, s: string) => ({ worker_guid, site_id: SITE, status: s, current_lanes_json: toJson(null), created_at: now, updated_at: now });
    await ctx.db
      .insertInto('job_scheduler_workers')
      .values([worker('m-1', 'running'), worker('m-2', 'running'), worker('m-3', 'idle'), worker('m-4', 'lost')])
      .execute();
    const jobs: Array<[name: string, enabled: boolean, next_run_at: number | null]> = [
      ['due-1', true, now - 5000],
      ['due-2', true, now - 1],
      ['future', true, now + 3_600_000],
      ['disabled', false, now - 5000],
      ['none', true, null],
    ];
    for (const [name, enabled, next_run_at] of jobs) await insertJob(ctx.db, { at: now, name, enabled, next_run_at });
    await enqueueWorkItems(ctx.store, [
      { kind: 'metrics_wait', siteId: 9, availableAt: now - 30_000 },
      { kind: 'metrics_wait', siteId: 9, availableAt: now - 10_000 },
      { kind: 'metrics_wait', siteId: 9, availableAt: now + 3_600_000 }, // not claimable yet: not waiting
    ]);

    const text = await scrape();
    expect(sampleValue(text, 'jobyard_workers', { status: 'running' })).toBe(2);
    expect(sampleValue(text, 'jobyard_workers', { status: 'idle' })).toBe(1);
    expect(sampleValue(text, 'jobyard_workers', { status: 'lost' })).toBe(1);
    expect(sampleValue(text, 'jobyard_workers', { status: 'starting' })).toBe(0);
    expect(sampleValue(text, 'jobyard_due_jobs')).toBe(2);
    const age = sampleValue(text, 'jobyard_oldest_queued_item_age_seconds');
    expect(age).toBeGreaterThanOrEqual(30);
    expect(age).toBeLessThan(60);
    expect(sampleValue(text, 'jobyard_work_items', { status: 'queued', kind: 'metrics_wait', site: '9' })).toBe(3);
    expect(sampleValue(text, 'jobyard_last_tick_timestamp_seconds')).toBe(1_800_000_000);
  });

  it('exposes tick durations and lease reclaims reported by the scheduler', async () => {
    const before = await scrape();
    expect(sampleValue(before, 'jobyard_tick_duration_seconds_count')).toBe(0);
    expect(sampleValue(before, 'jobyard_lease_reclaims_total', { outcome: 'requeued' })).toBe(0);

    server.metrics.observeTick({ durationMs: 12 });
    server.metrics.observeTickDuration(700);
    const past = Date.now() - 120_000;
    const [kept, exhausted] = await enqueueWorkItems(ctx.store, [
      { kind: 'metrics_lease', siteId: 11, availableAt: past },
      { kind: 'metrics_lease', siteId: 11, availableAt: past, maxAttempts: 1 },
    ]);
    await claimWorkItems(ctx.store, { owner: 'w-gone', kinds: ['metrics_lease'], limit: 2, leaseSeconds: 1, now: past });
    const reclaimed = await reclaimExpiredLeases(ctx.store);
    expect(reclaimed).toEqual({ requeued: [kept!.item.id], dead: [exhausted!.item.id] });
    server.metrics.countLeaseReclaims(reclaimed);

    const text = await scrape();
    expect(sampleValue(text, 'jobyard_tick_duration_seconds_count')).toBe(2);
    expect(sampleValue(text, 'jobyard_tick_duration_seconds_sum')).toBeCloseTo(0.712, 6);
    expect(sampleValue(text, 'jobyard_tick_duration_seconds_bucket', { le: '0.025' })).toBe(1);
    expect(sampleValue(text, 'jobyard_tick_duration_seconds_bucket', { le: '1' })).toBe(2);
    expect(sampleValue(text, 'jobyard_lease_reclaims_total', { outcome: 'requeued' })).toBe(1);
    expect(sampleValue(text, 'jobyard_lease_reclaims_total', { outcome: 'dead' })).toBe(1);
  });

  it('uses a registry per server, never the global one', async () => {
    const second = await startHttpServer({ store: ctx.store, logger: silentLogger, port: 0, status: () => status });
    try {
      const r = await request(second.url, '/metrics');
      expect(r.status).toBe(200);
      expect(sampleValue(r.text, 'jobyard_tick_duration_seconds_count')).toBe(0);
      // A new process starts from the database figure: the first server's prune offset is its own.
      expect(sampleValue(r.text, 'jobyard_work_item_completions_total', { kind: 'metrics_ok' })).toBe(1);
      expect(second.metrics.registry).not.toBe(server.metrics.registry);
      expect(globalRegistry.getSingleMetric('jobyard_work_items')).toBeUndefined();
    } finally {
      await second.close();
    }
  });

  it('answers 503 when the database is gone', async () => {
    const store = ctx.open();
    // With the bootstrap token, authentication needs no database: the scrape itself fails.
    const other = await startHttpServer({ store, logger: silentLogger, port: 0, token: 'scrape-token', status: () => status });
    try {
      // A first scrape opens the connection (Kysely ignores close() on a store never used).
      expect((await request(other.url, '/metrics', { token: 'scrape-token' })).status).toBe(200);
      await store.close();
      const r = await request(other.url, '/metrics', { token: 'scrape-token' });
      expect(r.status).toBe(503);
      expect(r.json.error).toMatch(/^metrics unavailable: /);
      // Without it the request is refused before any database work.
      const anonymous = await request(other.url, '/metrics');
      expect(anonymous.status).toBe(401);
    } finally {
      await other.close();
    }
  });
});

describe('http metrics objects', () => {
  it('can be created without a server for the scheduler to report to', () => {
    const metrics = createMetrics({ store: {} as never });
    expect(() => metrics.observeTick({ durationMs: 3 })).not.toThrow();
    expect(() => metrics.countLeaseReclaims({ requeued: [1], dead: [] })).not.toThrow();
  });
});

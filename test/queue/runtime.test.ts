/** The consumer runtime in one process, on both backends. Multi-process cases: processes.test.ts. */
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { WorkItem } from '../../src/db/schema.js';
import { PermanentError, enqueueWorkItem, enqueueWorkItems, runQueue, type ItemOutcome, type QueueRuntime, type RunQueueOptions } from '../../src/queue/index.js';
import { BackendContext, describeBackends } from '../helpers/backends.js';

const SITE = 3;

function settledTracker() {
  const settled: Array<{ item: WorkItem; outcome: ItemOutcome; error?: string }> = [];
  const waiters: Array<() => void> = [];
  return {
    settled,
    onItemSettled(item: WorkItem, outcome: ItemOutcome, error?: string) {
      settled.push({ item, outcome, ...(error !== undefined ? { error } : {}) });
      for (const w of waiters.splice(0)) w();
    },
    async until(n: number, timeoutMs = 10_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (settled.length < n) {
        if (Date.now() > deadline) throw new Error(`only ${settled.length} of ${n} items settled`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 50);
        });
      }
    },
  };
}

async function waitFor(check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describeBackends('queue runtime', (ctx) => {
  let runtimes: QueueRuntime[] = [];
  beforeEach(() => ctx.truncateAll());
  afterEach(async () => {
    await Promise.all(runtimes.map((r) => r.stop()));
    runtimes = [];
  });
  const start = (options: Omit<RunQueueOptions, 'store'> & { store?: RunQueueOptions['store'] }) => {
    const rt = runQueue({ store: ctx.store, siteId: SITE, ...options });
    runtimes.push(rt);
    return rt;
  };
  const row = (id: number) => ctx.db.selectFrom('job_scheduler_work_items').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

  it('runs handlers and stores their results durably', async () => {
    const t = settledTracker();
    const seen: number[] = [];
    start({
      concurrency: 4,
      onItemSettled: t.onItemSettled,
      handlers: { echo: ({ payload }) => { seen.push(payload.n as number); return { doubled: (payload.n as number) * 2 }; } },
    });
    const items = await enqueueWorkItems(ctx.store, Array.from({ length: 30 }, (_, n) => ({ kind: 'echo', siteId: SITE, payload: { n } })));
    await t.until(30);
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, n) => n));
    expect(t.settled.every((s) => s.outcome === 'completed')).toBe(true);
    const last = await row(items[29]!.item.id);
    expect(last).toMatchObject({ status: 'succeeded', result_json: { doubled: 58 }, attempt_count: 1 });
  });

  it('fails bad input readably, without retry, and keeps running', async () => {
    const t = settledTracker();
    start({
      onItemSettled: t.onItemSettled,
      handlers: {
        weird: () => { throw { code: 5 }; },
        permanent: () => { throw new PermanentError('refused: not on the allow-list'); },
        good: () => 'ok',
      },
    });
    const unknown = await enqueueWorkItem(ctx.store, { kind: 'mystery', siteId: SITE });
    const weird = await enqueueWorkItem(ctx.store, { kind: 'weird', siteId: SITE, maxAttempts: 1 });
    const permanent = await enqueueWorkItem(ctx.store, { kind: 'permanent', siteId: SITE });
    // A row whose payload is not an object (written behind the queue's back).
    const bad = ctx.backend === 'sqlite' ? '{"truncated": ' : '[1, 2]';
    await sql`insert into job_scheduler_work_items (kind, site_id, payload_json, max_attempts, available_at, created_at, updated_at)
              values ('good', ${SITE}, ${bad}, 3, 0, 0, 0)`.execute(ctx.db);
    const good = await enqueueWorkItem(ctx.store, { kind: 'good', siteId: SITE });
    await t.until(5);
    expect(await row(unknown.item.id)).toMatchObject({ status: 'failed', error: 'no executor for kind mystery', attempt_count: 1 });
    expect((await row(weird.item.id)).error).toBe('non-Error thrown: {"code":5} (attempt 1 of 1; no attempts left)');
    expect(await row(permanent.item.id)).toMatchObject({ status: 'failed', error: 'refused: not on the allow-list' });
    const badRow = await ctx.db.selectFrom('job_scheduler_work_items').selectAll().where('kind', '=', 'good').where('id', '!=', good.item.id).executeTakeFirstOrThrow();
    expect(badRow.status).toBe('failed');
    expect(badRow.error).toMatch(ctx.backend === 'sqlite' ? /^payload_json is not valid JSON: invalid JSON in payload_json: "\{\\"truncated\\": "/ : /^payload_json must be a JSON object, got \[1,2\]/);
    expect(await row(good.item.id)).toMatchObject({ status: 'succeeded', result_json: 'ok' });
  });

  it('abandons an item whose lease it lost and discards its outcome', async () => {
    let aborted = false;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const t = settledTracker();
    start({
      leaseSeconds: 2,
      heartbeatSeconds: 0.1,
      onItemSettled: t.onItemSettled,
      handlers: {
        slow: async ({ signal }) => {
          signal.addEventListener('abort', () => (aborted = true));
          await gate;
          return 'too late';
        },
      },
    });
    const { item } = await enqueueWorkItem(ctx.store, { kind: 'slow', siteId: SITE });
    while ((await row(item.id)).status !== 'running') await new Promise((r) => setTimeout(r, 10));
    await ctx.db.updateTable('job_scheduler_work_items').set({ status: 'cancelled', lease_owner: null }).where('id', '=', item.id).execute();
    while (!aborted) await new Promise((r) => setTimeout(r, 20));
    release();
    await t.until(1);
    expect(t.settled[0]!.outcome).toBe('lease_lost');
    expect(await row(item.id)).toMatchObject({ status: 'cancelled', result_json: null });
  });

  it('stop() waits for running handlers, then releases what did not finish', async () => {
    const t = settledTracker();
    const rt = start({
      concurrency: 2,
      prefetch: 3,
      graceMs: 300,
      onItemSettled: t.onItemSettled,
      handlers: { fast: () => 'done', stuck: () => new Promise(() => {}) },
    });
    const fast = await enqueueWorkItem(ctx.store, { kind: 'fast', siteId: SITE });
    await t.until(1);
    const stuck = await enqueueWorkItems(ctx.store, Array.from({ length: 5 }, () => ({ kind: 'stuck', siteId: SITE })));
    while (rt.stats().held < 5) await new Promise((r) => setTimeout(r, 10));
    const began = Date.now();
    await rt.stop();
    expect(Date.now() - began).toBeGreaterThanOrEqual(250);
    expect((await row(fast.item.id)).status).toBe('succeeded');
    for (const { item } of stuck) {
      expect(await row(item.id)).toMatchObject({ status: 'queued', lease_owner: null, attempt_count: 0 });
    }
    expect(t.settled.filter((s) => s.outcome === 'released')).toHaveLength(5);
  });

  it('a lane whose handler finishes claims again while another lane is still full', async () => {
    const gates = new Map<number, () => void>();
    const started = new Set<number>();
    const startedPromise = (id: number) => waitFor(() => started.has(id), `item ${id} started`);
    start({
      lanes: [{ name: 'a', concurrency: 1 }, { name: 'b', concurrency: 1 }],
      prefetch: 0,
      pollIntervalMs: 60_000,
      handlers: {
        gated: ({ item }) => new Promise<void>((resolve) => {
          started.add(item.id);
          gates.set(item.id, resolve);
        }),
      },
    });
    const [a1, a2, b1, b2] = (
      await enqueueWorkItems(ctx.store, ['a', 'a', 'b', 'b'].map((lane) => ({ kind: 'gated', siteId: SITE, lane })))
    ).map((r) => r.item.id) as [number, number, number, number];
    await startedPromise(a1);
    await startedPromise(b1); // both lanes are full and waiting for capacity
    gates.get(a1)!();
    await startedPromise(a2);
    gates.get(b1)!();
    await startedPromise(b2);
    gates.get(a2)!();
    gates.get(b2)!();
  });

  it('overlapping claims never hold more than a lane\'s capacity, and run every item once', async () => {
    // Capacity 2 + 6 = 8; handlers finish a few at a time, so refills (and overlapping claims) keep coming.
    const CAPACITY = 8;
    const ITEMS = 60;
    let outstanding = 0; // claimed and whose handler has not returned: at most what the lane holds
    let most = 0;
    const runs = new Map<number, number>();
    const tracker = settledTracker();
    start({
      concurrency: 2,
      prefetch: 6,
      claimsInFlight: 2,
      pollIntervalMs: 60_000,
      onClaim: (items) => {
        outstanding += items.length;
        most = Math.max(most, outstanding);
      },
      onItemSettled: tracker.onItemSettled,
      handlers: {
        step: async ({ item }) => {
          runs.set(item.id, (runs.get(item.id) ?? 0) + 1);
          await new Promise((r) => setImmediate(r));
          outstanding--;
        },
      },
    });
    await enqueueWorkItems(ctx.store, Array.from({ length: ITEMS }, () => ({ kind: 'step', siteId: SITE })));
    await tracker.until(ITEMS);
    expect(tracker.settled.every((s) => s.outcome === 'completed')).toBe(true);
    expect([...runs.values()].every((n) => n === 1) && runs.size === ITEMS).toBe(true);
    expect(most).toBeLessThanOrEqual(CAPACITY);
  });

  it('never holds more than twice a lane\'s capacity of items whose outcome is not yet written', async () => {
    // No-op handlers free their slots at once, so claims outrun the completion writes; the lane
    // must stop claiming instead of leasing the whole queue to this one consumer.
    const CAPACITY = 8;
    const ITEMS = 200;
    let most = 0;
    let runtime: QueueRuntime | undefined = undefined;
    const tracker = settledTracker();
    await enqueueWorkItems(ctx.store, Array.from({ length: ITEMS }, () => ({ kind: 'noop', siteId: SITE })));
    runtime = start({
      concurrency: 2,
      prefetch: 6,
      pollIntervalMs: 60_000,
      // Called before the claimed items are taken over: held now plus what this claim adds.
      onClaim: (items) => {
        most = Math.max(most, (runtime?.stats().held ?? 0) + items.length);
      },
      onItemSettled: tracker.onItemSettled,
      handlers: { noop: () => {} },
    });
    await tracker.until(ITEMS);
    expect(tracker.settled.every((s) => s.outcome === 'completed')).toBe(true);
    expect(most).toBeGreaterThan(0);
    expect(most).toBeLessThanOrEqual(2 * CAPACITY);
  });

  it('wakes an idle consumer on enqueue from another connection, long before its poll interval', async () => {
    const producer = ctx.open();
    const started: number[] = [];
    start({ pollIntervalMs: 60_000, handlers: { ping: () => { started.push(Date.now()); } } });
    await new Promise((r) => setTimeout(r, 300)); // the consumer is idle and waiting
    for (let i = 0; i < 5; i++) {
      const before = Date.now();
      await enqueueWorkItem(producer, { kind: 'ping', siteId: SITE });
      while (started.length <= i) {
        if (Date.now() - before > 5_000) throw new Error(`item ${i} not started within 5 s: no wake-up`);
        await new Promise((r) => setTimeout(r, 2));
      }
      expect(started[i]! - before).toBeLessThan(1_000);
    }
  });

  it('an idle consumer uses next to no CPU', async () => {
    start({ pollIntervalMs: 1_000, handlers: { noop: () => undefined } });
    await new Promise((r) => setTimeout(r, 1_200)); // past the SQLite fast-poll window
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, 1_500));
    const used = process.cpuUsage(cpu0);
    const share = (used.user + used.system) / 1000 / (performance.now() - t0);
    expect(share).toBeLessThan(0.02);
  });
});

// PostgreSQL only: a consumer cut off from its database server (a partition, a server that stopped
// answering) has no SQLite counterpart: there every consumer shares the host and its file, and a
// lock held by another process blocks the synchronous driver (and so the whole event loop) until
// busy_timeout, after which the same check runs.
describe('queue runtime self-fencing [postgres]', () => {
  const ctx = new BackendContext('postgres');
  beforeAll(() => ctx.setup());
  afterAll(() => ctx.teardown());

  it('abandons a running item before its lease runs out when no heartbeat reaches the database', async () => {
    // Another connection holds the item's row (and on SQLite the write lock) in an open
    // transaction, so every heartbeat waits: the consumer must stop the handler itself before
    // the lease it last knew of expires, since another consumer may reclaim the item then.
    let abortedAt: number | undefined;
    let claimedExpiry: number | null = null;
    let handlerStarted = false;
    const t = settledTracker();
    const rt = runQueue({
      store: ctx.store,
      siteId: SITE,
      leaseSeconds: 2,
      heartbeatSeconds: 0.25,
      onItemSettled: t.onItemSettled,
      onClaim: (items) => (claimedExpiry = items[0]?.lease_expires_at ?? claimedExpiry),
      handlers: {
        slow: ({ signal }) =>
          new Promise<void>((resolve) => {
            handlerStarted = true;
            signal.addEventListener('abort', () => {
              abortedAt = Date.now();
              resolve();
            });
          }),
      },
    });
    const { item } = await enqueueWorkItem(ctx.store, { kind: 'slow', siteId: SITE });
    await waitFor(() => handlerStarted, 'the handler started');
    let unblock!: () => void;
    const blocked = new Promise<void>((r) => (unblock = r));
    let holding!: () => void;
    const held = new Promise<void>((r) => (holding = r));
    const blocker = ctx.open().db.transaction().execute(async (trx) => {
      await trx.updateTable('job_scheduler_work_items').set({ updated_at: 0 }).where('id', '=', item.id).execute();
      holding();
      await blocked;
    });
    try {
      await held;
      await waitFor(() => abortedAt !== undefined, 'the handler was aborted', 10_000);
      expect(claimedExpiry).not.toBeNull();
      expect(abortedAt!).toBeLessThan(claimedExpiry! + 250); // the last beat before the block may have extended it by one interval at most
    } finally {
      unblock();
      await blocker;
    }
    await t.until(1);
    expect(t.settled[0]!.outcome).toBe('lease_lost');
    await rt.stop();
  });

});

/**
 * Fencing on the claim: completion, failure, heartbeat and release change an item only under the
 * claim (id, claim_count) the caller holds — not merely under its owner name. A worker that claims
 * the same item again after its lease expired cannot have its first attempt's late outcome taken
 * for the second's; and a reclaim and a completion of one item never both take effect.
 */
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/db/open.js';
import type { WorkItem } from '../../src/db/schema.js';
import {
  claimWorkItems,
  completeWorkItem,
  completeWorkItems,
  enqueueWorkItem,
  failWorkItem,
  heartbeatWorkItems,
  reclaimExpiredLeases,
  releaseWorkItems,
  runQueue,
  type ItemOutcome,
} from '../../src/queue/index.js';
import { BackendContext, describeBackends } from '../helpers/backends.js';
import { TEST_POSTGRES_URL } from '../helpers/env.js';

const T0 = 4_070_908_800_000; // 2099-01-01
const SITE = 11;

async function row(store: Store, id: number): Promise<WorkItem> {
  return store.db.selectFrom('job_scheduler_work_items').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

/** Owner X claims an item, its lease expires, the item is reclaimed, and X claims it again. */
async function claimedTwiceByX(store: Store): Promise<{ first: WorkItem; second: WorkItem }> {
  const { item } = await enqueueWorkItem(store, { kind: 'k', siteId: SITE, maxAttempts: 5 }, { now: T0 });
  const [first] = await claimWorkItems(store, { owner: 'X', siteId: SITE, limit: 1, leaseSeconds: 1, now: T0 });
  expect(await reclaimExpiredLeases(store, { now: T0 + 1001 })).toEqual({ requeued: [item.id], dead: [] });
  const [second] = await claimWorkItems(store, { owner: 'X', siteId: SITE, limit: 1, leaseSeconds: 30, now: T0 + 2000 });
  expect(second).toMatchObject({ id: item.id, lease_owner: 'X', attempt_count: 2, claim_count: 2 });
  expect(first).toMatchObject({ id: item.id, claim_count: 1 });
  return { first: first!, second: second! };
}

describeBackends('fencing on the claim', (ctx) => {
  beforeEach(() => ctx.truncateAll());

  describe('the same owner claims an item again after its lease expired', () => {
    it("the first attempt's completion gets lease_lost and changes nothing; the second's succeeds", async () => {
      const { first, second } = await claimedTwiceByX(ctx.store);
      const before = await row(ctx.store, first.id);
      expect(await completeWorkItem(ctx.store, 'X', first, { attempt: 1 }, { now: T0 + 2500 })).toBe('lease_lost');
      expect(await row(ctx.store, first.id)).toEqual(before);
      expect(await completeWorkItem(ctx.store, 'X', second, { attempt: 2 }, { now: T0 + 3000 })).toBe('completed');
      expect(await row(ctx.store, first.id)).toMatchObject({ status: 'succeeded', result_json: { attempt: 2 }, finished_at: T0 + 3000 });
    });

    it('in one batch with the second attempt, each claim gets its own outcome and only the second result is stored', async () => {
      const { first, second } = await claimedTwiceByX(ctx.store);
      const outcomes = await completeWorkItems(
        ctx.store,
        'X',
        [
          { item: first, result: { attempt: 1 } },
          { item: second, result: { attempt: 2 } },
        ],
        { now: T0 + 3000 },
      );
      expect(outcomes).toEqual(['lease_lost', 'completed']);
      expect(await row(ctx.store, first.id)).toMatchObject({ status: 'succeeded', result_json: { attempt: 2 } });
    });

    it("the first attempt's failure gets lease_lost and changes nothing; the second's is recorded", async () => {
      const { first, second } = await claimedTwiceByX(ctx.store);
      const before = await row(ctx.store, first.id);
      expect(await failWorkItem(ctx.store, 'X', first, new Error('late'), { retryable: false, now: T0 + 2500 })).toEqual({ outcome: 'lease_lost' });
      expect(await row(ctx.store, first.id)).toEqual(before);
      expect(await failWorkItem(ctx.store, 'X', second, new Error('second'), { retryable: false, now: T0 + 3000 })).toEqual({ outcome: 'failed' });
      expect(await row(ctx.store, first.id)).toMatchObject({ status: 'failed', error: 'second' });
    });

    it("the first attempt's heartbeat reports it lost and does not extend the second's lease", async () => {
      const { first, second } = await claimedTwiceByX(ctx.store);
      const before = await row(ctx.store, first.id);
      expect(await heartbeatWorkItems(ctx.store, 'X', [first], { leaseSeconds: 600, now: T0 + 2500 })).toEqual({ held: [], lost: [first.id] });
      expect(await row(ctx.store, first.id)).toEqual(before);
      expect(await heartbeatWorkItems(ctx.store, 'X', [second], { leaseSeconds: 30, now: T0 + 3000 })).toEqual({ held: [second.id], lost: [] });
      expect(await row(ctx.store, first.id)).toMatchObject({ status: 'running', lease_expires_at: T0 + 33_000, heartbeat_at: T0 + 3000 });
    });

    it("the first attempt's release changes nothing; the second's requeues the item", async () => {
      const { first, second } = await claimedTwiceByX(ctx.store);
      const before = await row(ctx.store, first.id);
      expect(await releaseWorkItems(ctx.store, 'X', [first], { now: T0 + 2500 })).toEqual({ requeued: [], dead: [] });
      expect(await row(ctx.store, first.id)).toEqual(before);
      expect(await releaseWorkItems(ctx.store, 'X', [second], { now: T0 + 3000 })).toEqual({ requeued: [second.id], dead: [] });
      expect(await row(ctx.store, first.id)).toMatchObject({ status: 'queued', lease_owner: null, attempt_count: 1, claim_count: 2 });
    });

    it('a release refunds the attempt but not the claim: a claim after it is still a new claim', async () => {
      const { item } = await enqueueWorkItem(ctx.store, { kind: 'k', siteId: SITE }, { now: T0 });
      const [first] = await claimWorkItems(ctx.store, { owner: 'X', siteId: SITE, limit: 1, leaseSeconds: 30, now: T0 });
      await releaseWorkItems(ctx.store, 'X', [first!], { now: T0 + 1 });
      const [second] = await claimWorkItems(ctx.store, { owner: 'X', siteId: SITE, limit: 1, leaseSeconds: 30, now: T0 + 2 });
      expect(second).toMatchObject({ id: item.id, attempt_count: 1, claim_count: 2 });
      expect(await completeWorkItem(ctx.store, 'X', first!, { attempt: 1 }, { now: T0 + 3 })).toBe('lease_lost');
      expect(await completeWorkItem(ctx.store, 'X', second!, { attempt: 2 }, { now: T0 + 4 })).toBe('completed');
      expect(await row(ctx.store, item.id)).toMatchObject({ status: 'succeeded', result_json: { attempt: 2 } });
    });
  });

  describe('a reclaim and a completion of one item, in either order', () => {
    it('reclaim first: the completion gets lease_lost and the item stays queued', async () => {
      const { item } = await enqueueWorkItem(ctx.store, { kind: 'k', siteId: SITE }, { now: T0 });
      const [claim] = await claimWorkItems(ctx.store, { owner: 'W', siteId: SITE, limit: 1, leaseSeconds: 1, now: T0 });
      expect(await reclaimExpiredLeases(ctx.store, { now: T0 + 5000 })).toEqual({ requeued: [item.id], dead: [] });
      expect(await completeWorkItem(ctx.store, 'W', claim!, { late: true }, { now: T0 + 5001 })).toBe('lease_lost');
      expect(await row(ctx.store, item.id)).toMatchObject({ status: 'queued', result_json: null, finished_at: null, error: 'lease expired (owner W)' });
    });

    it('completion first: the reclaim leaves the succeeded item alone', async () => {
      const { item } = await enqueueWorkItem(ctx.store, { kind: 'k', siteId: SITE }, { now: T0 });
      const [claim] = await claimWorkItems(ctx.store, { owner: 'W', siteId: SITE, limit: 1, leaseSeconds: 1, now: T0 });
      expect(await completeWorkItem(ctx.store, 'W', claim!, { done: true }, { now: T0 + 5000 })).toBe('completed');
      expect(await reclaimExpiredLeases(ctx.store, { now: T0 + 5001 })).toEqual({ requeued: [], dead: [] });
      expect(await row(ctx.store, item.id)).toMatchObject({ status: 'succeeded', result_json: { done: true }, finished_at: T0 + 5000, error: null });
    });
  });

  it('a runtime that claims an item again while its first attempt still runs records only the second attempt', async () => {
    const { item } = await enqueueWorkItem(ctx.store, { kind: 'refence', siteId: SITE });
    const calls: Array<{ attempt: number; release: () => void }> = [];
    let callsChanged = () => {};
    const settled: Array<{ outcome: ItemOutcome; claim: number }> = [];
    let settledChanged = () => {};
    const runtime = runQueue({
      store: ctx.store,
      owner: 'X',
      siteId: SITE,
      concurrency: 2,
      pollIntervalMs: 50,
      handlers: {
        refence: ({ item: claimed }) =>
          new Promise((resolve) => {
            calls.push({ attempt: claimed.claim_count, release: () => resolve({ attempt: claimed.claim_count }) });
            callsChanged();
          }),
      },
      onItemSettled: (i, outcome) => {
        settled.push({ outcome, claim: i.claim_count });
        settledChanged();
      },
    });
    const until = (check: () => boolean, set: (f: () => void) => void) =>
      new Promise<void>((resolve) => {
        const test = () => check() && resolve();
        set(test);
        test();
      });
    try {
      await until(() => calls.length === 1, (f) => (callsChanged = f));
      // The first lease ends (as if this process had been frozen) and the item is requeued; the
      // runtime claims it again and runs it a second time while the first handler still runs.
      await ctx.db.updateTable('job_scheduler_work_items').set({ lease_expires_at: 1 }).where('id', '=', item.id).execute();
      expect((await reclaimExpiredLeases(ctx.store)).requeued).toEqual([item.id]);
      await until(() => calls.length === 2, (f) => (callsChanged = f));
      calls[0]!.release();
      await until(() => settled.length === 1, (f) => (settledChanged = f));
      expect(settled).toEqual([{ outcome: 'lease_lost', claim: 1 }]);
      expect(await row(ctx.store, item.id)).toMatchObject({ status: 'running', claim_count: 2, result_json: null });
      expect(runtime.stats().held).toBe(1); // the second attempt is still held (and heartbeated)
      calls[1]!.release();
      await until(() => settled.length === 2, (f) => (settledChanged = f));
      expect(settled[1]).toEqual({ outcome: 'completed', claim: 2 });
      expect(await row(ctx.store, item.id)).toMatchObject({ status: 'succeeded', claim_count: 2, attempt_count: 2, result_json: { attempt: 2 } });
    } finally {
      for (const c of calls) c.release();
      await runtime.stop();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// PostgreSQL: the reclaim and the completion really overlap, on two connections

describe('a reclaim racing a completion on two connections [PostgreSQL only]', () => {
  const ctx = new BackendContext('postgres');
  const RACER = `jobyard-fence-racer-${process.pid}`;
  let racer: Store;
  let admin: pg.Client;
  beforeAll(async () => {
    await ctx.setup();
    racer = ctx.open({ applicationName: RACER, env: { DB_POOL_SIZE: '1', DB_MAX_OVERFLOW: '0' } });
    admin = new pg.Client({ connectionString: TEST_POSTGRES_URL, application_name: 'jobyard-test-admin' });
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.end();
    await ctx.teardown();
  });
  beforeEach(() => ctx.truncateAll());

  /** Resolves once the racer's session waits on a row lock (the other transaction holds it). */
  async function racerBlocked(): Promise<void> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const r = await admin.query(`select 1 from pg_stat_activity where application_name = $1 and wait_event_type = 'Lock'`, [RACER]);
      if (r.rowCount) return;
      if (Date.now() > deadline) throw new Error('the racing statement never waited on the row lock');
      await new Promise((res) => setTimeout(res, 20));
    }
  }

  async function claimedWithExpiredLease(): Promise<WorkItem> {
    await enqueueWorkItem(ctx.store, { kind: 'k', siteId: SITE }, { now: T0 });
    const [claim] = await claimWorkItems(ctx.store, { owner: 'W', siteId: SITE, limit: 1, leaseSeconds: 1, now: T0 });
    return claim!;
  }

  it('a reclaim transaction held open while the completion waits: the reclaim wins, the completion gets lease_lost', async () => {
    const claim = await claimedWithExpiredLease();
    let completion: Promise<string> | undefined;
    await ctx.db.transaction().execute(async (trx) => {
      expect(await reclaimExpiredLeases({ ...ctx.store, db: trx }, { now: T0 + 5000 })).toEqual({ requeued: [claim.id], dead: [] });
      completion = completeWorkItem(racer, 'W', claim, { late: true }, { now: T0 + 5001 });
      await racerBlocked();
    });
    expect(await completion).toBe('lease_lost');
    expect(await row(ctx.store, claim.id)).toMatchObject({ status: 'queued', result_json: null, finished_at: null, lease_owner: null });
  });

  it('a completion transaction held open while the reclaim waits: the completion wins, the reclaim skips the item', async () => {
    const claim = await claimedWithExpiredLease();
    let reclaim: Promise<unknown> | undefined;
    await ctx.db.transaction().execute(async (trx) => {
      expect(await completeWorkItem({ ...ctx.store, db: trx }, 'W', claim, { done: true }, { now: T0 + 5000 })).toBe('completed');
      reclaim = reclaimExpiredLeases(racer, { now: T0 + 5001 });
      await racerBlocked();
    });
    expect(await reclaim).toEqual({ requeued: [], dead: [] });
    expect(await row(ctx.store, claim.id)).toMatchObject({ status: 'succeeded', result_json: { done: true }, finished_at: T0 + 5000, error: null });
  });
});

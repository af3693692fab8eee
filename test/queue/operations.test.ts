/** Queue operations one by one, on both backends, with a controlled clock. */
import { sql } from 'kysely';
import { beforeEach, expect, it } from 'vitest';
import {
  cancelWorkItem,
  claimWorkItems,
  completeWorkItem,
  completeWorkItems,
  enqueueWorkItem,
  enqueueWorkItems,
  failWorkItem,
  heartbeatWorkItems,
  pruneFinishedWorkItems,
  reclaimExpiredLeases,
  releaseOwner,
  releaseWorkItems,
  retryWorkItemNow,
} from '../../src/queue/index.js';
import { describeBackends } from '../helpers/backends.js';

const T0 = 1_800_000_000_000;
const SITE = 7;

describeBackends('queue operations', (ctx) => {
  beforeEach(() => ctx.truncateAll());

  const item = async (id: number) =>
    ctx.db.selectFrom('job_scheduler_work_items').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

  it('enqueues with defaults and returns the existing item for a repeated dedupe key', async () => {
    const first = await enqueueWorkItem(ctx.store, { kind: 'scheduled_run', siteId: SITE, payload: { a: 1 }, dedupeKey: 'k1' }, { now: T0 });
    expect(first.created).toBe(true);
    expect(first.item).toMatchObject({
      kind: 'scheduled_run',
      site_id: SITE,
      lane: 'default',
      status: 'queued',
      priority: 40,
      attempt_count: 0,
      max_attempts: 3,
      available_at: T0,
      payload_json: { a: 1 },
    });
    const again = await enqueueWorkItem(ctx.store, { kind: 'scheduled_run', siteId: SITE, payload: { a: 2 }, dedupeKey: 'k1' }, { now: T0 + 5 });
    expect(again.created).toBe(false);
    expect(again.item.id).toBe(first.item.id);
    expect(again.item.payload_json).toEqual({ a: 1 });
    const batch = await enqueueWorkItems(ctx.store, [
      { kind: 'x', dedupeKey: 'k2' },
      { kind: 'x' },
      { kind: 'x', dedupeKey: 'k1' },
      { kind: 'x', dedupeKey: 'k2' },
      { kind: 'x' },
    ]);
    expect(batch.map((r) => r.created)).toEqual([true, true, false, false, true]);
    expect(batch[3]!.item.id).toBe(batch[0]!.item.id);
    expect(new Set(batch.map((r) => r.item.id)).size).toBe(4);
    const count = await ctx.db.selectFrom('job_scheduler_work_items').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
    expect(Number(count!.n)).toBe(4);
  });

  it('returns each created item exactly as the table holds it, in the caller\'s order', async () => {
    // Enqueue returns only ids from the database and builds the rest from what it wrote and the
    // columns' defaults: this compares that with the stored rows, field by field.
    const results = await enqueueWorkItems(
      ctx.store,
      [
        { kind: 'scheduled_run', siteId: SITE, jobId: 3, runId: 4, targetId: 5, payload: { n: 1, nested: { list: [1, 'two', null] }, text: 'é"\\' }, dedupeKey: 'z' },
        { kind: 'x', lane: 'slow', priority: 9, availableAt: T0 + 1000, maxAttempts: 7 },
        { kind: 'x', dedupeKey: 'a', payload: { flag: true } },
        { kind: 'x' },
      ],
      { now: T0 },
    );
    expect(results.map((r) => r.created)).toEqual([true, true, true, true]);
    expect(results.map((r) => r.item.kind)).toEqual(['scheduled_run', 'x', 'x', 'x']);
    for (const { item: returned } of results) expect(returned).toEqual(await item(returned.id));
    expect(results[1]!.item.id).toBeLessThan(results[3]!.item.id); // unkeyed rows keep their order
  });

  it('stores a batch whose items differ in one column, or in none, item by item', async () => {
    // Columns equal in every row are sent once (db/bulk-insert.ts): each row must still get them.
    const same = await enqueueWorkItems(ctx.store, [{ kind: 'x', payload: { a: 1 } }, { kind: 'x', payload: { a: 1 } }, { kind: 'x', payload: { a: 1 } }], { now: T0 });
    const oneDiffers = await enqueueWorkItems(ctx.store, [{ kind: 'x', siteId: SITE }, { kind: 'x', siteId: SITE, dedupeKey: 'k' }], { now: T0 });
    expect(new Set([...same, ...oneDiffers].map((r) => r.item.id)).size).toBe(5);
    for (const { item: returned } of [...same, ...oneDiffers]) expect(returned).toEqual(await item(returned.id));
  });

  it('stores text and JSON cells of a batch exactly, whatever characters they hold', async () => {
    // A batch's varying columns travel as arrays on PostgreSQL (db/bulk-insert.ts): quoting,
    // braces, commas, backslashes and the word NULL must come back as they went in.
    const awkward = ['"quoted"', 'back\\slash', '{braces},comma', 'NULL', '', 'line\nbreak', 'ünï “cödé” 🚀', "it's"];
    const created = await enqueueWorkItems(
      ctx.store,
      awkward.map((text, i) => ({ kind: 'x', dedupeKey: `key-${i}-${text}`, payload: { text, nested: { list: [text, null, i] } } })),
      { now: T0 },
    );
    expect(created.map((r) => r.created)).toEqual(awkward.map(() => true));
    for (const [i, { item: returned }] of created.entries()) {
      expect(returned.dedupe_key).toBe(`key-${i}-${awkward[i]}`);
      expect(returned.payload_json).toEqual({ text: awkward[i], nested: { list: [awkward[i], null, i] } });
      expect(returned).toEqual(await item(returned.id));
    }
  });

  it('refuses secrets and bad fields without writing anything', async () => {
    await expect(
      enqueueWorkItems(ctx.store, [{ kind: 'ok' }, { kind: 'ok', payload: { auth: { password: 'x' } } }]),
    ).rejects.toThrow(/items\[1\]\.payload: secrets never enter payload_json; remove auth\.password/);
    await expect(enqueueWorkItem(ctx.store, { kind: 'Bad Kind' })).rejects.toThrow(/kind: "Bad Kind"/);
    await expect(enqueueWorkItem(ctx.store, { kind: 'ok', maxAttempts: 0 })).rejects.toThrow(/max_attempts/);
    expect(await ctx.db.selectFrom('job_scheduler_work_items').selectAll().execute()).toEqual([]);
  });

  it('claims by priority (higher first), then available_at, then id; never early, never twice', async () => {
    const [low, high, later, early, otherSite, otherLane] = (
      await enqueueWorkItems(
        ctx.store,
        [
          { kind: 'scheduled_run', siteId: SITE, availableAt: T0 - 10 },
          { kind: 'service_action', siteId: SITE, availableAt: T0 },
          { kind: 'onboarding_run', siteId: SITE, availableAt: T0 + 1000 },
          { kind: 'onboarding_run', siteId: SITE, availableAt: T0 - 5 },
          { kind: 'service_action', siteId: SITE + 1, availableAt: T0 },
          { kind: 'service_action', siteId: SITE, lane: 'slow', availableAt: T0 },
        ],
        { now: T0 - 100 },
      )
    ).map((r) => r.item);
    const claimed = await claimWorkItems(ctx.store, { owner: 'w1', siteId: SITE, lanes: ['default'], limit: 10, leaseSeconds: 30, workerGuid: 'g1', containerName: 'site-worker-1', now: T0 });
    expect(claimed.map((c) => c.id)).toEqual([high!.id, early!.id, low!.id]);
    expect(claimed[0]).toMatchObject({ status: 'running', lease_owner: 'w1', lease_expires_at: T0 + 30_000, started_at: T0, attempt_count: 1, worker_guid: 'g1', container_name: 'site-worker-1' });
    // Held leases are not claimable again; the later item is not available yet.
    expect(await claimWorkItems(ctx.store, { owner: 'w2', siteId: SITE, lanes: ['default'], limit: 10, leaseSeconds: 30, now: T0 + 10 })).toEqual([]);
    const atLater = await claimWorkItems(ctx.store, { owner: 'w2', siteId: SITE, limit: 10, leaseSeconds: 30, now: T0 + 1000 });
    expect(atLater.map((c) => c.id).sort()).toEqual([later!.id, otherLane!.id].sort());
    expect((await item(otherSite!.id)).status).toBe('queued');
    const byKind = await claimWorkItems(ctx.store, { owner: 'w3', siteId: SITE + 1, kinds: ['scheduled_run'], limit: 10, leaseSeconds: 30, now: T0 });
    expect(byKind).toEqual([]);
    expect(await claimWorkItems(ctx.store, { owner: 'w3', limit: 10, leaseSeconds: 30, now: T0 })).toHaveLength(1);
  });

  it('hands out each claimed item exactly as the table holds it after the claim, a retried one with its last error', async () => {
    const [first] = await enqueueWorkItems(ctx.store, [{ kind: 'scheduled_run', siteId: SITE, jobId: 7, runId: 8, targetId: 9, payload: { host: 'h1' }, dedupeKey: 'k1', availableAt: T0 }]).then((r) => r.map((x) => x.item));
    await enqueueWorkItems(ctx.store, [{ kind: 'service_action', siteId: SITE, lane: 'default', priority: 3, availableAt: T0 }]);
    const [claim1] = await claimWorkItems(ctx.store, { owner: 'w1', siteId: SITE, kinds: ['scheduled_run'], limit: 1, leaseSeconds: 30, now: T0 });
    await failWorkItem(ctx.store, 'w1', claim1!, new Error('boom'), { retryable: true, now: T0 + 1, policies: { scheduled_run: { baseDelayMs: 0, maxDelayMs: 0 } } });
    const claimed = await claimWorkItems(ctx.store, { owner: 'w2', siteId: SITE, limit: 10, leaseSeconds: 45, workerGuid: 'g2', containerName: 'site-worker-2', now: T0 + 100_000 });
    expect(claimed).toHaveLength(2);
    const stored = await ctx.db.selectFrom('job_scheduler_work_items').selectAll().where('id', 'in', claimed.map((c) => c.id)).execute();
    for (const item of claimed) expect(item).toEqual(stored.find((r) => r.id === item.id));
    expect(claimed.find((c) => c.id === first!.id)).toMatchObject({ attempt_count: 2, claim_count: 2, error: expect.stringContaining('boom') });
  });

  it('claims site-less items with siteId null only', async () => {
    await enqueueWorkItems(ctx.store, [{ kind: 'service_action' }, { kind: 'scheduled_run', siteId: SITE }], { now: T0 });
    const claimed = await claimWorkItems(ctx.store, { owner: 'svc', siteId: null, limit: 10, leaseSeconds: 30, now: T0 });
    expect(claimed.map((c) => c.kind)).toEqual(['service_action']);
  });

  it('heartbeats extend held leases and report lost ones', async () => {
    const [a, b] = (await enqueueWorkItems(ctx.store, [{ kind: 'k', siteId: SITE }, { kind: 'k', siteId: SITE }], { now: T0 })).map((r) => r.item);
    const claims = await claimWorkItems(ctx.store, { owner: 'w1', siteId: SITE, limit: 2, leaseSeconds: 10, now: T0 });
    await cancelWorkItem(ctx.store, b!.id, { now: T0 + 1 });
    const hb = await heartbeatWorkItems(ctx.store, 'w1', claims, { leaseSeconds: 10, now: T0 + 5000 });
    expect(hb).toEqual({ held: [a!.id], lost: [b!.id] });
    expect(await item(a!.id)).toMatchObject({ lease_expires_at: T0 + 15_000, heartbeat_at: T0 + 5000 });
    expect((await heartbeatWorkItems(ctx.store, 'someone-else', [claims[0]!], { leaseSeconds: 10, now: T0 + 6000 })).lost).toEqual([a!.id]);
  });

  it('completion is fenced on the lease owner: a stale owner gets lease_lost and changes nothing', async () => {
    const { item: it1 } = await enqueueWorkItem(ctx.store, { kind: 'k', siteId: SITE, maxAttempts: 3 }, { now: T0 });
    const [slow] = await claimWorkItems(ctx.store, { owner: 'slow', siteId: SITE, limit: 1, leaseSeconds: 1, now: T0 });
    // The slow owner's lease expires and the item is reclaimed and claimed by another worker.
    expect(await reclaimExpiredLeases(ctx.store, { now: T0 + 1001 })).toEqual({ requeued: [it1.id], dead: [] });
    expect(await item(it1.id)).toMatchObject({ status: 'queued', lease_owner: null, error: 'lease expired (owner slow)' });
    const [fresh] = await claimWorkItems(ctx.store, { owner: 'fresh', siteId: SITE, limit: 1, leaseSeconds: 30, now: T0 + 2000 });
    expect(await completeWorkItem(ctx.store, 'slow', slow!, { by: 'slow' }, { now: T0 + 2500 })).toBe('lease_lost');
    expect((await failWorkItem(ctx.store, 'slow', slow!, new Error('late'), { now: T0 + 2500 })).outcome).toBe('lease_lost');
    expect(await item(it1.id)).toMatchObject({ status: 'running', lease_owner: 'fresh', attempt_count: 2, result_json: null });
    expect(await completeWorkItem(ctx.store, 'fresh', fresh!, { by: 'fresh' }, { now: T0 + 3000 })).toBe('completed');
    expect(await item(it1.id)).toMatchObject({ status: 'succeeded', finished_at: T0 + 3000, result_json: { by: 'fresh' }, attempt_count: 2 });
    expect(await completeWorkItem(ctx.store, 'fresh', fresh!, { by: 'again' })).toBe('lease_lost');
  });

  it('completes a batch in one call, each with its own result', async () => {
    const ids = (await enqueueWorkItems(ctx.store, [1, 2, 3].map(() => ({ kind: 'k', siteId: SITE })), { now: T0 })).map((r) => r.item.id);
    const [c0, c1] = await claimWorkItems(ctx.store, { owner: 'w', siteId: SITE, limit: 2, leaseSeconds: 30, now: T0 });
    // The third was never claimed: a made-up claim of it is refused.
    const outcomes = await completeWorkItems(ctx.store, 'w', [{ item: c0!, result: { n: 1 } }, { item: c1! }, { item: { id: ids[2]!, claim_count: 0 }, result: [2] }], { now: T0 + 1 });
    expect(outcomes).toEqual(['completed', 'completed', 'lease_lost']);
    expect((await item(ids[0]!)).result_json).toEqual({ n: 1 });
    expect((await item(ids[1]!)).result_json).toBeNull();
    expect((await item(ids[2]!)).status).toBe('queued');
  });

  it('retries with backoff and goes dead after max attempts, keeping the last error and the count', async () => {
    const { item: it1 } = await enqueueWorkItem(ctx.store, { kind: 'scheduled_run', siteId: SITE, maxAttempts: 3 }, { now: T0 });
    let now = T0;
    const attempts: Array<{ outcome: string; availableAt?: number }> = [];
    for (let attempt = 1; attempt <= 3; attempt++) {
      const [c] = await claimWorkItems(ctx.store, { owner: 'w', siteId: SITE, limit: 1, leaseSeconds: 30, now });
      expect(c?.id).toBe(it1.id);
      const r = await failWorkItem(ctx.store, 'w', c!, new Error(`boom ${attempt}`), { now, random: () => 1 });
      attempts.push(r);
      if (r.availableAt) {
        // Not claimable before the backoff ends.
        expect(await claimWorkItems(ctx.store, { owner: 'w', siteId: SITE, limit: 1, leaseSeconds: 30, now: r.availableAt - 1 })).toEqual([]);
        now = r.availableAt;
      }
    }
    // scheduled_run: base 10 s, so 10 s then 20 s (random() = 1 → the full ceiling).
    expect(attempts).toEqual([
      { outcome: 'retry_scheduled', availableAt: T0 + 10_000 },
      { outcome: 'retry_scheduled', availableAt: T0 + 30_000 },
      { outcome: 'dead' },
    ]);
    expect(await item(it1.id)).toMatchObject({ status: 'dead', attempt_count: 3, error: 'boom 3 (attempt 3 of 3; no attempts left)', finished_at: T0 + 30_000 });
  });

  it('a non-retryable failure is final at once', async () => {
    const { item: it1 } = await enqueueWorkItem(ctx.store, { kind: 'k', siteId: SITE }, { now: T0 });
    const [c] = await claimWorkItems(ctx.store, { owner: 'w', siteId: SITE, limit: 1, leaseSeconds: 30, now: T0 });
    expect(await failWorkItem(ctx.store, 'w', c!, 'plain string', { retryable: false, now: T0 })).toEqual({ outcome: 'failed' });
    expect(await item(it1.id)).toMatchObject({ status: 'failed', error: 'plain string', attempt_count: 1 });
  });

  it('reclaim sends exhausted items dead; releaseOwner returns a lost worker\'s items at once', async () => {
    const [a, b, c] = (await enqueueWorkItems(ctx.store, [{ kind: 'k', siteId: SITE, maxAttempts: 1 }, { kind: 'k', siteId: SITE }, { kind: 'k', siteId: SITE }], { now: T0 })).map((r) => r.item);
    await claimWorkItems(ctx.store, { owner: 'w1', siteId: SITE, limit: 2, leaseSeconds: 5, now: T0 });
    await claimWorkItems(ctx.store, { owner: 'w2', siteId: SITE, limit: 1, leaseSeconds: 60, now: T0 });
    const reclaimed = await reclaimExpiredLeases(ctx.store, { now: T0 + 5001 });
    expect(reclaimed).toEqual({ requeued: [b!.id], dead: [a!.id] });
    expect(await item(a!.id)).toMatchObject({ status: 'dead', error: 'lease expired (owner w1); no attempts left' });
    const released = await releaseOwner(ctx.store, 'w2', { now: T0 + 6000, reason: 'container exited' });
    expect(released).toEqual({ requeued: [c!.id], dead: [] });
    expect(await item(c!.id)).toMatchObject({ status: 'queued', error: 'container exited (owner w2)', available_at: T0 + 6000, attempt_count: 1 });
  });

  it('graceful release refunds the interrupted attempt', async () => {
    const { item: it1 } = await enqueueWorkItem(ctx.store, { kind: 'k', siteId: SITE }, { now: T0 });
    const claims = await claimWorkItems(ctx.store, { owner: 'w', siteId: SITE, limit: 1, leaseSeconds: 30, now: T0 });
    expect(await releaseWorkItems(ctx.store, 'w', claims, { now: T0 + 1 })).toEqual({ requeued: [it1.id], dead: [] });
    expect(await item(it1.id)).toMatchObject({ status: 'queued', attempt_count: 0, lease_owner: null });
  });

  it('cancel, retry-now and prune', async () => {
    const [a, b] = (await enqueueWorkItems(ctx.store, [{ kind: 'k', siteId: SITE, maxAttempts: 1 }, { kind: 'k', siteId: SITE, availableAt: T0 + 60_000 }], { now: T0 })).map((r) => r.item);
    const [ca] = await claimWorkItems(ctx.store, { owner: 'w', siteId: SITE, limit: 1, leaseSeconds: 30, now: T0 });
    await failWorkItem(ctx.store, 'w', ca!, 'x', { now: T0 });
    expect((await item(a!.id)).status).toBe('dead');
    const retried = await retryWorkItemNow(ctx.store, a!.id, { now: T0 + 10 });
    expect(retried).toMatchObject({ status: 'queued', available_at: T0 + 10, max_attempts: 2, finished_at: null });
    expect((await retryWorkItemNow(ctx.store, b!.id, { now: T0 + 20 }))?.available_at).toBe(T0 + 20);
    expect((await cancelWorkItem(ctx.store, b!.id, { now: T0 + 30 }))?.status).toBe('cancelled');
    expect(await cancelWorkItem(ctx.store, b!.id)).toBeUndefined(); // already final

    // Prune: 25 finished items, 5 of them recent; batches of 7.
    const olds = (await enqueueWorkItems(ctx.store, Array.from({ length: 25 }, () => ({ kind: 'p', siteId: 99 })), { now: T0 })).map((r) => r.item.id);
    const oldClaims = await claimWorkItems(ctx.store, { owner: 'p', siteId: 99, limit: 25, leaseSeconds: 30, now: T0 });
    expect(oldClaims.map((c) => c.id)).toEqual(olds);
    await completeWorkItems(ctx.store, 'p', oldClaims.slice(0, 20).map((item) => ({ item })), { now: T0 });
    await completeWorkItems(ctx.store, 'p', oldClaims.slice(20).map((item) => ({ item })), { now: T0 + 8 * 86_400_000 });
    const pruned = await pruneFinishedWorkItems(ctx.store, { now: T0 + 7 * 86_400_000 + 100, batchSize: 7 });
    expect(pruned).toBe(21); // 20 completed + the cancelled one (b), all older than 7 days
    const left = await ctx.db.selectFrom('job_scheduler_work_items').select('id').execute();
    expect(left.map((r) => r.id).sort((x, y) => x - y)).toEqual([a!.id, ...olds.slice(20)].sort((x, y) => x - y));
  });

  it('stores invalid JSON only on SQLite and reads it back as InvalidJson; PostgreSQL refuses it at write', async () => {
    const write = sql`insert into job_scheduler_work_items (kind, payload_json, max_attempts, available_at, created_at, updated_at) values ('k', ${'{not json'}, 1, 0, 0, 0)`.execute(ctx.db);
    if (ctx.backend === 'postgres') {
      await expect(write).rejects.toThrow(/json/i);
    } else {
      await write;
      const row = await ctx.db.selectFrom('job_scheduler_work_items').select('payload_json').executeTakeFirstOrThrow();
      expect(String(row.payload_json)).toMatch(/invalid JSON in payload_json/);
    }
  });
});

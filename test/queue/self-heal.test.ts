/**
 * Consumers heal the queue themselves: with no scheduler running, the items a kill -9'd consumer
 * held go back to the queue once their lease expires, through the surviving consumers' own
 * reclaim passes, and every item ends terminal — completed exactly once.
 *
 * Real processes (test/fixtures/queue-consumer.mjs, the compiled code), both backends. Every
 * child is SIGKILLed in afterEach if still running.
 */
import { join } from 'node:path';
import { beforeEach, expect, it } from 'vitest';
import type { Store } from '../../src/db/open.js';
import { claimWorkItems, enqueueWorkItems, hasExpiredLeases, reclaimExpiredLeases } from '../../src/queue/index.js';
import { describeBackends } from '../helpers/backends.js';
import {
  histogram,
  killChildProcessesAfterEach,
  queueSite,
  readConsumerLog,
  waitUntil,
  type ChildProc,
  useProcessTestBed,
} from '../helpers/processes.js';

const SITE = 11;
const KIND = 'heal_test';
const LEASE_SECONDS = 2;
/**
 * How long after its lease expired an orphaned item may still be `running`: "a few seconds". A
 * reclaim pass comes every 0.25–0.75 s here; the rest is room for a loaded 2-core machine.
 */
const HEAL_SLACK_MS = 6_000;

killChildProcessesAfterEach();

const site = queueSite(SITE, KIND);
const statusCounts = site.statusCounts;

/** A consumer whose reclaim pass is the runtime's default one: that is what is under test. */
const startConsumer = (url: string, dir: string, name: string): ChildProc =>
  site.startConsumer(url, name, {
    log: join(dir, `${name}.log`),
    concurrency: 5,
    prefetch: 5,
    delayMs: 20,
    leaseSeconds: LEASE_SECONDS,
    heartbeatSeconds: 0.5,
    pollMs: 200,
  });

/** Throws when an item is still `running` more than HEAL_SLACK_MS after its lease expired. */
async function assertNoStaleLease(store: Store, stderr = ''): Promise<void> {
  const stale = await store.db
    .selectFrom('job_scheduler_work_items')
    .select(['id', 'lease_owner', 'lease_expires_at'])
    .where('site_id', '=', SITE)
    .where('status', '=', 'running')
    .where('lease_expires_at', '<', Date.now() - HEAL_SLACK_MS)
    .execute();
  if (stale.length > 0) {
    throw new Error(`${stale.length} items still running ${HEAL_SLACK_MS} ms after their lease expired, e.g. ${JSON.stringify(stale.slice(0, 3))} (now ${Date.now()}) ${JSON.stringify(await statusCounts(store))}; consumers' stderr:\n${stderr}`);
  }
}

describeBackends('consumers heal the queue without a scheduler', (ctx) => {
  const dir = useProcessTestBed(ctx, 'jobyard-heal-');

  it('6 kill -9s mid-drain among 4 consumers: every orphaned item is back within lease + a few seconds, all end succeeded, each completed once', async () => {
    const TOTAL = 600;
    let serial = 0;
    const consumers = Array.from({ length: 4 }, () => startConsumer(ctx.url, dir(), `consumer-${serial++}`));
    const owners = new Map<ChildProc, string>();
    const ready = async (c: ChildProc) => owners.set(c, (await c.waitFor('ready')).owner as string);
    await Promise.all(consumers.map(ready));
    const ids = (
      await enqueueWorkItems(ctx.store, Array.from({ length: TOTAL }, (_, n) => ({ kind: KIND, siteId: SITE, payload: { n }, maxAttempts: 10 })))
    ).map((r) => r.item.id);

    const stderr = () => consumers.map((c) => `${c.name} ready=${owners.has(c)}: ${c.stderr.slice(-1500)}`).join('\n');
    const describe = async () => `${JSON.stringify(await statusCounts(ctx.store))}; stderr: ${consumers.map((c) => c.stderr.slice(-500)).join('\n')}`;
    let orphaned = 0;
    for (const [round, threshold] of [50, 130, 210, 290, 370, 450].entries()) {
      await waitUntil(
        async () => (await assertNoStaleLease(ctx.store, stderr()), ((await statusCounts(ctx.store)).succeeded ?? 0) >= threshold),
        30_000,
        describe,
      );
      const victim = consumers[round % consumers.length]!;
      const owner = owners.get(victim)!;
      victim.child.kill('SIGKILL');
      await victim.exited;
      await new Promise((r) => setTimeout(r, 100)); // let a statement the server already had finish
      orphaned += Number(
        (
          await ctx.db
            .selectFrom('job_scheduler_work_items')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .where('status', '=', 'running')
            .where('lease_owner', '=', owner)
            .executeTakeFirstOrThrow()
        ).n,
      );
      const respawned = startConsumer(ctx.url, dir(), `consumer-${serial++}`);
      consumers[round % consumers.length] = respawned;
      // Ready before the next kill: four consumers stay up, so the next victim's items have
      // survivors to heal them (a slow start must not leave none).
      await ready(respawned);
    }
    expect(orphaned, 'the killed consumers died holding items').toBeGreaterThan(0);

    await waitUntil(
      async () => (await assertNoStaleLease(ctx.store, stderr()), (await statusCounts(ctx.store)).succeeded === TOTAL),
      30_000,
      describe,
    );

    const rows = await ctx.db
      .selectFrom('job_scheduler_work_items')
      .select(['id', 'status', 'attempt_count', 'result_json'])
      .where('site_id', '=', SITE)
      .orderBy('id')
      .execute();
    expect(rows.map((r) => r.id)).toEqual(ids);
    expect(rows.filter((r) => r.status !== 'succeeded')).toEqual([]);
    // Orphaned items were claimed again: the reclaim counted the attempt as it does for the scheduler.
    expect(rows.filter((r) => r.attempt_count > 1).length).toBeGreaterThan(0);
    // Completed once: no item was settled as completed by two consumers. (A consumer killed right
    // after its completion committed may not have logged it, hence at most one log line.)
    const logs = [...Array(serial).keys()].map((i) => readConsumerLog(join(dir(), `consumer-${i}.log`)));
    const completions = histogram(logs.flatMap((l) => l.settled.filter((x) => x.outcome === 'completed').map((x) => x.id)));
    expect([...completions].filter(([, n]) => n > 1)).toEqual([]);
  }, 120_000);
});

describeBackends('a consumer\'s reclaim pass', (ctx) => {
  /** A fixed far-future clock: leases are compared with it, never with today's date. */
  const T0 = 4_000_000_000_000;
  beforeEach(() => ctx.truncateAll());

  it('touches only its scope (site, kinds, lanes) and counts attempts as the scheduler\'s does', async () => {
    const items = (
      await enqueueWorkItems(
        ctx.store,
        [
          { kind: 'k', siteId: 1, lane: 'a', maxAttempts: 3 }, // in scope
          { kind: 'k', siteId: 1, lane: 'a', maxAttempts: 1 }, // in scope, no attempts left
          { kind: 'k', siteId: 2, lane: 'a' }, // other site
          { kind: 'other', siteId: 1, lane: 'a' }, // other kind
          { kind: 'k', siteId: 1, lane: 'b' }, // other lane
          { kind: 'k', siteId: null, lane: 'a' }, // no site
        ],
        { now: T0 },
      )
    ).map((r) => r.item.id);
    for (const siteId of [1, 2, null]) await claimWorkItems(ctx.store, { owner: 'dead', siteId, limit: 10, leaseSeconds: 1, now: T0 });
    const scope = { siteId: 1, kinds: ['k'], lanes: ['a'] };

    expect(await hasExpiredLeases(ctx.store, { scope, now: T0 + 1000 })).toBe(false); // not yet expired
    expect(await hasExpiredLeases(ctx.store, { scope, now: T0 + 1001 })).toBe(true);
    expect(await reclaimExpiredLeases(ctx.store, { scope, now: T0 + 1001 })).toEqual({ requeued: [items[0]], dead: [items[1]] });
    expect(await hasExpiredLeases(ctx.store, { scope, now: T0 + 5000 })).toBe(false);
    expect(await hasExpiredLeases(ctx.store, { scope: { siteId: null }, now: T0 + 5000 })).toBe(true);

    const rows = await ctx.db.selectFrom('job_scheduler_work_items').select(['id', 'status', 'attempt_count', 'error']).orderBy('id').execute();
    expect(rows).toEqual([
      { id: items[0], status: 'queued', attempt_count: 1, error: 'lease expired (owner dead)' },
      { id: items[1], status: 'dead', attempt_count: 1, error: 'lease expired (owner dead); no attempts left' },
      ...items.slice(2).map((id) => ({ id, status: 'running', attempt_count: 1, error: null })),
    ]);
  });
});

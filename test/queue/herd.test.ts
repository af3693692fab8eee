/**
 * Three replicas and a NOTIFY burst: every consumer process hears every NOTIFY, so without care
 * each notification sends all three to claim and two find nothing. With several listeners, a
 * wake-up is delayed by a small random amount (at most DB_WAKE_JITTER_MS) that merges a burst of
 * notifications into one claim per consumer. This file measures empty claims per notification
 * with real consumer processes, with the jitter off and on (figures in docs/reliability.md), and
 * checks that every item is completed exactly once either way. PostgreSQL only (LISTEN/NOTIFY).
 */
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueueWorkItem } from '../../src/queue/index.js';
import { BackendContext } from '../helpers/backends.js';
import { readConsumerLog, spawnConsumer, stopGracefully, sumCounts, useProcessTestBed, waitUntil, type ChildProc } from '../helpers/processes.js';

const SITE = 9;
const BURSTS = 10;
const PER_BURST = 10;

describe('three replicas and NOTIFY bursts [postgres]', () => {
  const ctx = new BackendContext('postgres', { isolation: 'database' });
  beforeAll(() => ctx.setup());
  afterAll(() => ctx.teardown());
  const dir = useProcessTestBed(ctx, 'jobyard-herd-');

  async function listeners(): Promise<number> {
    const r = await sql<{ n: string }>`select count(*) as n from pg_stat_activity where application_name = 'jobyard-listener' and datname = current_database()`.execute(ctx.db);
    return Number(r.rows[0]!.n);
  }

  /** Empty claims per notification, and whether every item was completed once. */
  async function measure(jitterMs: number): Promise<{ notifications: number; claims: number; empty: number }> {
    const logs = [0, 1, 2].map((i) => join(dir(), `c${jitterMs}-${i}.log`));
    const consumers: ChildProc[] = logs.map((log, i) =>
      spawnConsumer(ctx.url, `consumer-${i}`, {
        siteId: SITE,
        kind: 'proc_test',
        log,
        pollMs: 60_000, // only notifications drive claims here
        env: { DB_WAKE_JITTER_MS: String(jitterMs), DB_LISTEN_CHECK_MS: '300' },
      }),
    );
    await Promise.all(consumers.map((c) => c.waitFor('ready')));
    await waitUntil(async () => (await listeners()) === 3, 15_000, async () => `listeners: ${await listeners()}`);
    // Two check rounds, so each listener has counted the other two.
    await new Promise((r) => setTimeout(r, 700));
    consumers.forEach((c) => c.child.kill('SIGUSR2'));
    const before = await Promise.all(consumers.map((c) => c.waitFor('claims')));
    const ids: number[] = [];
    for (let b = 0; b < BURSTS; b++) {
      // One INSERT statement each: one NOTIFY each, back to back.
      for (let i = 0; i < PER_BURST; i++) ids.push((await enqueueWorkItem(ctx.store, { kind: 'proc_test', siteId: SITE })).item.id);
      await new Promise((r) => setTimeout(r, 100));
    }
    await waitUntil(() => sumCounts(logs.map(readConsumerLog), 'done').size === ids.length, 30_000, () => 'not all items done');
    const stopped = await Promise.all(consumers.map((c) => stopGracefully(c)));
    const done = sumCounts(logs.map(readConsumerLog), 'done');
    expect([...done.values()].every((n) => n === 1)).toBe(true);
    const claims = stopped.reduce((a, s, i) => a + Number(s.claims) - Number(before[i]!.claims), 0);
    const empty = stopped.reduce((a, s, i) => a + Number(s.emptyClaims) - Number(before[i]!.emptyClaims), 0);
    return { notifications: ids.length, claims, empty };
  }

  it('measures empty claims per notification without and with the wake-up jitter; every item completes once', async () => {
    const off = await measure(0);
    await ctx.truncateAll();
    const on = await measure(50);
    // The figures for docs/reliability.md (machine-dependent; the assertions are only what must hold).
    console.log(
      `herd: ${off.notifications} notifications, 3 consumers; jitter off: ${off.claims} claims, ${off.empty} empty ` +
        `(${(off.empty / off.notifications).toFixed(2)}/notification); jitter 50 ms: ${on.claims} claims, ${on.empty} empty ` +
        `(${(on.empty / on.notifications).toFixed(2)}/notification)`,
    );
    for (const m of [off, on]) expect(m.empty).toBeLessThanOrEqual(3 * m.notifications);
  }, 120_000);
});

/** The per-minute chart rollup on both backends: counts, waits, idempotent recomputation, retention. */
import { beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { enqueueWorkItem } from '../../src/queue/enqueue.js';
import { pruneRollup, readSeries, rollUpMinutes, MINUTE_MS } from '../../src/queue/minute-rollup.js';
import { describeBackends } from '../helpers/backends.js';

const T0 = Date.UTC(2099, 0, 5, 12, 0, 0); // a minute boundary

describeBackends('dashboard minute rollup', (ctx) => {
  beforeEach(() => ctx.truncateAll());

  const finished = async (status: string, kind: string, availableAt: number, startedAt: number, finishedAt: number) => {
    const { item } = await enqueueWorkItem(ctx.store, { kind, payload: {}, availableAt }, { now: availableAt });
    await ctx.db.updateTable('job_scheduler_work_items').set({ status, started_at: startedAt, finished_at: finishedAt }).where('id', '=', item.id).execute();
  };

  it('counts finished items per minute and kind with their mean wait, and recomputing changes nothing', async () => {
    await finished('succeeded', 'scheduled_run', T0, T0 + 1000, T0 + 5000);
    await finished('succeeded', 'scheduled_run', T0, T0 + 3000, T0 + 50_000);
    await finished('dead', 'scheduled_run', T0, T0 + 2000, T0 + MINUTE_MS + 1);
    await finished('cancelled', 'scheduled_run', T0, T0 + 2000, T0 + 10); // not a completion: left out
    const now = T0 + 2 * MINUTE_MS + 5;
    expect(await rollUpMinutes(ctx.store, now)).toBe(2);
    expect(await rollUpMinutes(ctx.store, now)).toBe(2);
    const rows = await ctx.db.selectFrom('work_item_minute_rollup').selectAll().orderBy('minute_ts').execute();
    expect(rows.map((r) => [Number(r.minute_ts), r.succeeded, r.failed, Number(r.wait_ms_sum), r.wait_count])).toEqual([
      [T0, 2, 0, 4000, 2],
      [T0 + MINUTE_MS, 0, 1, 2000, 1],
    ]);
    const series = await readSeries(ctx.store, now, 3);
    expect(series).toEqual([
      { minute_ts: T0 - MINUTE_MS, succeeded: 0, failed: 0, wait_ms: null },
      { minute_ts: T0, succeeded: 2, failed: 0, wait_ms: 2000 },
      { minute_ts: T0 + MINUTE_MS, succeeded: 0, failed: 1, wait_ms: 2000 },
    ]);
  });

  it('leaves the current, still open minute alone and prunes rows past the retention', async () => {
    await finished('succeeded', 'noop', T0, T0, T0 + 1);
    expect(await rollUpMinutes(ctx.store, T0 + 30_000)).toBe(0);
    expect(await rollUpMinutes(ctx.store, T0 + MINUTE_MS)).toBe(1);
    expect(await pruneRollup(ctx.store, T0 + MINUTE_MS)).toBe(1);
    expect(await ctx.db.selectFrom('work_item_minute_rollup').selectAll().execute()).toEqual([]);
  });
});

describe('UI_ROLLUP_RETENTION_DAYS', () => {
  it('defaults to 30 days and refuses less than one, naming the variable', () => {
    expect(loadConfig({}).UI_ROLLUP_RETENTION_DAYS).toBe(30);
    expect(() => loadConfig({ UI_ROLLUP_RETENTION_DAYS: '0' })).toThrow(/UI_ROLLUP_RETENTION_DAYS/);
  });
});

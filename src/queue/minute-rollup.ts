/**
 * The per-minute rollup behind the dashboard's charts (owner of `work_item_minute_rollup`).
 * `rollUpMinutes` recomputes the last few closed minutes from the finished_at index and upserts
 * them: the same input gives the same row, so replicas running it at once agree. `readSeries`
 * reads the last hour for the overview.
 */
import { sql } from '../db/kysely.js';
import type { Store } from '../db/open.js';

export const MINUTE_MS = 60_000;
/** Closed minutes recomputed each pass: covers a missed pass and late commits from other processes. */
const LOOKBACK_MINUTES = 3;

export async function rollUpMinutes(store: Store, now: number): Promise<number> {
  const end = Math.floor(now / MINUTE_MS) * MINUTE_MS;
  const start = end - LOOKBACK_MINUTES * MINUTE_MS;
  const minute = sql<number>`(finished_at / ${sql.lit(MINUTE_MS)}) * ${sql.lit(MINUTE_MS)}`;
  const rows = await store.db
    .selectFrom('job_scheduler_work_items')
    .select((eb) => [
      minute.as('minute_ts'),
      'kind',
      eb.fn.sum<number>(eb.case().when('status', '=', 'succeeded').then(1).else(0).end()).as('succeeded'),
      eb.fn.sum<number>(eb.case().when('status', 'in', ['failed', 'dead']).then(1).else(0).end()).as('failed'),
      eb.fn.sum<number>(sql`case when started_at is not null and started_at >= available_at then started_at - available_at else 0 end`).as('wait_ms_sum'),
      eb.fn.sum<number>(sql`case when started_at is not null then 1 else 0 end`).as('wait_count'),
      eb.fn.sum<number>(sql`case when started_at is not null then finished_at - started_at else 0 end`).as('run_ms_sum'),
    ])
    .where('finished_at', '>=', start)
    .where('finished_at', '<', end)
    .where('status', 'in', ['succeeded', 'failed', 'dead'])
    .groupBy([minute, 'kind'])
    .execute();
  if (rows.length === 0) return 0;
  const values = rows.map((r) => ({
    minute_ts: Number(r.minute_ts),
    kind: r.kind,
    succeeded: Number(r.succeeded),
    failed: Number(r.failed),
    wait_ms_sum: Number(r.wait_ms_sum),
    wait_count: Number(r.wait_count),
    run_ms_sum: Number(r.run_ms_sum),
  }));
  await store.db
    .insertInto('work_item_minute_rollup')
    .values(values)
    .onConflict((oc) =>
      oc.columns(['minute_ts', 'kind']).doUpdateSet((eb) => ({
        succeeded: eb.ref('excluded.succeeded'),
        failed: eb.ref('excluded.failed'),
        wait_ms_sum: eb.ref('excluded.wait_ms_sum'),
        wait_count: eb.ref('excluded.wait_count'),
        run_ms_sum: eb.ref('excluded.run_ms_sum'),
      })),
    )
    .execute();
  return values.length;
}

export async function pruneRollup(store: Store, before: number): Promise<number> {
  const r = await store.db.deleteFrom('work_item_minute_rollup').where('minute_ts', '<', before).executeTakeFirst();
  return Number(r.numDeletedRows);
}

export interface MinutePoint {
  minute_ts: number;
  succeeded: number;
  failed: number;
  /** Mean wait from available to claimed, ms (null when nothing was claimed). */
  wait_ms: number | null;
}

/** The last `minutes` closed minutes, oldest first, every minute present (zeros where nothing finished). */
export async function readSeries(store: Store, now: number, minutes = 60): Promise<MinutePoint[]> {
  const end = Math.floor(now / MINUTE_MS) * MINUTE_MS;
  const start = end - minutes * MINUTE_MS;
  const rows = await store.db
    .selectFrom('work_item_minute_rollup')
    .select((eb) => [
      'minute_ts',
      eb.fn.sum<number>('succeeded').as('succeeded'),
      eb.fn.sum<number>('failed').as('failed'),
      eb.fn.sum<number>('wait_ms_sum').as('wait_ms_sum'),
      eb.fn.sum<number>('wait_count').as('wait_count'),
    ])
    .where('minute_ts', '>=', start)
    .where('minute_ts', '<', end)
    .groupBy('minute_ts')
    .execute();
  const byMinute = new Map(rows.map((r) => [Number(r.minute_ts), r]));
  const out: MinutePoint[] = [];
  for (let t = start; t < end; t += MINUTE_MS) {
    const r = byMinute.get(t);
    const waits = Number(r?.wait_count ?? 0);
    out.push({ minute_ts: t, succeeded: Number(r?.succeeded ?? 0), failed: Number(r?.failed ?? 0), wait_ms: waits > 0 ? Number(r!.wait_ms_sum) / waits : null });
  }
  return out;
}

/** The writer's own ANALYZE of a fast-growing table (src/db/planner-statistics.ts), both backends. */
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { MIN_ROWS_BEFORE_ANALYZE, needsAnalyze, noteRowsWritten } from '../../src/db/planner-statistics.js';
import { describeBackends } from '../helpers/backends.js';
import { insertJob } from '../helpers/jobs.js';

const T = Date.UTC(2026, 10, 2, 9, 0, 0);

describe('needsAnalyze', () => {
  it('waits for the minimum on a small table, then for as many rows as the table held', () => {
    expect(needsAnalyze(0, MIN_ROWS_BEFORE_ANALYZE - 1)).toBe(false);
    expect(needsAnalyze(0, MIN_ROWS_BEFORE_ANALYZE)).toBe(true);
    expect(needsAnalyze(10_000, 9_999)).toBe(false);
    expect(needsAnalyze(10_000, 10_000)).toBe(true);
  });
});

describeBackends('planner statistics of a growing table', (ctx) => {
  const addRuns = async (jobId: number, from: number, count: number) => {
    const rows = Array.from({ length: count }, (_, i) => ({
      job_id: jobId, scheduled_ts: T + (from + i) * 60_000, status: 'Pending', created_at: T, updated_at: T,
    }));
    await ctx.db.insertInto('scheduled_job_runs').values(rows).execute();
  };
  const analyzedRows = async () => {
    const { rows } = await sql<{ n: number }>`select reltuples as n from pg_class where oid = to_regclass('scheduled_job_runs')`.execute(ctx.db);
    return Number(rows[0]!.n);
  };

  it('analyzes once the rows written reach the threshold, and not before', async () => {
    await ctx.truncateAll();
    const job = await insertJob(ctx.db, { at: T });
    const first = MIN_ROWS_BEFORE_ANALYZE - 1;
    await addRuns(job.id, 0, first);
    await noteRowsWritten(ctx.store, 'scheduled_job_runs', first);
    if (ctx.backend === 'postgres') expect(await analyzedRows()).toBeLessThanOrEqual(0);

    await addRuns(job.id, first, 1);
    await noteRowsWritten(ctx.store, 'scheduled_job_runs', 1);
    if (ctx.backend === 'postgres') expect(await analyzedRows()).toBe(MIN_ROWS_BEFORE_ANALYZE);

    // Doubling: fewer new rows than the table held at its analysis leave the statistics alone.
    await addRuns(job.id, MIN_ROWS_BEFORE_ANALYZE, MIN_ROWS_BEFORE_ANALYZE - 1);
    await noteRowsWritten(ctx.store, 'scheduled_job_runs', MIN_ROWS_BEFORE_ANALYZE - 1);
    if (ctx.backend === 'postgres') expect(await analyzedRows()).toBe(MIN_ROWS_BEFORE_ANALYZE);
    // SQLite looks rows up by rowid whatever its statistics: nothing to do, nothing written.
    const runs = await ctx.db.selectFrom('scheduled_job_runs').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(Number(runs.n)).toBe(2 * MIN_ROWS_BEFORE_ANALYZE - 1);
  });

  it('never fails the writer, even for a table that does not exist', async () => {
    await expect(noteRowsWritten(ctx.store, 'no_such_table', 10 * MIN_ROWS_BEFORE_ANALYZE)).resolves.toBeUndefined();
  });
});

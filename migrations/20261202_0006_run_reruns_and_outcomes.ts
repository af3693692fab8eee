/**
 * What `runs show` and `runs rerun` need recorded:
 * - scheduled_job_runs.rerun_of_run_id: the run a rerun copied its frozen targets from (null for
 *   ticked and run-now occurrences). A partial unique index allows one unfinished (Pending or
 *   Running) rerun per source run, so two reruns asked for at once cannot both be created: the
 *   database decides, on both backends, whatever the interleaving.
 * - scheduled_job_run_activity.exit_code, duration_ms, detail: one component run's exit code
 *   (commands; null for other kinds), how long it took, and its one-line outcome ("exit code 3",
 *   "HTTP 503 …", "timed out after 5 s"). Nullable: rows written before this migration have none.
 */
import { sql } from '../src/db/kysely.js';
import type { Kysely } from 'kysely';
import type { Dialect } from '../src/db/dialect.js';

export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  const t = dialect.types;
  await db.schema.alterTable('scheduled_job_runs').addColumn('rerun_of_run_id', t.bigint).execute();
  await db.schema
    .createIndex('uq_runs_unfinished_rerun')
    .on('scheduled_job_runs')
    .column('rerun_of_run_id')
    .unique()
    .where(sql<boolean>`rerun_of_run_id is not null and status in ('Pending', 'Running')`)
    .execute();
  await db.schema.createIndex('ix_runs_rerun_of').on('scheduled_job_runs').column('rerun_of_run_id').execute();
  await db.schema.alterTable('scheduled_job_run_activity').addColumn('exit_code', 'integer').execute();
  await db.schema.alterTable('scheduled_job_run_activity').addColumn('duration_ms', t.bigint).execute();
  await db.schema.alterTable('scheduled_job_run_activity').addColumn('detail', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('scheduled_job_run_activity').dropColumn('detail').execute();
  await db.schema.alterTable('scheduled_job_run_activity').dropColumn('duration_ms').execute();
  await db.schema.alterTable('scheduled_job_run_activity').dropColumn('exit_code').execute();
  await db.schema.dropIndex('ix_runs_rerun_of').execute();
  await db.schema.dropIndex('uq_runs_unfinished_rerun').execute();
  await db.schema.alterTable('scheduled_job_runs').dropColumn('rerun_of_run_id').execute();
}

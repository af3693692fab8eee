/**
 * What the scheduler needs beyond the initial columns:
 * - scheduled_jobs.time_zone / cron_expression: calendar and cron schedules keep wall-clock time
 *   in the job's IANA zone; missed_policy: what to do with occurrences missed during downtime.
 * - A unique (job_id, scheduled_ts) on runs: one run per occurrence, enforced by the database
 *   (exactly once across scheduler replicas without a leader, as Solid Queue does with
 *   (task_key, run_at)).
 * - scheduled_job_run_targets.status / finished_at: each frozen target's outcome for its
 *   occurrence (Success, Failed, Expired, Skipped), so a run can roll up to Partial.
 * - A partial index on next_run_at over enabled jobs only: a tick reads due jobs and nothing else.
 */
import { sql } from '../src/db/kysely.js';
import type { Kysely } from 'kysely';
import type { Dialect } from '../src/db/dialect.js';

export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  await db.schema.alterTable('scheduled_jobs').addColumn('time_zone', 'text', (c) => c.notNull().defaultTo('UTC')).execute();
  await db.schema.alterTable('scheduled_jobs').addColumn('cron_expression', 'text').execute();
  await db.schema.alterTable('scheduled_jobs').addColumn('missed_policy', 'text', (c) => c.notNull().defaultTo('skip')).execute();
  await db.schema.dropIndex('ix_scheduled_jobs_next_run_at').execute();
  await db.schema
    .createIndex('ix_scheduled_jobs_due')
    .on('scheduled_jobs')
    .column('next_run_at')
    .where((eb) => eb.and([eb(sql.ref('enabled'), '=', sql.lit(true)), eb(sql.ref('next_run_at'), 'is not', null)]))
    .execute();
  await db.schema.createIndex('uq_runs_job_scheduled_ts').on('scheduled_job_runs').columns(['job_id', 'scheduled_ts']).unique().execute();
  await db.schema.createIndex('ix_runs_status').on('scheduled_job_runs').column('status').execute();
  await db.schema.alterTable('scheduled_job_run_targets').addColumn('status', 'text').execute();
  await db.schema.alterTable('scheduled_job_run_targets').addColumn('finished_at', dialect.types.timestamp).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('scheduled_job_run_targets').dropColumn('finished_at').execute();
  await db.schema.alterTable('scheduled_job_run_targets').dropColumn('status').execute();
  await db.schema.dropIndex('ix_runs_status').execute();
  await db.schema.dropIndex('uq_runs_job_scheduled_ts').execute();
  await db.schema.dropIndex('ix_scheduled_jobs_due').execute();
  await db.schema.createIndex('ix_scheduled_jobs_next_run_at').on('scheduled_jobs').column('next_run_at').execute();
  await db.schema.alterTable('scheduled_jobs').dropColumn('missed_policy').execute();
  await db.schema.alterTable('scheduled_jobs').dropColumn('cron_expression').execute();
  await db.schema.alterTable('scheduled_jobs').dropColumn('time_zone').execute();
}

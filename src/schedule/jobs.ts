/**
 * Scheduled jobs: create from a definition, read, enable/disable, and list a job's runs. Each
 * function is one or two short queries; no transaction is held across non-database work.
 */
import type { Kysely } from 'kysely';
import type { Store } from '../db/open.js';
import type { Database, ScheduledJob, ScheduledJobRun } from '../db/schema.js';
import { UserError } from '../errors.js';
import { validateJobDefinition, type NewScheduledJob } from './job-definition.js';
import { recurrenceOf } from './occurrences.js';
import { firstOccurrence, nextOccurrenceAfter } from './recurrence.js';

/** Validates a definition; throws a UserError listing every problem. */
export function checkJobDefinition(input: unknown, options: { now: number }): NewScheduledJob {
  const result = validateJobDefinition(input, options);
  if (!result.ok) throw new UserError(`invalid job definition: ${result.problems.join('; ')}`);
  return result.values;
}

/**
 * Validates a definition and what it names in the database (sites, filters, the credential and
 * its site); throws a UserError listing every problem. Returns warnings (unknown hostnames).
 */
export async function checkJobForCreate(store: Store, input: unknown, options: { now: number }): Promise<{ warnings: string[] }> {
  const result = validateJobDefinition(input, options);
  if (!result.ok) throw new UserError(`invalid job definition: ${result.problems.join('; ')}`);
  const { checkJobReferences } = await import('./job-references.js');
  const { problems, warnings } = await checkJobReferences(store, result.definition);
  if (problems.length > 0) throw new UserError(`invalid job definition: ${problems.join('; ')}`);
  return { warnings };
}

/** Inserts a validated job; nothing is written when the definition is invalid (UserError). */
export async function createScheduledJob(store: Store, input: unknown, options: { now: number }): Promise<ScheduledJob> {
  const values = checkJobDefinition(input, options);
  return store.db.insertInto('scheduled_jobs').values(values).returningAll().executeTakeFirstOrThrow();
}

export async function getScheduledJob(store: Store, id: number): Promise<ScheduledJob | undefined> {
  return store.db.selectFrom('scheduled_jobs').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Every job, oldest first. */
export async function listScheduledJobs(store: Store): Promise<ScheduledJob[]> {
  return store.db.selectFrom('scheduled_jobs').selectAll().orderBy('id').execute();
}

/**
 * Disabling clears next_run_at, so the ticker never sees the job. Enabling a disabled job
 * schedules its first occurrence strictly after `now` (occurrences missed while it was disabled
 * are not run); an `immediately`/`once` job that never ran gets its first occurrence instead.
 * Enabling an enabled job changes nothing (its pending occurrence stays due). Returns the row,
 * or undefined when there is no such job.
 */
export async function setJobEnabled(
  store: Store,
  id: number,
  enabled: boolean,
  options: {
    now: number;
    /** Runs inside the update's transaction with the changed row (an operator action records its audit row here). */
    beforeCommit?: (trx: Kysely<Database>, job: ScheduledJob) => Promise<void>;
  },
): Promise<ScheduledJob | undefined> {
  const { now, beforeCommit } = options;
  // One statement, in a transaction with the hook when there is one.
  const write = async (update: (db: Kysely<Database>) => Promise<ScheduledJob | undefined>) =>
    beforeCommit
      ? store.db.transaction().execute(async (trx) => {
          const row = await update(trx);
          if (row) await beforeCommit(trx, row);
          return row;
        })
      : update(store.db);
  if (!enabled) {
    return write((db) =>
      db.updateTable('scheduled_jobs').set({ enabled: false, next_run_at: null, updated_at: now }).where('id', '=', id).returningAll().executeTakeFirst(),
    );
  }
  const job = await getScheduledJob(store, id);
  if (!job || job.enabled) return job;
  const nextRunAt = await nextRunOnEnable(store, job, now);
  const updated = await write((db) =>
    db
      .updateTable('scheduled_jobs')
      .set({ enabled: true, next_run_at: nextRunAt, updated_at: now })
      .where('id', '=', id)
      .where('enabled', '=', false) // a concurrent enable already scheduled it
      .returningAll()
      .executeTakeFirst(),
  );
  return updated ?? getScheduledJob(store, id);
}

async function nextRunOnEnable(store: Store, job: ScheduledJob, now: number): Promise<number | null> {
  const spec = recurrenceOf(job);
  try {
    if (job.schedule_type === 'immediately' || job.schedule_type === 'once') {
      const ran = await store.db.selectFrom('scheduled_job_runs').select('id').where('job_id', '=', job.id).limit(1).executeTakeFirst();
      return ran ? null : firstOccurrence(spec, now);
    }
    return nextOccurrenceAfter(spec, now);
  } catch (err) {
    if (err instanceof RangeError) throw new UserError(`job ${job.id} has an unusable schedule: ${err.message}`);
    throw err;
  }
}

/** A job's runs, newest scheduled_ts first (default 50). */
export async function listRuns(store: Store, options: { jobId: number; limit?: number }): Promise<ScheduledJobRun[]> {
  return store.db
    .selectFrom('scheduled_job_runs')
    .selectAll()
    .where('job_id', '=', options.jobId)
    .orderBy('scheduled_ts', 'desc')
    .orderBy('id', 'desc')
    .limit(options.limit ?? 50)
    .execute();
}

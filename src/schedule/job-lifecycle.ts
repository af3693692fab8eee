/**
 * The operator's writes to scheduled jobs: create, update, delete. Each validates everything first
 * (the definition, then what it names in the database), then makes its change and its audit row in
 * one short transaction. The CLI and the HTTP API call these with their actor.
 *
 * Delete semantics: a job is deleted with its history (runs, frozen targets, activity links,
 * onboarding rows go with it through the foreign keys; the per-host activity_history stays). A job
 * with an unfinished occurrence (Pending or Running) is refused with a ConflictError naming the
 * runs, unless `force`: then the occurrence's queued and running items are cancelled (a running
 * command is killed within about a second) in the same transaction, and the audit row counts them.
 * An operator who wants to keep the history disables the job instead (`jobs disable`).
 */
import type { Store } from '../db/open.js';
import type { ScheduledJob } from '../db/schema.js';
import { recordAudit, type Actor } from '../audit/audit-log.js';
import { ConflictError, NotFoundError, ValidationError } from '../errors.js';
import { announceCancelled, cancelJobItemsIn } from '../queue/admin.js';
import { validateJobDefinition, type NewScheduledJob } from './job-definition.js';
import { changedFields, exportJob } from './job-export.js';
import { checkJobReferences } from './job-references.js';

/**
 * A job definition with problems: `problems` lists each (`field: message`, the HTTP API answers
 * them as a 400), and the message is the CLI's one line, "invalid job definition: a; b".
 */
export class JobDefinitionError extends ValidationError {
  constructor(problems: string[]) {
    super(problems);
    this.message = `invalid job definition: ${problems.join('; ')}`;
  }
}

export interface WriteOptions {
  actor: Actor;
  now: number;
}

export interface CheckedDefinition {
  values: NewScheduledJob;
  /** Unknown hostnames: the job is written anyway, the device may enrol later. */
  warnings: string[];
}

/** The definition alone (no database): a JobDefinitionError listing every problem. */
export function checkDefinition(input: unknown, options: { now: number }): NewScheduledJob {
  const result = validateJobDefinition(input, options);
  if (!result.ok) throw new JobDefinitionError(result.problems);
  return result.values;
}

/** The definition and what it names in the database; reads only. */
export async function checkDefinitionAndReferences(store: Store, input: unknown, options: { now: number }): Promise<CheckedDefinition> {
  const result = validateJobDefinition(input, options);
  if (!result.ok) throw new JobDefinitionError(result.problems);
  const { problems, warnings } = await checkJobReferences(store, result.definition);
  if (problems.length > 0) throw new JobDefinitionError(problems);
  return { values: result.values, warnings };
}

export async function createJob(store: Store, input: unknown, options: WriteOptions): Promise<{ job: ScheduledJob; warnings: string[] }> {
  const { values, warnings } = await checkDefinitionAndReferences(store, input, options);
  const job = await store.db.transaction().execute(async (trx) => {
    const row = await trx.insertInto('scheduled_jobs').values(values).returningAll().executeTakeFirstOrThrow();
    await recordAudit(trx, {
      actor: options.actor,
      action: 'job.create',
      objectType: 'job',
      objectId: row.id,
      summary: { ...exportJob(row), next_run_at: row.next_run_at },
      at: options.now,
    });
    return row;
  });
  return { job, warnings };
}

export interface UpdateResult {
  job: ScheduledJob;
  warnings: string[];
  /** The definition fields that changed, before and after (empty when the file changed nothing). */
  changed: Record<string, { before: unknown; after: unknown }>;
}

/**
 * Replaces a job's definition with a new one, validated as create validates it. The next
 * occurrence is recomputed from the new schedule as at create time, except that an `immediately`
 * job, or a `once` job whose start_ts did not change, that already ran is not run again (run-now
 * does that). Occurrences already written keep their frozen targets and work items.
 */
export async function updateJob(store: Store, id: number, input: unknown, options: WriteOptions): Promise<UpdateResult> {
  const existing = await getJobOrThrow(store, id);
  const { values, warnings } = await checkDefinitionAndReferences(store, input, options);
  return store.db.transaction().execute(async (trx) => {
    const before = await trx.selectFrom('scheduled_jobs').selectAll().where('id', '=', id).executeTakeFirst();
    if (!before) throw new NotFoundError(`no job with id ${id}`);
    let nextRunAt = values.next_run_at ?? null;
    const onceAgain = values.schedule_type === 'immediately' || (values.schedule_type === 'once' && values.start_ts === existing.start_ts);
    if (nextRunAt !== null && onceAgain) {
      const ran = await trx.selectFrom('scheduled_job_runs').select('id').where('job_id', '=', id).limit(1).executeTakeFirst();
      if (ran) nextRunAt = null;
    }
    const { created_at: _created, ...columns } = values;
    const job = await trx
      .updateTable('scheduled_jobs')
      .set({ ...columns, next_run_at: nextRunAt, updated_at: options.now })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    const changed = changedFields(exportJob(before), exportJob(job));
    await recordAudit(trx, {
      actor: options.actor,
      action: 'job.update',
      objectType: 'job',
      objectId: id,
      summary: { changed, next_run_at: { before: before.next_run_at, after: job.next_run_at } },
      at: options.now,
    });
    return { job, warnings, changed };
  });
}

export interface DeleteResult {
  job: ScheduledJob;
  runsDeleted: number;
  itemsCancelled: number;
}

export async function deleteJob(store: Store, id: number, options: WriteOptions & { force?: boolean }): Promise<DeleteResult> {
  const result = await store.db.transaction().execute(async (trx) => {
    const job = await trx.selectFrom('scheduled_jobs').selectAll().where('id', '=', id).executeTakeFirst();
    if (!job) throw new NotFoundError(`no job with id ${id}`);
    const unfinished = await trx
      .selectFrom('scheduled_job_runs')
      .select('id')
      .where('job_id', '=', id)
      .where('status', 'in', ['Pending', 'Running'])
      .orderBy('id')
      .execute();
    if (unfinished.length > 0 && !options.force) {
      const ids = unfinished.map((r) => r.id);
      throw new ConflictError(
        `job ${id} has ${ids.length} unfinished occurrence${ids.length === 1 ? '' : 's'} (run ${ids.slice(0, 10).join(', ')}${ids.length > 10 ? ', …' : ''}); ` +
          'wait for it to finish, or pass --force (API: ?force=true) to cancel its work items and delete the job with its history',
      );
    }
    const cancelled = options.force ? await cancelJobItemsIn(trx, store, id, { now: options.now, reason: `job ${id} deleted by ${options.actor}` }) : [];
    const runs = await trx.selectFrom('scheduled_job_runs').select((eb) => eb.fn.countAll<number>().as('n')).where('job_id', '=', id).executeTakeFirstOrThrow();
    await trx.deleteFrom('scheduled_jobs').where('id', '=', id).execute();
    await recordAudit(trx, {
      actor: options.actor,
      action: 'job.delete',
      objectType: 'job',
      objectId: id,
      summary: { name: job.name, runs_deleted: Number(runs.n), items_cancelled: cancelled.length, forced: options.force === true },
      at: options.now,
    });
    return { job, runsDeleted: Number(runs.n), cancelled };
  });
  announceCancelled(store, result.cancelled);
  return { job: result.job, runsDeleted: result.runsDeleted, itemsCancelled: result.cancelled.length };
}

export async function getJobOrThrow(store: Store, id: number): Promise<ScheduledJob> {
  const job = await store.db.selectFrom('scheduled_jobs').selectAll().where('id', '=', id).executeTakeFirst();
  if (!job) throw new NotFoundError(`no job with id ${id}`);
  return job;
}

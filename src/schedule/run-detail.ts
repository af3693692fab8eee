/**
 * What an operator reads about runs: a job's runs, newest occurrence first, and one run with its
 * frozen targets, its activity (scheduled_job_run_activity → activity_history) and its work items.
 * The status API, and the CLI and dashboard after it, show the same rows.
 */
import type { Store } from '../db/open.js';

/** The job fields shown beside its runs (the definition's components and targets are not). */
const JOB_SUMMARY = ['id', 'name', 'job_kind', 'schedule_type', 'enabled', 'next_run_at', 'time_zone'] as const;

/** A job's newest runs, or undefined when the job does not exist. */
export async function listJobRuns(store: Store, jobId: number, limit: number) {
  const job = await store.db.selectFrom('scheduled_jobs').select(JOB_SUMMARY).where('id', '=', jobId).executeTakeFirst();
  if (!job) return undefined;
  const runs = await store.db
    .selectFrom('scheduled_job_runs')
    .selectAll()
    .where('job_id', '=', jobId)
    .orderBy('scheduled_ts', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return { job, runs };
}

/** One run with everything recorded about it, or undefined when it does not exist. */
export async function readRunDetail(store: Store, runId: number) {
  const run = await store.db.selectFrom('scheduled_job_runs').selectAll().where('id', '=', runId).executeTakeFirst();
  if (!run) return undefined;
  const job = await store.db.selectFrom('scheduled_jobs').select(JOB_SUMMARY).where('id', '=', run.job_id).executeTakeFirst();
  const targets = await store.db.selectFrom('scheduled_job_run_targets').selectAll().where('run_id', '=', runId).orderBy('id').execute();
  const activity = await store.db
    .selectFrom('scheduled_job_run_activity as a')
    .leftJoin('activity_history as h', 'h.id', 'a.activity_id')
    .select([
      'a.activity_id',
      'a.component_kind',
      'a.component_name',
      'a.component_path',
      'a.script_type',
      'a.created_at',
      'h.hostname',
      'h.script_name',
      'h.script_path',
      'h.ran_at',
      'h.status',
      'h.stdout',
      'h.stderr',
    ])
    .where('a.run_id', '=', runId)
    .orderBy('a.created_at')
    .orderBy('a.id')
    .execute();
  const workItems = await store.db
    .selectFrom('job_scheduler_work_items')
    .select(['id', 'kind', 'site_id', 'status', 'attempt_count', 'max_attempts', 'error', 'created_at', 'started_at', 'finished_at'])
    .where('run_id', '=', runId)
    .orderBy('id')
    .execute();
  return { run, job: job ?? null, targets, activity, work_items: workItems };
}

/**
 * What an operator reads about jobs: one page of jobs, and one job with its definition (as
 * `jobs export` writes it), its schedule in words, its next and last occurrence and its recent
 * runs with their targets counted by outcome.
 */
import type { Store } from '../db/open.js';
import type { ScheduledJob } from '../db/schema.js';
import { NotFoundError } from '../errors.js';
import { decodeCursor, isIdKey, pageLimit, toPage, type Page } from '../pagination.js';
import { describeSchedule, exportJob, type ExportedJob } from './job-export.js';

/** Jobs in id order, one page at a time. */
export async function listJobsPage(store: Store, query: { limit?: number; cursor?: string } = {}): Promise<Page<ScheduledJob>> {
  const limit = pageLimit(query.limit);
  let q = store.db.selectFrom('scheduled_jobs').selectAll().orderBy('id').limit(limit + 1);
  if (query.cursor !== undefined) q = q.where('id', '>', decodeCursor(query.cursor, isIdKey));
  return toPage(await q.execute(), limit, (j) => j.id);
}

export interface RecentRun {
  id: number;
  scheduled_ts: number;
  status: string;
  started_ts: number | null;
  finished_ts: number | null;
  skip_reason: string | null;
  error: string | null;
  rerun_of_run_id: number | null;
  /** Frozen targets by outcome (Pending, Success, Failed, Expired, Skipped). */
  targets: Record<string, number>;
}

export interface JobDetail {
  id: number;
  enabled: boolean;
  schedule: string;
  cron_expression: string | null;
  time_zone: string;
  next_run_at: number | null;
  last_occurrence: { run_id: number; scheduled_ts: number; status: string } | null;
  created_at: number;
  updated_at: number;
  definition: ExportedJob;
  recent_runs: RecentRun[];
}

export const DEFAULT_RECENT_RUNS = 10;

export async function readJobDetail(store: Store, id: number, options: { recentRuns?: number } = {}): Promise<JobDetail> {
  const job = await store.db.selectFrom('scheduled_jobs').selectAll().where('id', '=', id).executeTakeFirst();
  if (!job) throw new NotFoundError(`no job with id ${id}`);
  const runs = await store.db
    .selectFrom('scheduled_job_runs')
    .select(['id', 'scheduled_ts', 'status', 'started_ts', 'finished_ts', 'skip_reason', 'error', 'rerun_of_run_id'])
    .where('job_id', '=', id)
    .orderBy('scheduled_ts', 'desc')
    .orderBy('id', 'desc')
    .limit(options.recentRuns ?? DEFAULT_RECENT_RUNS)
    .execute();
  const counts = await countTargetsByRun(store, runs.map((r) => r.id));
  const last = runs[0];
  return {
    id: job.id,
    enabled: job.enabled,
    schedule: describeSchedule(job),
    cron_expression: job.cron_expression,
    time_zone: job.time_zone,
    next_run_at: job.next_run_at,
    last_occurrence: last ? { run_id: last.id, scheduled_ts: last.scheduled_ts, status: last.status } : null,
    created_at: job.created_at,
    updated_at: job.updated_at,
    definition: exportJob(job),
    recent_runs: runs.map((r) => ({ ...r, targets: counts.get(r.id) ?? {} })),
  };
}

/** Each run's frozen targets counted by outcome (status; `unknown` while unset), one grouped read. */
export async function countTargetsByRun(store: Store, runIds: readonly number[]): Promise<Map<number, Record<string, number>>> {
  const counts = new Map<number, Record<string, number>>();
  if (runIds.length === 0) return counts;
  const rows = await store.db
    .selectFrom('scheduled_job_run_targets')
    .select((eb) => ['run_id', 'status', eb.fn.countAll<number>().as('n')])
    .where('run_id', 'in', [...runIds])
    .groupBy(['run_id', 'status'])
    .execute();
  for (const r of rows) {
    const c = counts.get(r.run_id) ?? {};
    c[r.status ?? 'unknown'] = Number(r.n);
    counts.set(r.run_id, c);
  }
  return counts;
}

/**
 * Scheduled jobs as lists for an operator: one keyset page of jobs with their last runs (the
 * dashboard's result bar), and one job's occurrences, newest first, with their frozen targets
 * counted by outcome. Reads only; counts stop at a cap so a page costs the same at 100,000 jobs.
 */
import { sql } from '../db/kysely.js';
import type { Store } from '../db/open.js';
import type { ScheduledJob, ScheduledJobRun } from '../db/schema.js';
import type { Page } from '../pagination.js';
import { countTargetsByRun } from './job-detail.js';
import { listRunsPage } from './run-detail.js';

export interface JobLine {
  job: ScheduledJob;
  /** Newest first. */
  recent: Array<{ id: number; status: string; scheduled_ts: number }>;
}

/** Runs per job in the result bar. */
export const BAR_RUNS = 10;
/** Counting stops past this many jobs (shown as "10,000+"). */
export const JOB_COUNT_CAP = 10_000;

export async function listJobLines(store: Store, options: { after?: number; limit: number; name?: string }) {
  let q = store.db.selectFrom('scheduled_jobs');
  if (options.name) q = q.where('name', '=', options.name);
  const counted = await store.db
    .selectFrom(q.select(sql<number>`1`.as('one')).limit(JOB_COUNT_CAP + 1).as('capped'))
    .select((eb) => eb.fn.countAll().as('n'))
    .executeTakeFirst();
  const total = Number(counted?.n ?? 0);
  if (options.after !== undefined) q = q.where('id', '>', options.after);
  const rows = await q.selectAll().orderBy('id').limit(options.limit + 1).execute();
  const jobs = rows.slice(0, options.limit);
  // The last runs of every job on the page in one statement: a window over the (job_id,
  // scheduled_ts) index, instead of one query per job (50 round trips on PostgreSQL).
  const recent =
    jobs.length === 0
      ? []
      : await store.db
          .selectFrom((db) =>
            db
              .selectFrom('scheduled_job_runs')
              .select(['id', 'job_id', 'status', 'scheduled_ts', sql<number>`row_number() over (partition by job_id order by scheduled_ts desc, id desc)`.as('rn')])
              .where('job_id', 'in', jobs.map((j) => j.id))
              .as('r'),
          )
          .select(['id', 'job_id', 'status', 'scheduled_ts'])
          .where('rn', '<=', BAR_RUNS)
          .orderBy('job_id')
          .orderBy('scheduled_ts', 'desc')
          .execute();
  const byJob = new Map<number, JobLine['recent']>();
  for (const r of recent) {
    const list = byJob.get(r.job_id) ?? [];
    list.push({ id: Number(r.id), status: r.status, scheduled_ts: Number(r.scheduled_ts) });
    byJob.set(r.job_id, list);
  }
  const lines: JobLine[] = jobs.map((job) => ({ job, recent: byJob.get(job.id) ?? [] }));
  return { lines, total, next_after: rows.length > options.limit ? jobs.at(-1)!.id : null };
}

export type Occurrence = ScheduledJobRun & { targets: Record<string, number> };

/** A job's occurrences, one keyset page (listRunsPage), each with its frozen targets by outcome. */
export async function listOccurrences(store: Store, query: { jobId: number; limit?: number; cursor?: string }): Promise<Page<Occurrence>> {
  const page = await listRunsPage(store, query);
  const counts = await countTargetsByRun(store, page.items.map((r) => r.id));
  return { ...page, items: page.items.map((r) => ({ ...r, targets: counts.get(r.id) ?? {} })) };
}

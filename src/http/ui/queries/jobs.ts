/**
 * Scheduled jobs for the dashboard: one keyset page of jobs with their last runs (for the result
 * bar), a job's history, and the two actions (enable toggle, run now) with their audit rows.
 */
import { sql } from 'kysely';
import { recordAudit, type Actor } from '../../../audit/audit-log.js';
import type { Store } from '../../../db/open.js';
import type { ScheduledJob } from '../../../db/schema.js';
import { NotFoundError } from '../../../errors.js';
import { getScheduledJob, setJobEnabled } from '../../../schedule/jobs.js';
import { runJobNow } from '../../../schedule/ticker.js';
import { countCapped } from './counts.js';

export interface JobLine {
  job: ScheduledJob;
  /** Newest first. */
  recent: Array<{ id: number; status: string; scheduled_ts: number }>;
}

const BAR_RUNS = 10;

export async function listJobPage(store: Store, options: { after?: number; limit: number; name?: string }) {
  let q = store.db.selectFrom('scheduled_jobs');
  if (options.name) q = q.where('name', '=', options.name);
  const total = await countCapped(store.db, q);
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

export async function setEnabledAudited(store: Store, id: number, enabled: boolean, actor: Actor, now: number): Promise<ScheduledJob> {
  return store.db.transaction().execute(async (trx) => {
    const job = await setJobEnabled({ ...store, db: trx }, id, enabled, { now });
    if (!job) throw new NotFoundError(`job ${id}: no such job`);
    await recordAudit(trx, { actor, action: enabled ? 'job.enable' : 'job.disable', objectType: 'job', objectId: id, summary: { name: job.name, next_run_at: job.next_run_at }, at: now });
    return job;
  });
}

/**
 * A manual occurrence now. runJobNow writes the occurrence in its own transaction (the ticker's
 * path), so the audit row follows in a second one right after it.
 */
export async function runNowAudited(store: Store, id: number, actor: Actor, now: number): Promise<number> {
  const job = await getScheduledJob(store, id);
  if (!job) throw new NotFoundError(`job ${id}: no such job`);
  const runId = await runJobNow(store, job, { now });
  await store.db.transaction().execute((trx) =>
    recordAudit(trx, { actor, action: 'job.run_now', objectType: 'job', objectId: id, summary: { name: job.name, run_id: runId }, at: now }),
  );
  return runId;
}

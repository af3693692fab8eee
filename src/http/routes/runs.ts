/**
 * GET /api/scheduled-jobs/:id/runs?limit= — a job's runs, newest occurrence first.
 * GET /api/runs/:id — one run with its frozen targets (scheduled_job_run_targets), its activity
 * (scheduled_job_run_activity → activity_history) and its work items.
 */
import { notFound } from '../errors.js';
import { MAX_BIGINT_ID, MAX_INT_ID, pathId, QueryParams } from '../params.js';
import type { Route } from '../router.js';
import { DEFAULT_LIMIT, MAX_LIMIT } from './work-items.js';

/** The job fields shown beside its runs (the definition's components and targets are not). */
const JOB_SUMMARY = ['id', 'name', 'job_kind', 'schedule_type', 'enabled', 'next_run_at', 'time_zone'] as const;

export function runRoutes(): Route[] {
  return [
    {
      method: 'GET',
      path: '/api/scheduled-jobs/:id/runs',
      async handler({ store, url, params }) {
        const jobId = pathId('id', params.id!, MAX_INT_ID);
        const q = new QueryParams(url.searchParams, ['limit']);
        const limit = q.int('limit', { min: 1, max: MAX_LIMIT, default: DEFAULT_LIMIT });
        const job = await store.db.selectFrom('scheduled_jobs').select(JOB_SUMMARY).where('id', '=', jobId).executeTakeFirst();
        if (!job) throw notFound(`scheduled job ${jobId} not found`);
        const runs = await store.db
          .selectFrom('scheduled_job_runs')
          .selectAll()
          .where('job_id', '=', jobId)
          .orderBy('scheduled_ts', 'desc')
          .orderBy('id', 'desc')
          .limit(limit)
          .execute();
        return { status: 200, json: { job, limit, runs } };
      },
    },
    {
      method: 'GET',
      path: '/api/runs/:id',
      async handler({ store, url, params }) {
        const runId = pathId('id', params.id!, MAX_BIGINT_ID);
        new QueryParams(url.searchParams, []);
        const run = await store.db.selectFrom('scheduled_job_runs').selectAll().where('id', '=', runId).executeTakeFirst();
        if (!run) throw notFound(`run ${runId} not found`);
        const job = await store.db.selectFrom('scheduled_jobs').select(JOB_SUMMARY).where('id', '=', run.job_id).executeTakeFirst();
        const targets = await store.db
          .selectFrom('scheduled_job_run_targets')
          .selectAll()
          .where('run_id', '=', runId)
          .orderBy('id')
          .execute();
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
        return { status: 200, json: { run, job: job ?? null, targets, activity, work_items: workItems } };
      },
    },
  ];
}

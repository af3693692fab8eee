/**
 * GET /api/scheduled-jobs/:id/runs?limit= — a job's runs, newest occurrence first.
 * GET /api/runs/:id — one run with its frozen targets, its activity and its work items.
 */
import { listJobRuns, readRunDetail } from '../../schedule/run-detail.js';
import { notFound } from '../errors.js';
import { MAX_BIGINT_ID, MAX_INT_ID, pathId, QueryParams } from '../params.js';
import type { Route } from '../router.js';
import { DEFAULT_LIMIT, MAX_LIMIT } from './work-items.js';

export function runRoutes(): Route[] {
  return [
    {
      method: 'GET',
      path: '/api/scheduled-jobs/:id/runs',
      async handler({ store, url, params }) {
        const jobId = pathId('id', params.id!, MAX_INT_ID);
        const q = new QueryParams(url.searchParams, ['limit']);
        const limit = q.int('limit', { min: 1, max: MAX_LIMIT, default: DEFAULT_LIMIT });
        const found = await listJobRuns(store, jobId, limit);
        if (!found) throw notFound(`scheduled job ${jobId} not found`);
        return { status: 200, json: { job: found.job, limit, runs: found.runs } };
      },
    },
    {
      method: 'GET',
      path: '/api/runs/:id',
      async handler({ store, url, params }) {
        const runId = pathId('id', params.id!, MAX_BIGINT_ID);
        new QueryParams(url.searchParams, []);
        const detail = await readRunDetail(store, runId);
        if (!detail) throw notFound(`run ${runId} not found`);
        return { status: 200, json: detail };
      },
    },
  ];
}

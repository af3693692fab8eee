/**
 * GET /api/onboarding/jobs/:job_id/targets?run_id=&limit= — the onboarding targets of a job's
 * runs (newest run first, then in target order), each with its `events` timeline
 * (scheduled_job_onboarding_target_events by target_row_id, oldest first) and `approval`: the
 * device_approvals row whose approval_reference the target carries, or null. Only non-secret
 * approval fields are returned (no nonces, public key or enrollment code).
 */
import { readOnboardingTimelines } from '../../executors/onboarding/timelines.js';
import { notFound } from '../errors.js';
import { MAX_BIGINT_ID, MAX_INT_ID, pathId, QueryParams } from '../params.js';
import type { Route } from '../router.js';
import { MAX_LIMIT } from './work-items.js';

const DEFAULT_TARGET_LIMIT = 1000;

export function onboardingRoutes(): Route[] {
  return [
    {
      method: 'GET',
      path: '/api/onboarding/jobs/:job_id/targets',
      async handler({ store, url, params }) {
        const jobId = pathId('job_id', params.job_id!, MAX_INT_ID);
        const q = new QueryParams(url.searchParams, ['run_id', 'limit']);
        const runId = q.int('run_id', { min: 1, max: MAX_BIGINT_ID });
        const limit = q.int('limit', { min: 1, max: MAX_LIMIT, default: DEFAULT_TARGET_LIMIT });
        const found = await readOnboardingTimelines(store, jobId, { runId, limit });
        if (!found) throw notFound(`scheduled job ${jobId} not found`);
        return { status: 200, json: { job: found.job, limit, truncated: found.truncated, targets: found.targets } };
      },
    },
  ];
}

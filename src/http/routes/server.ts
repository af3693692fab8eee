/**
 * GET /api/server/workers?history_seconds=N — worker rows: every live one (starting, running,
 * idle, …) plus terminal ones (stopped, lost) that ended within the window. A terminal row's end
 * is stopped_at, or updated_at when stopped_at is missing, so an old row is hidden either way.
 * GET /api/server/services — the rows of job_scheduler_service_snapshots.
 */
import { listRecentWorkers } from '../../fleet/worker-rows.js';
import { listServiceSnapshots } from '../../services/snapshots.js';
import { QueryParams } from '../params.js';
import type { Route } from '../router.js';

export const DEFAULT_HISTORY_SECONDS = 60;
const MAX_HISTORY_SECONDS = 7 * 24 * 3600;

export function serverRoutes(): Route[] {
  return [
    {
      method: 'GET',
      path: '/api/server/workers',
      async handler({ store, clock, url }) {
        const q = new QueryParams(url.searchParams, ['history_seconds']);
        const historySeconds = q.int('history_seconds', { min: 0, max: MAX_HISTORY_SECONDS, default: DEFAULT_HISTORY_SECONDS });
        const now = clock();
        const workers = await listRecentWorkers(store, { endedSince: now - historySeconds * 1000 });
        return { status: 200, json: { generated_at: now, history_seconds: historySeconds, workers } };
      },
    },
    {
      method: 'GET',
      path: '/api/server/services',
      async handler({ store, clock, url }) {
        new QueryParams(url.searchParams, []);
        const services = await listServiceSnapshots(store);
        return { status: 200, json: { generated_at: clock(), services } };
      },
    },
  ];
}

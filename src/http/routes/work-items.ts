/** GET /api/work-items?status=&kind=&site_id=&limit= — newest first. */
import { listWorkItems } from '../../queue/admin.js';
import { WORK_KINDS, WORK_STATUSES } from '../../queue/kinds.js';
import { badRequest } from '../errors.js';
import { MAX_INT_ID, QueryParams } from '../params.js';
import type { Route } from '../router.js';

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;

export function workItemRoutes(): Route[] {
  return [
    {
      method: 'GET',
      path: '/api/work-items',
      async handler({ store, url }) {
        const q = new QueryParams(url.searchParams, ['status', 'kind', 'site_id', 'limit']);
        const statuses = q.oneOf('status', WORK_STATUSES);
        const kinds = q.oneOf('kind', WORK_KINDS);
        const siteId = parseSiteId(q.raw('site_id'));
        const limit = q.int('limit', { min: 1, max: MAX_LIMIT, default: DEFAULT_LIMIT });

        const items = await listWorkItems(store, { statuses, kinds, siteId, limit });
        return { status: 200, json: { limit, items } };
      },
    },
  ];
}

/** A site id (an integer column: 0 to MAX_INT_ID), `none` for site-less items, or undefined when absent. */
function parseSiteId(raw: string | undefined): number | null | undefined {
  if (raw === undefined) return undefined;
  if (raw === 'none') return null;
  const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n > MAX_INT_ID) {
    throw badRequest(`site_id: "${raw}" is not accepted; expected a site id (an integer from 0 to ${MAX_INT_ID}) or none`);
  }
  return n;
}

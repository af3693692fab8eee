/**
 * The queue's read model, read by `jobyard status`, the metrics scrape and the fleet: depth by
 * status, kind and site, the oldest queued item, the longest claimable wait, finished items for
 * the duration histogram, and the sites with claimable work. Every read is a separate short
 * statement outside any transaction (SQLite's would take the write lock), so figures taken from
 * different statements are clamped where a race could make them disagree.
 */
import type { Store } from '../db/open.js';
import { WORK_STATUSES } from './kinds.js';

/** Item counts and ages at `now` (every age is relative to it). */
export interface QueueStats {
  /** Every item status, zeros included. */
  by_status: Record<string, number>;
  /** Queued items claimable now (available_at <= now) and those waiting for a later available_at. */
  ready: number;
  delayed: number;
  /** Sites (null: site-less) with queued or running items, site-less first, then by id. */
  by_site: Array<{ site_id: number | null; queued: number; running: number }>;
  /** The queued item created first, null when nothing is queued. */
  oldest_queued: { id: number; site_id: number | null; kind: string; created_at: number; age_ms: number } | null;
  /** How long the longest-waiting claimable item has been claimable (now − its available_at). */
  longest_ready_wait_ms: number | null;
  /** Items and the sum of their attempt counts per status, kind and site (null: site-less). */
  groups: Array<{ status: string; kind: string; site_id: number | null; items: number; attempts: number }>;
}

export async function readQueueStats(store: Store, now: number): Promise<QueueStats> {
  const { db } = store;
  const rows = await db
    .selectFrom('job_scheduler_work_items')
    .select((eb) => ['status', 'kind', 'site_id', eb.fn.countAll().as('n'), eb.fn.sum('attempt_count').as('attempts')])
    .groupBy(['status', 'kind', 'site_id'])
    .execute();
  const groups = rows.map((g) => ({ status: g.status, kind: g.kind, site_id: g.site_id, items: Number(g.n), attempts: Number(g.attempts ?? 0) }));
  const byStatus: Record<string, number> = Object.fromEntries(WORK_STATUSES.map((s) => [s, 0]));
  const bySite = new Map<number | null, { site_id: number | null; queued: number; running: number }>();
  for (const g of groups) {
    byStatus[g.status] = (byStatus[g.status] ?? 0) + g.items;
    if (g.status !== 'queued' && g.status !== 'running') continue;
    const site = bySite.get(g.site_id) ?? { site_id: g.site_id, queued: 0, running: 0 };
    site[g.status] += g.items;
    bySite.set(g.site_id, site);
  }

  const ready = await db
    .selectFrom('job_scheduler_work_items')
    .select((eb) => [eb.fn.countAll().as('n'), eb.fn.min('available_at').as('first')])
    .where('status', '=', 'queued')
    .where('available_at', '<=', now)
    .executeTakeFirst();
  const readyCount = Number(ready?.n ?? 0);
  const oldest = await db
    .selectFrom('job_scheduler_work_items')
    .select(['id', 'site_id', 'kind', 'created_at'])
    .where('status', '=', 'queued')
    .orderBy('created_at')
    .orderBy('id')
    .limit(1)
    .executeTakeFirst();
  const firstReady = readyCount > 0 && ready?.first != null ? Number(ready.first) : null;

  return {
    by_status: byStatus,
    ready: readyCount,
    delayed: Math.max(0, (byStatus.queued ?? 0) - readyCount),
    by_site: [...bySite.values()].sort((a, b) => (a.site_id ?? 0) - (b.site_id ?? 0)),
    oldest_queued: oldest ? { ...oldest, age_ms: Math.max(0, now - oldest.created_at) } : null,
    longest_ready_wait_ms: firstReady === null ? null : Math.max(0, now - firstReady),
    groups,
  };
}

/** A position in the (finished_at, id) order of finished items. */
export interface FinishedMark {
  finishedAt: number;
  id: number;
}

export interface FinishedItem {
  id: number;
  kind: string;
  status: string;
  started_at: number | null;
  finished_at: number | null;
}

/**
 * Up to `limit` items that finished (succeeded, failed, dead) after `after` and at or before
 * `upTo`, in (finished_at, id) order over the finished_at index: a reader pages on by passing the
 * last row as the next `after`.
 */
export async function listFinishedItemsSince(
  store: Store,
  options: { after: FinishedMark; upTo: number; limit: number },
): Promise<FinishedItem[]> {
  const { finishedAt, id } = options.after;
  const rows = await store.db
    .selectFrom('job_scheduler_work_items')
    .select(['id', 'kind', 'status', 'started_at', 'finished_at'])
    .where('status', 'in', ['succeeded', 'failed', 'dead'])
    .where('finished_at', '<=', options.upTo)
    .where((eb) => eb.or([eb('finished_at', '>', finishedAt), eb.and([eb('finished_at', '=', finishedAt), eb('id', '>', id)])]))
    .orderBy('finished_at')
    .orderBy('id')
    .limit(options.limit)
    .execute();
  return rows;
}

/** Site ids with items claimable now (queued, available_at <= now); site-less items excluded. */
export async function sitesWithClaimableWork(store: Store, now: number): Promise<number[]> {
  const rows = await store.db
    .selectFrom('job_scheduler_work_items')
    .select('site_id')
    .distinct()
    .where('status', '=', 'queued')
    .where('available_at', '<=', now)
    .where('site_id', 'is not', null)
    .execute();
  return rows.map((r) => r.site_id!);
}

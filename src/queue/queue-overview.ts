/**
 * The queue's figures for the overview, each an index-backed capped read (migration 0018): items
 * by status, ready vs delayed and the oldest ready item (queued items' available_at index), and
 * queued and running items per site. Counts stop at COUNT_CAP + 1, so they cost the same at a
 * million items as at ten thousand. Queued and running are not counted again: queued items are
 * ready or delayed, and the per-site read of running items already holds them all (up to the
 * cap: with more than COUNT_CAP items running at once, the per-site figures are lower bounds and
 * the total shows as capped).
 */
import { COUNT_CAP, countCapped } from '../db/capped-count.js';
import type { Store } from '../db/open.js';
import { WORK_STATUSES } from './kinds.js';

export interface SiteBacklog {
  site_id: number | null;
  queued: number;
  running: number;
}

export interface QueueOverview {
  /** Capped count per status. */
  by_status: Record<string, number>;
  ready: number;
  delayed: number;
  /** available_at of the longest-waiting claimable item, or null when none is. */
  oldest_ready_at: number | null;
  /** One line per requested site, in the order asked. */
  sites: SiteBacklog[];
}

/** Statuses counted on their own; queued and running are derived from reads made anyway. */
const COUNTED = WORK_STATUSES.filter((s) => s !== 'queued' && s !== 'running');

export async function readQueueOverview(store: Store, now: number, siteIds: ReadonlyArray<number | null>): Promise<QueueOverview> {
  const { db } = store;
  const items = () => db.selectFrom('job_scheduler_work_items');
  const queued = () => items().where('status', '=', 'queued');
  const queuedAt = (siteId: number | null) => (siteId === null ? queued().where('site_id', 'is', null) : queued().where('site_id', '=', siteId));
  // Independent short reads, issued together: PostgreSQL runs them on several pooled
  // connections; SQLite's one connection takes them in turn.
  const [statusCounts, ready, delayed, first, queuedBySite, runningRows] = await Promise.all([
    Promise.all(COUNTED.map((s) => countCapped(db, items().where('status', '=', s)))),
    countCapped(db, queued().where('available_at', '<=', now)),
    countCapped(db, queued().where('available_at', '>', now)),
    queued().select('available_at').where('available_at', '<=', now).orderBy('available_at').limit(1).executeTakeFirst(),
    Promise.all(siteIds.map((id) => countCapped(db, queuedAt(id)))),
    // Running items are bounded by worker capacity: one grouped read instead of a count per site,
    // itself capped. Read in (status, site_id) order under a limit, so it is an index-only range
    // of ix_work_items_status_site_id: left to itself PostgreSQL fetched every running row from
    // the heap through a running-only index (300 ms for 10,000 running items at a million).
    db
      .selectFrom(
        items().select('site_id').where('status', '=', 'running').orderBy('status').orderBy('site_id').limit(COUNT_CAP + 1).as('r'),
      )
      .select((eb) => ['r.site_id', eb.fn.countAll().as('n')])
      .groupBy('r.site_id')
      .execute(),
  ]);
  const runningBySite = new Map(runningRows.map((r) => [r.site_id, Number(r.n)]));
  const counted = new Map<string, number>(COUNTED.map((s, i) => [s, statusCounts[i]!]));
  // Every queued item is ready or delayed (available_at is never null): their sum is exact below
  // the cap, and at or above it when either count stopped there.
  counted.set('queued', Math.min(ready + delayed, COUNT_CAP + 1));
  counted.set('running', Math.min([...runningBySite.values()].reduce((a, b) => a + b, 0), COUNT_CAP + 1));
  return {
    by_status: Object.fromEntries(WORK_STATUSES.map((s) => [s, counted.get(s)!])),
    ready,
    delayed,
    oldest_ready_at: first ? Number(first.available_at) : null,
    sites: siteIds.map((id, i) => ({ site_id: id, queued: queuedBySite[i]!, running: runningBySite.get(id) ?? 0 })),
  };
}

/**
 * The overview page's data (and the shared live snapshot): the queue's figures, live workers,
 * the scheduler's last write and due jobs, put into words with the warnings an operator should
 * act on. Each figure comes from its table's owner; this only composes and formats.
 */
import type { Store } from '../../db/open.js';
import { countLiveWorkers } from '../../fleet/worker-rows.js';
import { listSitePage } from '../../inventory/site-admin.js';
import { readQueueOverview } from '../../queue/queue-overview.js';
import { readSchedulerStats, recentRunStatuses } from '../../schedule/stats.js';
import { cappedCount, duration } from './format.js';

export interface SiteLine {
  site_id: number | null;
  name: string;
  queued: string;
  running: string;
  live_workers: number;
}

export interface Overview {
  by_status: Record<string, string>;
  ready: string;
  delayed: string;
  oldest_wait: string;
  last_write_age: string;
  due_jobs: number;
  live_workers: number;
  sites: SiteLine[];
  warnings: string[];
  /** Status of the newest runs (id → status), so open pages can follow a run without a query of their own. */
  runs: Record<string, string>;
}

const RECENT_RUNS = 100;
/** Sites shown with their backlog (the page lists at most this many). */
const MAX_SITES = 500;

export async function readOverview(store: Store, now: number): Promise<Overview> {
  const [sitePage, workers, sched, runs] = await Promise.all([
    listSitePage(store, { limit: MAX_SITES }),
    countLiveWorkers(store),
    readSchedulerStats(store, now),
    recentRunStatuses(store, RECENT_RUNS),
  ]);
  const allSites = [{ id: null as number | null, name: '(no site)' }, ...sitePage.items];
  const queue = await readQueueOverview(store, now, allSites.map((s) => s.id));
  const liveBySite = new Map(workers.by_site.map((w) => [w.site_id, w.live]));
  const lines: SiteLine[] = [];
  const warnings: string[] = [];
  allSites.forEach((site, i) => {
    const { queued, running } = queue.sites[i]!;
    const live = liveBySite.get(site.id) ?? 0;
    if (site.id === null && queued === 0 && running === 0) return;
    lines.push({ site_id: site.id, name: site.name, queued: cappedCount(queued), running: cappedCount(running), live_workers: live });
    // Site-less items (service actions) are run by the scheduler itself, not by site workers.
    if (site.id !== null && queued > 0 && live === 0) warnings.push(`site ${site.name} has a backlog (${cappedCount(queued)} queued) and no live worker`);
  });
  if (sched.oldest_due_age_ms !== null && sched.oldest_due_age_ms > 60_000) {
    warnings.push(`${sched.due_jobs} job(s) are overdue by up to ${duration(sched.oldest_due_age_ms)}: is a scheduler running?`);
  }
  return {
    by_status: Object.fromEntries(Object.entries(queue.by_status).map(([s, n]) => [s, cappedCount(n)])),
    ready: cappedCount(queue.ready),
    delayed: cappedCount(queue.delayed),
    oldest_wait: queue.oldest_ready_at === null ? '—' : duration(Math.max(0, now - queue.oldest_ready_at)),
    last_write_age: sched.last_run_age_ms === null ? 'never' : `${duration(sched.last_run_age_ms)} ago`,
    due_jobs: sched.due_jobs,
    live_workers: workers.live,
    sites: lines,
    warnings,
    runs,
  };
}

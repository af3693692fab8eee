/**
 * The overview's figures, each from an index-backed, capped query: items by status, ready vs
 * delayed, the longest claimable wait, per-site backlog and live workers, the scheduler's last
 * write and due jobs, and the warnings an operator should act on. Also the shared live snapshot.
 */
import type { Store } from '../../../db/open.js';
import { countLiveWorkers } from '../../../fleet/worker-rows.js';
import { WORK_STATUSES } from '../../../queue/kinds.js';
import { readSchedulerStats } from '../../../schedule/stats.js';
import { cappedCount, duration } from '../format.js';
import { countCapped } from './counts.js';

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

export async function readOverview(store: Store, now: number): Promise<Overview> {
  const { db } = store;
  const items = () => db.selectFrom('job_scheduler_work_items');
  // Independent short reads, issued together: PostgreSQL runs them on several pooled
  // connections; SQLite's one connection takes them in turn.
  const [statusCounts, ready, delayed, first, sites, workers] = await Promise.all([
    Promise.all(WORK_STATUSES.map((s) => countCapped(db, items().where('status', '=', s)))),
    countCapped(db, items().where('status', '=', 'queued').where('available_at', '<=', now)),
    countCapped(db, items().where('status', '=', 'queued').where('available_at', '>', now)),
    items().select((eb) => eb.fn.min('available_at').as('t')).where('status', '=', 'queued').where('available_at', '<=', now).executeTakeFirst(),
    db.selectFrom('sites').select(['id', 'name']).orderBy('id').limit(500).execute(),
    countLiveWorkers(store),
  ]);
  const byStatus: Record<string, string> = Object.fromEntries(WORK_STATUSES.map((s, i) => [s, cappedCount(statusCounts[i]!)]));
  const firstReady = first?.t == null ? null : Number(first.t);
  const liveBySite = new Map(workers.by_site.map((w) => [w.site_id, w.live]));
  const lines: SiteLine[] = [];
  const warnings: string[] = [];
  const allSites = [{ id: null as number | null, name: '(no site)' }, ...sites];
  const scoped = (siteId: number | null, status: string) =>
    siteId === null ? items().where('status', '=', status).where('site_id', 'is', null) : items().where('status', '=', status).where('site_id', '=', siteId);
  // Queued per site: capped counts on the claim index (a backlog can be millions). Running: one
  // grouped read of the running rows, which worker capacity bounds, instead of a scan per site.
  const [queuedBySite, runningRows] = await Promise.all([
    Promise.all(allSites.map((site) => countCapped(db, scoped(site.id, 'queued')))),
    items().select((eb) => ['site_id', eb.fn.countAll().as('n')]).where('status', '=', 'running').groupBy('site_id').execute(),
  ]);
  const runningBySite = new Map(runningRows.map((r) => [r.site_id, Number(r.n)]));
  allSites.forEach((site, i) => {
    const queued = queuedBySite[i]!;
    const running = runningBySite.get(site.id) ?? 0;
    const live = liveBySite.get(site.id) ?? 0;
    if (site.id === null && queued === 0 && running === 0) return;
    lines.push({ site_id: site.id, name: site.name, queued: cappedCount(queued), running: cappedCount(running), live_workers: live });
    // Site-less items (service actions) are run by the scheduler itself, not by site workers.
    if (site.id !== null && queued > 0 && live === 0) warnings.push(`site ${site.name} has a backlog (${cappedCount(queued)} queued) and no live worker`);
  });
  const sched = await readSchedulerStats(store, now);
  if (sched.oldest_due_age_ms !== null && sched.oldest_due_age_ms > 60_000) {
    warnings.push(`${sched.due_jobs} job(s) are overdue by up to ${duration(sched.oldest_due_age_ms)}: is a scheduler running?`);
  }
  const recent = await db.selectFrom('scheduled_job_runs').select(['id', 'status']).orderBy('id', 'desc').limit(RECENT_RUNS).execute();
  return {
    by_status: byStatus,
    ready: cappedCount(ready),
    delayed: cappedCount(delayed),
    oldest_wait: firstReady === null ? '—' : duration(Math.max(0, now - firstReady)),
    last_write_age: sched.last_run_age_ms === null ? 'never' : `${duration(sched.last_run_age_ms)} ago`,
    due_jobs: sched.due_jobs,
    live_workers: workers.live,
    sites: lines,
    warnings,
    runs: Object.fromEntries(recent.map((r) => [String(r.id), r.status])),
  };
}

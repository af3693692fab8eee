import type { Command } from 'commander';
import type { Store } from '../db/open.js';
import { WORK_STATUSES } from '../queue/kinds.js';
import { iso, print, printTable } from './output.js';
import { formatAge } from './options.js';
import { withStore } from './store.js';

/** Worker statuses that count as live (the fleet's LIVE set). */
export const LIVE_WORKER_STATUSES = ['starting', 'running', 'idle'] as const;

export interface QueueStatus {
  /** Epoch ms the snapshot was taken at; every age below is relative to it. */
  now: number;
  work_items: {
    /** Every item status, zeros included. */
    by_status: Record<string, number>;
    /** Queued items claimable now (available_at <= now) and those waiting for a later available_at. */
    ready: number;
    delayed: number;
    /** Sites (null: site-less) with queued or running items. */
    by_site: Array<{ site_id: number | null; queued: number; running: number }>;
    /** The queued item created first, null when nothing is queued. */
    oldest_queued: { id: number; site_id: number | null; kind: string; created_at: number; age_ms: number } | null;
    /** How long the longest-waiting claimable item has been claimable (now − its available_at). */
    longest_ready_wait_ms: number | null;
  };
  workers: {
    live: number;
    by_status: Record<(typeof LIVE_WORKER_STATUSES)[number], number>;
    by_site: Array<{ site_id: number | null; live: number }>;
  };
  scheduler: {
    /**
     * The newest scheduled_job_runs row's created_at: when a tick (or run-now) last wrote an
     * occurrence. No tick time is stored (an empty tick writes nothing), so read it with
     * `due_jobs`: enabled jobs whose next_run_at has passed and that no scheduler has advanced.
     */
    last_run_created_at: number | null;
    last_run_age_ms: number | null;
    due_jobs: number;
    oldest_due_at: number | null;
    oldest_due_age_ms: number | null;
  };
}

export function registerStatusCommand(program: Command): Command {
  return program
    .command('status')
    .description('queue depth by status and site, live workers, the last occurrence written, due jobs and the oldest queued item')
    .option('--json', 'print one JSON object instead of tables (default: tables)')
    .action(async (options: { json?: boolean }) => {
      await withStore(async (store) => {
        const status = await readStatus(store, Date.now());
        if (options.json) return print(JSON.stringify(status));
        printStatus(status);
      });
    });
}

const count = (value: string | number | bigint): number => Number(value);

export async function readStatus(store: Store, now: number): Promise<QueueStatus> {
  const { db } = store;
  const groups = await db
    .selectFrom('job_scheduler_work_items')
    .select((eb) => ['status', 'site_id', eb.fn.countAll().as('n')])
    .groupBy(['status', 'site_id'])
    .execute();
  const byStatus: Record<string, number> = Object.fromEntries(WORK_STATUSES.map((s) => [s, 0]));
  const bySite = new Map<number | null, { site_id: number | null; queued: number; running: number }>();
  for (const g of groups) {
    byStatus[g.status] = (byStatus[g.status] ?? 0) + count(g.n);
    if (g.status !== 'queued' && g.status !== 'running') continue;
    const site = bySite.get(g.site_id) ?? { site_id: g.site_id, queued: 0, running: 0 };
    site[g.status] += count(g.n);
    bySite.set(g.site_id, site);
  }

  const ready = await db
    .selectFrom('job_scheduler_work_items')
    .select((eb) => [eb.fn.countAll().as('n'), eb.fn.min('available_at').as('first')])
    .where('status', '=', 'queued')
    .where('available_at', '<=', now)
    .executeTakeFirst();
  const readyCount = count(ready?.n ?? 0);
  const oldest = await db
    .selectFrom('job_scheduler_work_items')
    .select(['id', 'site_id', 'kind', 'created_at'])
    .where('status', '=', 'queued')
    .orderBy('created_at')
    .orderBy('id')
    .limit(1)
    .executeTakeFirst();

  const workerGroups = await db
    .selectFrom('job_scheduler_workers')
    .select((eb) => ['status', 'site_id', eb.fn.countAll().as('n')])
    .where('status', 'in', LIVE_WORKER_STATUSES)
    .groupBy(['status', 'site_id'])
    .execute();
  const workersByStatus = { starting: 0, running: 0, idle: 0 };
  const workersBySite = new Map<number | null, number>();
  for (const g of workerGroups) {
    workersByStatus[g.status as keyof typeof workersByStatus] += count(g.n);
    workersBySite.set(g.site_id, (workersBySite.get(g.site_id) ?? 0) + count(g.n));
  }

  // Ids grow with time, so the newest run is found on the primary key, not by scanning created_at.
  const lastRun = await db.selectFrom('scheduled_job_runs').select('created_at').orderBy('id', 'desc').limit(1).executeTakeFirst();
  const due = await db
    .selectFrom('scheduled_jobs')
    .select((eb) => [eb.fn.countAll().as('n'), eb.fn.min('next_run_at').as('first')])
    .where('enabled', '=', true)
    .where('next_run_at', 'is not', null)
    .where('next_run_at', '<=', now)
    .executeTakeFirst();
  const dueCount = count(due?.n ?? 0);
  const oldestDue = dueCount > 0 && due?.first != null ? Number(due.first) : null;
  const firstReady = readyCount > 0 && ready?.first != null ? Number(ready.first) : null;
  const age = (ts: number | null | undefined) => (ts == null ? null : Math.max(0, now - ts));

  return {
    now,
    work_items: {
      by_status: byStatus,
      ready: readyCount,
      // Separate statements, no transaction (SQLite's would take the write lock): clamp a race.
      delayed: Math.max(0, (byStatus.queued ?? 0) - readyCount),
      by_site: [...bySite.values()].sort(bySiteId),
      oldest_queued: oldest ? { ...oldest, age_ms: age(oldest.created_at)! } : null,
      longest_ready_wait_ms: age(firstReady),
    },
    workers: {
      live: workersByStatus.starting + workersByStatus.running + workersByStatus.idle,
      by_status: workersByStatus,
      by_site: [...workersBySite].map(([site_id, live]) => ({ site_id, live })).sort(bySiteId),
    },
    scheduler: {
      last_run_created_at: lastRun?.created_at ?? null,
      last_run_age_ms: age(lastRun?.created_at),
      due_jobs: dueCount,
      oldest_due_at: oldestDue,
      oldest_due_age_ms: age(oldestDue),
    },
  };
}

/** Site-less (null) first, then by id. */
function bySiteId(a: { site_id: number | null }, b: { site_id: number | null }): number {
  return (a.site_id ?? 0) - (b.site_id ?? 0);
}

function printStatus(s: QueueStatus): void {
  const w = s.work_items;
  print('work items');
  printTable(
    ['status', 'count'],
    Object.entries(w.by_status).map(([status, n]) => [status, status === 'queued' ? `${n} (${w.ready} ready, ${w.delayed} delayed)` : n]),
  );
  print('');
  print('live work items by site');
  if (w.by_site.length === 0) print('none');
  else printTable(['site', 'queued', 'running'], w.by_site.map((r) => [r.site_id ?? 'none', r.queued, r.running]));
  print('');
  print('live workers');
  printTable(
    ['status', 'count'],
    [...Object.entries(s.workers.by_status), ['total', s.workers.live]],
  );
  if (s.workers.by_site.length > 0) {
    print('');
    printTable(['site', 'live workers'], s.workers.by_site.map((r) => [r.site_id ?? 'none', r.live]));
  }
  print('');
  print('scheduler and queue age');
  const sc = s.scheduler;
  const ago = (ts: number | null, ms: number | null) => (ts == null ? '-' : `${iso(ts)} (${formatAge(ms)} ago)`);
  printTable(
    ['signal', 'value'],
    [
      ['last occurrence written', ago(sc.last_run_created_at, sc.last_run_age_ms)],
      ['jobs due, not yet ticked', sc.due_jobs === 0 ? '0' : `${sc.due_jobs} (oldest due ${ago(sc.oldest_due_at, sc.oldest_due_age_ms)})`],
      [
        'oldest queued item',
        w.oldest_queued
          ? `${w.oldest_queued.id} (${w.oldest_queued.kind}, site ${w.oldest_queued.site_id ?? 'none'}), created ${ago(w.oldest_queued.created_at, w.oldest_queued.age_ms)}`
          : '-',
      ],
      ['longest claimable wait', formatAge(w.longest_ready_wait_ms)],
    ],
  );
}

import type { Command } from 'commander';
import type { Store } from '../db/open.js';
import { countLiveWorkers, type LiveWorkerCounts } from '../fleet/worker-rows.js';
import { readQueueStats, type QueueStats } from '../queue/stats.js';
import { readSchedulerStats, type SchedulerStats } from '../schedule/stats.js';
import { iso, print, printTable } from './output.js';
import { formatAge } from './options.js';
import { withStore } from './store.js';

/** What `jobyard status --json` prints: the queue, worker and scheduler read models. */
export interface QueueStatus {
  /** Epoch ms the snapshot was taken at; every age below is relative to it. */
  now: number;
  work_items: Omit<QueueStats, 'groups'>;
  workers: LiveWorkerCounts;
  scheduler: SchedulerStats;
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

export async function readStatus(store: Store, now: number): Promise<QueueStatus> {
  // The per-kind groups feed the metrics; the status shows depth by status and site only.
  const { groups: _groups, ...workItems } = await readQueueStats(store, now);
  const workers = await countLiveWorkers(store);
  const scheduler = await readSchedulerStats(store, now);
  return { now, work_items: workItems, workers, scheduler };
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

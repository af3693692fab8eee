import type { Command } from 'commander';
import { LIVE_WORKER_STATUSES, listWorkers } from '../fleet/worker-rows.js';
import { iso, print, printTable } from './output.js';
import { withStore } from './store.js';

/** Registers `jobyard workers list`; returns the `workers` command. */
export function registerWorkersCommand(program: Command): Command {
  const workers = program.command('workers').description('inspect site workers (job_scheduler_workers)');
  workers
    .command('list')
    .description(`list site workers by site, oldest first; live ones (${LIVE_WORKER_STATUSES.join(', ')}) unless --all`)
    .option('--all', 'include stopped and lost workers, kept for WORKER_HISTORY_SECONDS (default: live workers only)')
    .option('--json', 'print a JSON array of whole rows instead of a table (default: a table)')
    .action(async (options: { all?: boolean; json?: boolean }) => {
      await withStore(async (store) => {
        const rows = await listWorkers(store, { includeTerminal: options.all });
        if (options.json) return print(JSON.stringify(rows));
        if (rows.length === 0) return print(options.all ? 'no workers' : 'no live workers');
        const headers = ['worker', 'site', 'status', 'lanes', 'claimed', 'started', 'last seen', 'idle since'];
        printTable(
          options.all ? [...headers, 'stopped', 'exit', 'docker state'] : headers,
          rows.map((w) => {
            const row = [
              w.worker_guid,
              w.site_id ?? 'none',
              w.status,
              Array.isArray(w.current_lanes_json) ? w.current_lanes_json.join(',') : '-',
              w.claimed_count,
              iso(w.started_at),
              iso(w.last_seen_at),
              iso(w.idle_since),
            ];
            return options.all ? [...row, iso(w.stopped_at), w.exit_code ?? '-', w.docker_state ?? '-'] : row;
          }),
        );
      });
    });
  return workers;
}

import type { Command } from 'commander';
import { UserError } from '../errors.js';
import { iso, parseId, parsePositiveInt, print, printTable } from './output.js';
import { withStore } from './store.js';

export function registerRunsCommand(program: Command): Command {
  const runs = program.command('runs').description("inspect scheduled jobs' runs (occurrences)");
  runs
    .command('list')
    .description('list the runs of one job, newest first')
    .requiredOption('--job <id>', 'the job id')
    .option('--limit <n>', 'at most this many runs (1–1000)', '20')
    .option('--json', 'print JSON instead of a table')
    .action(async (options: { job: string; limit: string; json?: boolean }) => {
      const jobId = parseId(options.job, 'runs list: --job');
      const limit = parsePositiveInt(options.limit, 'runs list: --limit', 1000);
      await withStore(async (store) => {
        const { getScheduledJob, listRuns } = await import('../schedule/jobs.js');
        if (!(await getScheduledJob(store, jobId))) throw new UserError(`runs list: no job with id ${jobId}`);
        const rows = await listRuns(store, { jobId, limit });
        if (options.json) return print(JSON.stringify(rows));
        if (rows.length === 0) return print(`no runs for job ${jobId}`);
        printTable(
          ['id', 'scheduled', 'status', 'started', 'finished', 'skip_reason/error'],
          rows.map((r) => [
            r.id,
            iso(r.scheduled_ts),
            r.status,
            iso(r.started_ts),
            iso(r.finished_ts),
            [r.skip_reason, r.error].filter((x) => x != null && x !== '').join(': '),
          ]),
        );
      });
    });
  return runs;
}

/** Prints rows as space-aligned columns under a header; cells are kept to one line. */

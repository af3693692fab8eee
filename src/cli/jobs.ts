import type { Command } from 'commander';
import type { ScheduledJob } from '../db/schema.js';
import { cliActor } from '../audit/audit-log.js';
import { prefixError } from '../errors.js';
import { readDefinitionFile } from './job-file.js';
import { registerJobLifecycleCommands, printWarnings } from './job-lifecycle.js';
import { iso, parseId, parsePositiveInt, print, printTable } from './output.js';
import { withStore } from './store.js';

/** Registers `jobyard jobs …`; returns the `jobs` command so other modules can add subcommands. */
export function registerJobsCommand(program: Command): Command {
  const jobs = program.command('jobs').description('create, show, update, delete, export, list, enable and disable scheduled jobs');

  jobs
    .command('create')
    .description('create a job from a JSON definition file (unknown hostnames are a warning on stderr)')
    .requiredOption('--file <path>', 'the job definition (JSON)')
    .option('--json', 'print the new row as JSON instead of its id')
    .action(async (options: { file: string; json?: boolean }) => {
      const definition = await readDefinitionFile(options.file, 'jobs create');
      // Checked before the database is opened: a bad file needs no database to be reported.
      const { checkDefinition, createJob } = await import('../schedule/job-lifecycle.js');
      checkDefinition(definition, { now: Date.now() });
      await withStore(async (store) => {
        const { job, warnings } = await createJob(store, definition, { actor: cliActor(), now: Date.now() });
        printWarnings(warnings);
        print(options.json ? JSON.stringify(job) : String(job.id));
      });
    });

  jobs
    .command('list')
    .description('list jobs in id order, one page at a time')
    .option('--limit <n>', 'at most this many jobs (1–1000)', '50')
    .option('--cursor <cursor>', 'the next_cursor of the previous page')
    .option('--json', 'print the page as JSON ({ items, next_cursor }) instead of a table')
    .action(async (options: { limit: string; cursor?: string; json?: boolean }) => {
      const limit = parsePositiveInt(options.limit, 'jobs list: --limit', 1000);
      await withStore(async (store) => {
        const { listJobsPage } = await import('../schedule/job-detail.js');
        const page = await listJobsPage(store, { limit, ...(options.cursor !== undefined ? { cursor: options.cursor } : {}) }).catch((err: unknown) => {
          throw prefixError(err, 'jobs list');
        });
        if (options.json) return print(JSON.stringify(page));
        if (page.items.length === 0) return print('no jobs');
        printTable(
          ['id', 'name', 'kind', 'schedule', 'enabled', 'next run'],
          page.items.map((j) => [j.id, j.name, j.job_kind, schedule(j), j.enabled ? 'yes' : 'no', iso(j.next_run_at)]),
        );
        if (page.next_cursor) print(`more: jobyard jobs list --cursor ${page.next_cursor}`);
      });
    });

  for (const enabled of [false, true]) {
    const verb = enabled ? 'enable' : 'disable';
    jobs
      .command(`${verb} <id>`)
      .description(enabled ? 'enable a job; it next runs at its first occurrence from now' : 'disable a job; it stops being scheduled')
      .action(async (idText: string) => {
        const id = parseId(idText, `jobs ${verb}: id`);
        await withStore(async (store) => {
          const { setEnabledAsOperator } = await import('../schedule/operator-actions.js');
          const job = await setEnabledAsOperator(store, id, enabled, cliActor(), { now: Date.now() }).catch((err: unknown) => {
            throw prefixError(err, `jobs ${verb}`);
          });
          print(`job ${id} ${verb}d${enabled ? `; next run ${iso(job.next_run_at)}` : ''}`);
        });
      });
  }
  registerJobLifecycleCommands(jobs);
  return jobs;
}

function schedule(job: ScheduledJob): string {
  const cron = job.schedule_type === 'cron' && job.cron_expression ? ` "${job.cron_expression}"` : '';
  const zone = job.time_zone !== 'UTC' ? ` (${job.time_zone})` : '';
  return `${job.schedule_type}${cron}${zone}`;
}

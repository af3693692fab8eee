import { readFile, stat } from 'node:fs/promises';
import type { Command } from 'commander';
import type { ScheduledJob } from '../db/schema.js';
import { cliActor } from '../audit/audit-log.js';
import { describeError, prefixError, UserError } from '../errors.js';
import { escapeControl, iso, parseId, print, printTable } from './output.js';
import { jsonSyntaxProblem } from './options.js';
import { withStore } from './store.js';

/** Registers `jobyard jobs …`; returns the `jobs` command so other modules can add subcommands. */
export function registerJobsCommand(program: Command): Command {
  const jobs = program.command('jobs').description('create, list, enable and disable scheduled jobs');

  jobs
    .command('create')
    .description('create a job from a JSON definition file')
    .requiredOption('--file <path>', 'the job definition (JSON)')
    .option('--json', 'print the new row as JSON instead of its id')
    .action(async (options: { file: string; json?: boolean }) => {
      const definition = await readDefinition(options.file);
      // Checked before the database is opened: a bad file needs no database to be reported.
      const { checkJobDefinition, checkJobForCreate, createScheduledJob } = await import('../schedule/jobs.js');
      checkJobDefinition(definition, { now: Date.now() });
      await withStore(async (store) => {
        const { warnings } = await checkJobForCreate(store, definition, { now: Date.now() });
        for (const w of warnings) process.stderr.write(`jobyard: warning: ${escapeControl(w)}\n`);
        const job = await createScheduledJob(store, definition, { now: Date.now() });
        print(options.json ? JSON.stringify(job) : String(job.id));
      });
    });

  jobs
    .command('list')
    .description('list every job')
    .option('--json', 'print JSON instead of a table')
    .action(async (options: { json?: boolean }) => {
      await withStore(async (store) => {
        const { listScheduledJobs } = await import('../schedule/jobs.js');
        const rows = await listScheduledJobs(store);
        if (options.json) return print(JSON.stringify(rows));
        if (rows.length === 0) return print('no jobs');
        printTable(
          ['id', 'name', 'kind', 'schedule', 'enabled', 'next run'],
          rows.map((j) => [j.id, j.name, j.job_kind, schedule(j), j.enabled ? 'yes' : 'no', iso(j.next_run_at)]),
        );
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
  return jobs;
}

/** Larger definition files are refused unread (the definition's own limit is the same 1 MiB). */
const MAX_DEFINITION_FILE_BYTES = 1024 * 1024;

/** Reads and parses the file; no error ever quotes its content (it could be any file, /etc/shadow too). */
async function readDefinition(path: string): Promise<unknown> {
  let text: string;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new UserError(`jobs create: --file ${path}: not a regular file; expected a JSON job definition`);
    if (info.size > MAX_DEFINITION_FILE_BYTES) {
      throw new UserError(`jobs create: --file ${path}: ${info.size} bytes; the limit is ${MAX_DEFINITION_FILE_BYTES} (1 MiB)`);
    }
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(`jobs create: cannot read ${path}: ${oneLine(describeError(err))}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new UserError(`jobs create: ${path} is ${jsonSyntaxProblem(err, text)}`);
  }
}

function schedule(job: ScheduledJob): string {
  const cron = job.schedule_type === 'cron' && job.cron_expression ? ` "${job.cron_expression}"` : '';
  const zone = job.time_zone !== 'UTC' ? ` (${job.time_zone})` : '';
  return `${job.schedule_type}${cron}${zone}`;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

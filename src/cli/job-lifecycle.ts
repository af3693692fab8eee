/**
 * `jobyard jobs show|update|delete|export`: thin adapters over src/schedule/job-lifecycle.ts and
 * job-detail.ts. Writes are audited there with the CLI's actor (`cli:<os user>`).
 */
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { describeError, UserError } from '../errors.js';
import { readDefinitionFile } from './job-file.js';
import { oneLine } from './options.js';
import { escapeControl, iso, parseId, print, printTable } from './output.js';
import { withStore } from './store.js';

export function printWarnings(warnings: readonly string[]): void {
  for (const w of warnings) process.stderr.write(`jobyard: warning: ${escapeControl(w)}\n`);
}

/** NotFound and Conflict messages from the domain ("no job with id N") get the command as prefix. */
async function named<T>(command: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof UserError && (err.name === 'NotFoundError' || err.name === 'ConflictError')) err.message = `${command}: ${err.message}`;
    throw err;
  }
}

export function registerJobLifecycleCommands(jobs: Command): void {
  jobs
    .command('show <id>')
    .description('a job: definition, schedule in words, next and last occurrence, recent runs with target counts')
    .option('--runs <n>', 'recent runs shown (1–100)', '10')
    .option('--json', 'print JSON instead of text')
    .action(async (idText: string, options: { runs: string; json?: boolean }) => {
      const id = parseId(idText, 'jobs show: id');
      const { parsePositiveInt } = await import('./output.js');
      const recentRuns = parsePositiveInt(options.runs, 'jobs show: --runs', 100);
      await withStore(async (store) => {
        const { readJobDetail } = await import('../schedule/job-detail.js');
        const d = await named('jobs show', () => readJobDetail(store, id, { recentRuns }));
        if (options.json) return print(JSON.stringify(d));
        const def = d.definition;
        const targets = def.targets as { hostnames?: string[]; sites?: number[]; filters?: number[]; onboarding_scope?: unknown };
        const components = Array.isArray(def.components) ? (def.components as Array<{ kind?: unknown; name?: unknown }>) : [];
        print(`job ${d.id}: ${String(def.name)} (${String(def.job_kind)})`);
        print(`enabled:     ${d.enabled ? 'yes' : 'no'}`);
        print(`schedule:    ${d.schedule}`);
        if (d.cron_expression) print(`cron:        ${d.cron_expression} (${d.time_zone})`);
        print(`missed:      ${String(def.missed_policy)}`);
        print(`next run:    ${iso(d.next_run_at)}`);
        print(`last run:    ${d.last_occurrence ? `run ${d.last_occurrence.run_id} at ${iso(d.last_occurrence.scheduled_ts)}: ${d.last_occurrence.status}` : '-'}`);
        print(`targets:     ${describeTargets(targets)}`);
        print(`components:  ${components.map((c) => `${String(c.kind)}${typeof c.name === 'string' ? ` ${c.name}` : ''}`).join(', ')}`);
        print(`credential:  ${def.credential_id === null ? 'none' : `id ${String(def.credential_id)}`}`);
        if (d.recent_runs.length === 0) return print('no runs yet');
        print('recent runs:');
        printTable(
          ['id', 'scheduled', 'status', 'targets', 'note'],
          d.recent_runs.map((r) => [
            r.id,
            iso(r.scheduled_ts),
            r.status,
            Object.entries(r.targets).map(([s, n]) => `${s} ${n}`).join(', ') || '-',
            [r.rerun_of_run_id !== null ? `rerun of ${r.rerun_of_run_id}` : null, r.skip_reason, r.error].filter((x) => x != null && x !== '').join(': '),
          ]),
        );
      });
    });

  jobs
    .command('update <id>')
    .description('replace a job\'s definition from a file (validated as create is); the next run is recomputed, written runs are unaffected')
    .requiredOption('--file <path>', 'the new job definition (JSON, e.g. from jobs export)')
    .option('--json', 'print the updated row and the changed fields as JSON')
    .action(async (idText: string, options: { file: string; json?: boolean }) => {
      const id = parseId(idText, 'jobs update: id');
      const definition = await readDefinitionFile(options.file, 'jobs update');
      const { checkDefinition, updateJob } = await import('../schedule/job-lifecycle.js');
      const { cliActor } = await import('../audit/audit-log.js');
      checkDefinition(definition, { now: Date.now() });
      await withStore(async (store) => {
        const r = await named('jobs update', () => updateJob(store, id, definition, { actor: cliActor(), now: Date.now() }));
        printWarnings(r.warnings);
        if (options.json) return print(JSON.stringify({ job: r.job, changed: r.changed }));
        const fields = Object.keys(r.changed);
        print(`job ${id} updated: ${fields.length > 0 ? `changed ${fields.join(', ')}` : 'no field changed'}; next run ${iso(r.job.next_run_at)}`);
      });
    });

  jobs
    .command('delete <id>')
    .description('delete a job with its runs; refused while an occurrence is pending or running unless --force (which cancels its work items)')
    .option('--force', 'cancel the job\'s queued and running work items and delete it anyway')
    .option('--json', 'print the result as JSON')
    .action(async (idText: string, options: { force?: boolean; json?: boolean }) => {
      const id = parseId(idText, 'jobs delete: id');
      await withStore(async (store) => {
        const { deleteJob } = await import('../schedule/job-lifecycle.js');
        const { cliActor } = await import('../audit/audit-log.js');
        const r = await named('jobs delete', () => deleteJob(store, id, { actor: cliActor(), now: Date.now(), force: options.force === true }));
        if (options.json) return print(JSON.stringify({ job_id: id, runs_deleted: r.runsDeleted, items_cancelled: r.itemsCancelled }));
        print(`job ${id} deleted with ${r.runsDeleted} run${r.runsDeleted === 1 ? '' : 's'}${r.itemsCancelled > 0 ? `; ${r.itemsCancelled} work item${r.itemsCancelled === 1 ? '' : 's'} cancelled` : ''}`);
      });
    });

  jobs
    .command('export <id>')
    .description('print the job\'s definition as JSON that jobs create --file accepts back unchanged')
    .option('--output <path>', 'write it to this file instead of stdout')
    .action(async (idText: string, options: { output?: string }) => {
      const id = parseId(idText, 'jobs export: id');
      await withStore(async (store) => {
        const { getJobOrThrow } = await import('../schedule/job-lifecycle.js');
        const { exportJob } = await import('../schedule/job-export.js');
        const text = JSON.stringify(exportJob(await named('jobs export', () => getJobOrThrow(store, id))), null, 2);
        if (options.output === undefined) return print(text);
        try {
          await writeFile(options.output, `${text}\n`, { flag: 'w' });
        } catch (err) {
          throw new UserError(`jobs export: cannot write ${options.output}: ${oneLine(describeError(err))}`);
        }
      });
    });
}

function describeTargets(t: { hostnames?: string[]; sites?: number[]; filters?: number[]; onboarding_scope?: unknown }): string {
  const parts = [
    t.hostnames?.length ? `hostnames ${t.hostnames.join(', ')}` : null,
    t.sites?.length ? `sites ${t.sites.join(', ')}` : null,
    t.filters?.length ? `filters ${t.filters.join(', ')}` : null,
    t.onboarding_scope !== undefined ? 'an onboarding scope' : null,
  ].filter((p) => p !== null);
  return parts.length > 0 ? parts.join('; ') : 'none';
}

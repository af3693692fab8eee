import type { Command } from 'commander';
import { UserError } from '../errors.js';
import { escapeControl, iso, parseId, parsePositiveInt, print, printTable } from './output.js';
import { withStore } from './store.js';
import { RECAP_FIELDS as RECAP_COLUMNS } from '../executors/ansible/recap.js';

/** Largest bigint id (runs are bigint keys on PostgreSQL). */
const MAX_RUN_ID = Number.MAX_SAFE_INTEGER;

export function registerRunsCommand(program: Command): Command {
  const runs = program.command('runs').description("inspect and rerun scheduled jobs' runs (occurrences)");
  runs
    .command('list')
    .description('list the runs of one job, newest first, one page at a time')
    .requiredOption('--job <id>', 'the job id')
    .option('--limit <n>', 'at most this many runs (1–1000)', '20')
    .option('--cursor <cursor>', 'the next_cursor of the previous page')
    .option('--json', 'print the page as JSON ({ items, next_cursor }) instead of a table')
    .action(async (options: { job: string; limit: string; cursor?: string; json?: boolean }) => {
      const jobId = parseId(options.job, 'runs list: --job');
      const limit = parsePositiveInt(options.limit, 'runs list: --limit', 1000);
      await withStore(async (store) => {
        const { listRunsPage } = await import('../schedule/run-detail.js');
        const page = await prefixed('runs list', () => listRunsPage(store, { jobId, limit, ...(options.cursor !== undefined ? { cursor: options.cursor } : {}) }));
        if (options.json) return print(JSON.stringify(page));
        if (page.items.length === 0) return print(`no runs for job ${jobId}`);
        printTable(
          ['id', 'scheduled', 'status', 'started', 'finished', 'skip_reason/error'],
          page.items.map((r) => [
            r.id,
            iso(r.scheduled_ts),
            r.status,
            iso(r.started_ts),
            iso(r.finished_ts),
            [r.skip_reason, r.error].filter((x) => x != null && x !== '').join(': '),
          ]),
        );
        if (page.next_cursor) print(`more: jobyard runs list --job ${jobId} --cursor ${page.next_cursor}`);
      });
    });

  runs
    .command('show <id>')
    .description('a run: status, per-target outcomes with exit code, duration and output snippets, Ansible play recaps per host, onboarding timelines, work items')
    .option('--json', 'print JSON instead of text')
    .action(async (idText: string, options: { json?: boolean }) => {
      const id = parsePositiveInt(idText, 'runs show: id', MAX_RUN_ID);
      await withStore(async (store) => {
        const { readRunDetail } = await import('../schedule/run-detail.js');
        const d = await readRunDetail(store, id);
        if (!d) throw new UserError(`runs show: no run with id ${id}`);
        if (options.json) return print(JSON.stringify(d));
        const r = d.run;
        print(`run ${r.id} of job ${r.job_id}${d.job ? ` (${d.job.name}, ${d.job.job_kind})` : ''}: ${r.status}`);
        print(`scheduled:   ${iso(r.scheduled_ts)}`);
        print(`started:     ${iso(r.started_ts)}`);
        print(`finished:    ${iso(r.finished_ts)}`);
        if (r.rerun_of_run_id !== null) print(`rerun of:    run ${r.rerun_of_run_id}`);
        if (r.skip_reason || r.error) print(`note:        ${[r.skip_reason, r.error].filter(Boolean).join(': ')}`);
        if (d.target_rows.length > 0) {
          print('targets:');
          printTable(
            ['hostname', 'resolution', 'outcome', 'exit', 'duration', 'detail'],
            d.target_rows.map((t) => [
              t.hostname,
              [t.resolution_status, t.resolution_reason].filter(Boolean).join(': '),
              t.outcome,
              t.exit_code,
              t.duration_ms === null ? '' : `${t.duration_ms} ms`,
              t.detail,
            ]),
          );
          for (const t of d.target_rows) {
            if (t.stdout_snippet) print(`--- ${t.hostname ?? '?'} stdout\n${indent(t.stdout_snippet)}`);
            if (t.stderr_snippet) print(`--- ${t.hostname ?? '?'} stderr\n${indent(t.stderr_snippet)}`);
          }
        }
        for (const p of d.playbooks) {
          print(`playbook ${p.component_index}${p.component_name ? ` (${p.component_name})` : ''}: ${p.status}${p.error ? `: ${p.error}` : ''} (run ${p.run_id})`);
          if (p.hosts.length === 0) print('  no PLAY RECAP recorded');
          else printTable(['host', 'target', ...RECAP_COLUMNS], p.hosts.map((h) => [h.inventory_hostname, h.hostname, ...RECAP_COLUMNS.map((f) => h[f])]));
        }
        if (d.onboarding && d.onboarding.length > 0) {
          print('onboarding:');
          for (const t of d.onboarding) {
            print(`  ${t.target_address ?? t.target_input ?? '?'}: ${t.status}${t.detail ? ` (${escapeControl(t.detail)})` : ''}`);
            for (const e of t.events as Array<{ status: string; task: string | null; detail: string | null; created_at: number }>) {
              print(`    ${iso(e.created_at)} ${e.task ?? '-'} ${e.status}${e.detail ? `: ${e.detail}` : ''}`);
            }
          }
        }
        if (d.work_items.length === 0) return print('work items: none');
        print('work items:');
        printTable(
          ['id', 'kind', 'site', 'status', 'attempts', 'last error'],
          d.work_items.map((w) => [w.id, w.kind, w.site_id, w.status, `${w.attempt_count}/${w.max_attempts}`, w.error]),
        );
      });
    });

  runs
    .command('rerun <id>')
    .description('a new occurrence of the run\'s job with the same frozen targets; while it is pending, asking again returns it')
    .option('--json', 'print { run_id, created, source_run_id, job_id }')
    .action(async (idText: string, options: { json?: boolean }) => {
      const id = parsePositiveInt(idText, 'runs rerun: id', MAX_RUN_ID);
      await withStore(async (store) => {
        const { rerunRun } = await import('../schedule/rerun.js');
        const { cliActor } = await import('../audit/audit-log.js');
        const r = await prefixed('runs rerun', () => rerunRun(store, id, { actor: cliActor(), now: Date.now() }));
        if (options.json) return print(JSON.stringify(r));
        print(r.created ? `${r.run_id} created (rerun of run ${id})` : `${r.run_id} deduplicated: a rerun of run ${id} is still pending`);
      });
    });
  return runs;
}

async function prefixed<T>(command: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof UserError) err.message = `${command}: ${err.message}`;
    throw err;
  }
}

function indent(text: string): string {
  return text.replace(/\n$/, '').split('\n').map((l) => `    ${l}`).join('\n');
}

import type { Command } from 'commander';
import { cliActor } from '../audit/audit-log.js';
import { prefixError } from '../errors.js';
import { parseId, print } from './output.js';
import { withStore } from './store.js';

/** `jobyard jobs run-now <id>`: one occurrence now, through the same path as a tick. */
export function registerRunNowCommand(jobs: Command): void {
  jobs
    .command('run-now')
    .description('fire one occurrence of a job now (its schedule is unchanged); prints the run id')
    .argument('<id>', 'job id')
    .option('--json', 'print the run id as JSON')
    .action(async (idText: string, options: { json?: boolean }) => {
      const id = parseId(idText, 'jobs run-now: id');
      await withStore(async (store) => {
        const { runNowAsOperator } = await import('../schedule/operator-actions.js');
        const runId = await runNowAsOperator(store, id, cliActor(), { now: Date.now() }).catch((err: unknown) => {
          throw prefixError(err, 'jobs run-now');
        });
        print(options.json ? JSON.stringify({ run_id: runId }) : String(runId));
      });
    });
}

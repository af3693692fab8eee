/**
 * The `jobyard` command line. Each command lives in its own module under src/cli/; this file
 * wires them into one program (program.ts turns failures into one line on stderr and an exit
 * code: 2 for bad input or configuration, 1 for anything else; the stack only with --verbose).
 *
 * Command modules import their heavy parts (the scheduler, the fleet, the schedule code) inside
 * their actions, so one-shot commands start fast. A site worker does not come through here:
 * `jobyard worker` goes to worker-main.ts (bin/jobyard.js picks it), which loads nothing else.
 */
import { registerDevicesCommand } from './devices.js';
import { registerAuditCommand } from './audit.js';
import { registerCredentialsCommand } from './credentials.js';
import { registerEnqueueCommand } from './enqueue.js';
import { registerFiltersCommand } from './filters.js';
import { registerHostKeyCommand } from './host-keys.js';
import { registerItemsCommand } from './items.js';
import { registerJobsCommand } from './jobs.js';
import { registerMigrateCommand } from './migrate.js';
import { createProgram, runProgram } from './program.js';
import { registerRunNowCommand } from './run-now.js';
import { registerRunsCommand } from './runs.js';
import { registerSchedulerCommand } from './scheduler.js';
import { registerServicesCommand } from './services.js';
import { registerSitesCommand } from './sites.js';
import { registerStatusCommand } from './status.js';
import { registerTokensCommand } from './tokens.js';
import { registerWorkerCommand } from './worker.js';
import { registerWorkersCommand } from './workers.js';

export async function main(argv: string[]): Promise<number> {
  const program = createProgram();
  registerMigrateCommand(program);
  registerRunNowCommand(registerJobsCommand(program));
  registerRunsCommand(program);
  registerSchedulerCommand(program);
  registerWorkerCommand(program);
  registerServicesCommand(program);
  registerStatusCommand(program);
  registerItemsCommand(program);
  registerWorkersCommand(program);
  registerEnqueueCommand(program);
  registerSitesCommand(program);
  registerDevicesCommand(program);
  registerFiltersCommand(program);
  registerTokensCommand(program);
  registerAuditCommand(program);
  registerCredentialsCommand(program);
  // After any `devices` group: it adds `devices host-key …` to it.
  registerHostKeyCommand(program);

  return runProgram(program, argv);
}

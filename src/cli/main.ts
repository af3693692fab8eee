/**
 * The `jobyard` command line. Each command lives in its own module under src/cli/; this file
 * wires them into one program and turns failures into one line on stderr and an exit code
 * (2 for bad input or configuration, 1 for anything else; the stack only with --verbose).
 *
 * Command modules import their heavy parts (the scheduler, the fleet, the schedule code) inside
 * their actions: a site worker starts through this same program, and every module loaded here
 * adds to its boot time.
 */
import { Command, CommanderError } from 'commander';
import { describeError, UserError } from '../errors.js';
import { registerAuditCommand } from './audit.js';
import { registerEnqueueCommand } from './enqueue.js';
import { registerItemsCommand } from './items.js';
import { registerJobsCommand } from './jobs.js';
import { registerMigrateCommand } from './migrate.js';
import { endQuietlyWhenStdoutCloses, escapeControl } from './output.js';
import { registerRunNowCommand } from './run-now.js';
import { registerRunsCommand } from './runs.js';
import { registerSchedulerCommand } from './scheduler.js';
import { registerServicesCommand } from './services.js';
import { registerStatusCommand } from './status.js';
import { registerTokensCommand } from './tokens.js';
import { registerWorkerCommand } from './worker.js';
import { registerWorkersCommand } from './workers.js';

export async function main(argv: string[]): Promise<number> {
  endQuietlyWhenStdoutCloses();
  const verbose = argv.includes('--verbose');
  const program = new Command('jobyard')
    .description('Durable job-scheduler worker daemon (SQLite or PostgreSQL, chosen by DATABASE_URL)')
    .option('--verbose', 'print stack traces on errors')
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) })
    .showHelpAfterError(false)
    .addHelpText(
      'after',
      `
Environment (default):
  DATABASE_URL  sqlite:PATH | postgres://… (sqlite:./data/jobyard.db)
  LOG_LEVEL     fatal, error, warn, info, debug, trace, silent (info; warn for one-shot commands)
  LOG_PRETTY    1 for human-readable logs, 0 for JSON (pretty when stdout is a terminal)
The scheduler and worker commands list their own settings: jobyard scheduler --help.`,
    );
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
  registerTokensCommand(program);
  registerAuditCommand(program);

  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    return reportError(err, verbose);
  }
}

function reportError(err: unknown, verbose: boolean): number {
  if (err instanceof CommanderError) {
    // --help and --version end through here too; commander has already printed them.
    if (err.exitCode === 0) return 0;
    return 2;
  }
  process.stderr.write(`jobyard: ${escapeControl(describeError(err))}\n`);
  if (verbose && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  return err instanceof UserError ? err.exitCode : 1;
}

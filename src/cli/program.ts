/**
 * The root `jobyard` program and its error handling, shared by the full CLI (main.ts) and the
 * site worker's own entry (worker-main.ts), which registers only the worker command.
 */
import { Command, CommanderError } from 'commander';
import { describeError, UserError } from '../errors.js';
import { endQuietlyWhenStdoutCloses, escapeControl } from './output.js';

export function createProgram(): Command {
  endQuietlyWhenStdoutCloses();
  return new Command('jobyard')
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
}

/** Parses argv and runs the command: its exit code, failures as one line on stderr. */
export async function runProgram(program: Command, argv: string[]): Promise<number> {
  const verbose = argv.includes('--verbose');
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

/** Runs `jobyard` commands for tests: in-process (a commander program, stdout captured) or as a child process. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Command } from 'commander';
import { afterAll, beforeAll, vi } from 'vitest';

export interface CliResult {
  stdout: string;
  error?: unknown;
}

/**
 * A runner for a program with only the given commands registered. Commander's own output (help)
 * and process.stdout writes both land in `stdout`; a thrown error is returned, not raised.
 */
export function cliRunner(register: ReadonlyArray<(program: Command) => unknown>): (args: string[]) => Promise<CliResult> {
  return async (args) => {
    const out: string[] = [];
    const program = new Command('jobyard')
      .exitOverride()
      .configureOutput({ writeOut: (text) => out.push(text), writeErr: () => {} })
      .configureHelp({ helpWidth: 10_000 }); // one line per option, so each can be checked
    for (const r of register) r(program);
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out.push(String(chunk));
      return true;
    });
    try {
      await program.parseAsync(args, { from: 'user' });
      return { stdout: out.join('') };
    } catch (error) {
      return { stdout: out.join(''), error };
    } finally {
      spy.mockRestore();
    }
  };
}

/** Points DATABASE_URL at `url()` for the enclosing describe block, restoring it afterwards. */
export function useDatabaseUrl(url: () => string): void {
  const previous = process.env.DATABASE_URL;
  beforeAll(() => {
    process.env.DATABASE_URL = url();
  });
  afterAll(() => {
    if (previous === undefined) delete process.env.DATABASE_URL;
    else process.env.DATABASE_URL = previous;
  });
}

const execFileAsync = promisify(execFile);

/** The `jobyard` executable (bin/jobyard.js, which runs the compiled dist/). */
export const JOBYARD_BIN = join(import.meta.dirname, '..', '..', 'bin', 'jobyard.js');

export interface ProcessResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `jobyard ARGS` as a child process with `env` over this process's environment. */
export async function runJobyard(args: string[], env: NodeJS.ProcessEnv = {}): Promise<ProcessResult> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [JOBYARD_BIN, ...args], { env: { ...process.env, ...env } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/**
 * `jobyard worker …` alone: the program with only the worker command, so a site worker's boot
 * loads none of the other commands' modules (bin/jobyard.js and workers/site-worker.ts pick
 * this entry when the first argument is `worker`). Same help, errors and exit codes as main.ts.
 */
import { createProgram, runProgram } from './program.js';
import { registerWorkerCommand } from './worker.js';

export async function workerMain(argv: string[]): Promise<number> {
  const program = createProgram();
  registerWorkerCommand(program);
  return runProgram(program, argv);
}

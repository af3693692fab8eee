/**
 * `jobyard worker …` alone: the program with only the worker command, so a site worker's boot
 * loads none of the other commands' modules. `npm run build` bundles it with everything it loads
 * into dist/worker/jobyard-worker.mjs (scripts/bundle-worker.mjs), which bin/jobyard.js runs when
 * the first argument is `worker`. Same help, errors and exit codes as main.ts.
 */
import { createProgram, runProgram } from './program.js';
import { registerWorkerCommand } from './worker.js';

export async function workerMain(argv: string[]): Promise<number> {
  const program = createProgram();
  registerWorkerCommand(program);
  return runProgram(program, argv);
}

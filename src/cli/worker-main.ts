/**
 * `jobyard worker …` alone: the program with only the worker command, so a site worker's boot
 * loads none of the other commands' modules. `npm run build` bundles it with everything it loads
 * into dist/worker/jobyard-worker.mjs (scripts/bundle-worker.mjs), which bin/jobyard.js runs when
 * the first argument is `worker`. Same help, errors and exit codes as main.ts.
 *
 * A spare (WORKER_SPARE=stdin, src/fleet/spare-worker.ts) does what it can before its
 * assignment: loads the modules a worker loads on its way, both database drivers, builds the
 * program and reads its configuration once (which compiles that code), then waits on stdin.
 */
import { loadConfig } from '../config.js';
import { preloadDrivers } from '../db/open.js';
import { applyAssignment, waitForAssignment, WORKER_SPARE_VAR } from '../fleet/spare-worker.js';
import { createProgram, runProgram } from './program.js';
import { registerWorkerCommand } from './worker.js';

export async function workerMain(argv: string[]): Promise<number> {
  const program = createProgram();
  registerWorkerCommand(program);
  if (process.env[WORKER_SPARE_VAR] === 'stdin') {
    await Promise.all([import('../executors/index.js'), import('../credentials/index.js')]);
    preloadDrivers();
    try {
      loadConfig(process.env);
    } catch {
      // The assignment's environment is what counts; the worker command reports its problems.
    }
    const assignment = await waitForAssignment(process.stdin);
    if (assignment === null) return 0;
    applyAssignment(assignment);
    argv = [argv[0] ?? 'node', argv[1] ?? 'jobyard', 'worker', ...assignment.args];
  }
  return runProgram(program, argv);
}

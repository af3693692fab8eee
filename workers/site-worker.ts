/**
 * The site-worker entrypoint: what a `site-worker-<uuid>` container (or child process) runs.
 * Identical to `jobyard worker …`; kept as its own file so the worker's entry is easy to find.
 *
 *   node dist/workers/site-worker.js --site 3 [--lanes default,slow]
 */
import { workerMain } from '../src/cli/worker-main.js';

workerMain([process.argv[0] ?? 'node', 'jobyard', 'worker', ...process.argv.slice(2)]).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`jobyard worker: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);

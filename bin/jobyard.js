#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ by `npm run build`. A site worker (`jobyard worker
// …`, what launchers start) runs the worker's one-file bundle (scripts/bundle-worker.mjs): its
// boot is on the path from a work item becoming claimable to its start.
const entry = process.argv[2] === 'worker'
  ? import('../dist/worker/jobyard-worker.mjs').then((m) => m.workerMain)
  : import('../dist/src/cli/main.js').then((m) => m.main);

entry.then((run) => run(process.argv)).then(
  (code) => { process.exitCode = code; },
  (err) => { console.error(`jobyard: ${err?.message ?? err}`); process.exitCode = 1; },
);

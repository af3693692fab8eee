// npm run bench:smoke — every benchmark once at CI size (seconds each), so one that breaks is
// noticed. Checks only that each exits 0 and prints at least one line on stdout, every line a JSON
// object; never a timing. Prints one JSON line per benchmark and exits 1 if any failed.
// Run after `npm run build` (the script does not build) with what `npm test`'s pretest starts:
// PostgreSQL, the Docker Engine and the worker image (bench:fleet's docker launcher), root with
// iproute2 and openssh-server (bench:remote's servers in network namespaces).
//
//   node bench/smoke.mjs [--only queue,floor,scheduler,fleet,fleet-spare,worker-boot,remote,ui,peer-sqlite,peer-postgres]
//   node bench/smoke.mjs --peer <variant>   (internal: drives bench/peer-adapter.mjs with a tiny load)
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = (name) => fileURLToPath(new URL(name, import.meta.url));
const PG_URL = process.env.BENCH_SMOKE_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/bench_smoke';

/** name → the script and its CI-sized arguments. */
const BENCHES = {
  queue: [here('queue.mjs'), '--quick', '--jobs', '500', '--latency-jobs', '20', '--xproc-jobs', '20', '--concurrency', '10', '--prefetch', 'default', '--pg-url', PG_URL],
  floor: [here('floor.mjs'), '--jobs', '500', '--concurrency', '10', '--pg-loops', '2', '--pg-url', PG_URL],
  scheduler: [here('scheduler.mjs'), '--quick'],
  fleet: [here('fleet.mjs'), '--rounds', '2'],
  'fleet-spare': [here('fleet.mjs'), '--rounds', '2', '--spares', '1'],
  'worker-boot': [here('worker-boot.mjs'), '--n', '1', '--idle-seconds', '3'],
  remote: [here('remote.mjs'), '--targets', '2', '--hosts', '1', '--components', '2', '--concurrency', '2'],
  ui: [here('ui.mjs'), '--items', '2000', '--jobs', '200'],
  'peer-sqlite': [here('smoke.mjs'), '--peer', 'sqlite'],
  'peer-postgres': [here('smoke.mjs'), '--peer', 'default'],
};
const TIMEOUT_MS = 180_000;

if (process.argv[2] === '--peer') {
  await peerSmoke(process.argv[3]);
} else {
  const i = process.argv.indexOf('--only');
  const names = i >= 0 ? process.argv[i + 1].split(',') : Object.keys(BENCHES);
  for (const n of names) {
    if (!(n in BENCHES)) {
      console.error(`--only: unknown benchmark "${n}"; expected some of ${Object.keys(BENCHES).join(', ')}`);
      process.exit(2);
    }
  }
  let failed = 0;
  for (const name of names) {
    const result = await runOne(name, BENCHES[name]);
    if (!result.ok) failed++;
    console.log(JSON.stringify(result));
  }
  process.exitCode = failed > 0 ? 1 : 0;
}

/** Runs one benchmark; ok when it exits 0 and its stdout is one or more JSON object lines. */
function runOne(name, args) {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const lines = out.split('\n').filter((l) => l.trim() !== '');
      const bad = lines.filter((l) => !isJsonObject(l));
      const problems = [];
      if (code !== 0) problems.push(signal ? `killed by ${signal}${signal === 'SIGKILL' ? ` after ${TIMEOUT_MS / 1000} s` : ''}` : `exit code ${code}`);
      if (lines.length === 0) problems.push('no output lines');
      if (bad.length > 0) problems.push(`${bad.length} line(s) not a JSON object, first: ${bad[0].slice(0, 200)}`);
      const result = { bench: 'smoke', name, ok: problems.length === 0, lines: lines.length, seconds: Math.round((Date.now() - started) / 100) / 10 };
      if (problems.length > 0) {
        result.problems = problems;
        result.stderr_tail = err.trim().split('\n').slice(-10).join('\n');
      }
      resolve(result);
    });
  });
}

function isJsonObject(line) {
  try {
    const v = JSON.parse(line);
    return v !== null && typeof v === 'object' && !Array.isArray(v);
  } catch {
    return false;
  }
}

/**
 * The peer adapter's life as the shared harness drives it, in miniature: reset, enqueue 200 items
 * in bulk and 20 one by one, drain them with C = 4, wait until nothing is pending, stop.
 */
async function peerSmoke(variant) {
  const { ensurePostgresDatabase } = await import('./lib.mjs');
  if (variant !== 'sqlite') await ensurePostgresDatabase(PG_URL);
  const adapter = await import('./peer-adapter.mjs');
  const concurrency = 4;
  const started = performance.now();
  await adapter.reset({ connectionString: PG_URL, variant, concurrency });
  let done = 0;
  try {
    await adapter.enqueueMany(Array.from({ length: 200 }, (_, i) => ({ i })));
    for (let i = 0; i < 20; i++) await adapter.enqueueOne({ i: 200 + i });
    await adapter.startWorkers({ concurrency, onJob: async () => void done++ });
    const deadline = Date.now() + 60_000;
    while ((await adapter.pending()) > 0) {
      if (Date.now() > deadline) throw new Error(`peer adapter (${variant}): items still pending after 60 s (${done} of 220 ran)`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await adapter.stop();
  }
  if (done < 220) throw new Error(`peer adapter (${variant}): ${done} of 220 items ran`);
  console.log(JSON.stringify({ bench: 'peer_adapter_smoke', variant, items: 220, ran: done, seconds: Math.round(performance.now() - started) / 1000, describe: adapter.describe() }));
}

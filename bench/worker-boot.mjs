// npm run bench:worker-boot — a site worker's boot alone, as the process launcher starts it
// (same node flags, `bin/jobyard.js worker --site N`, secrets as JSON on stdin, fd 3 liveness
// pipe): from spawn to its `site worker running` log line (its row registered), the worker's CPU
// time by then (user + system from /proc: less sensitive to other load than wall time), and an
// idle worker's memory (VmRSS, and Pss/private from smaps_rollup: ~38 MB of VmRSS is the node
// binary's pages, shared by every node process) twice: 2 s after it registered, and settled, after
// --idle-seconds (V8's memory reducer gives back part of the boot's heap ~10 s into an idle
// spell; a worker stays idle WORKER_IDLE_SECONDS, 30 by default). The site has nothing to do. `bare_node` is the
// same figures for `node -e 0`, the machine's own floor, to compare machines and loads.
// Prints one JSON line per backend (medians of --n boots).
// Options: --backends sqlite,postgres  --n 10  --idle-seconds 15  --pg-url URL (BENCH_WORKER_BOOT_DATABASE_URL)
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../dist/src/db/open.js';
import { migrateToLatest } from '../dist/src/db/migrate.js';
import { MIGRATIONS } from '../dist/migrations/index.js';
import { WORKER_NODE_FLAGS } from '../dist/src/fleet/process-launcher.js';
import { jobyardEntrypoint } from '../dist/src/fleet/select-launcher.js';
import { silentLogger } from '../dist/src/log.js';
import { bareNodeStartOnce, ensurePostgresDatabase, machineFacts, percentile, round } from './lib.mjs';

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const backends = opt('backends', 'sqlite,postgres').split(',');
const n = Number(opt('n', '10'));
const idleSeconds = Number(opt('idle-seconds', '15'));
const PG_URL = opt('pg-url', process.env.BENCH_WORKER_BOOT_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/bench_worker_boot');
const TICKS_PER_S = 100; // USER_HZ on Linux

function cpuMs(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / TICKS_PER_S;
}

function memoryMb(pid) {
  const kb = (text, key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0) / 1024;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  return { rss: kb(status, 'VmRSS'), pss: kb(rollup, 'Pss'), private: kb(rollup, 'Private_Clean') + kb(rollup, 'Private_Dirty') };
}

/** Spawns one process and resolves when `ready(line)` matches a stdout line: wall and CPU by then. */
function runUntil(argv, env, stdinText, ready) {
  const t0 = process.hrtime.bigint();
  const child = spawn(process.execPath, argv, { env, stdio: ['pipe', 'pipe', 'inherit', 'pipe'] });
  child.stdio[3].on('data', () => {});
  child.stdin.on('error', () => {});
  child.stdin.end(stdinText);
  return new Promise((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (d) => {
      buf += d;
      if (ready && ready(buf)) {
        resolve({ child, wall: Number(process.hrtime.bigint() - t0) / 1e6, cpu: cpuMs(child.pid) });
        ready = null;
      }
    });
    child.once('exit', (code) => {
      if (!ready) return;
      if (ready === 'exit') resolve({ child, wall: Number(process.hrtime.bigint() - t0) / 1e6, cpu: null });
      else reject(new Error(`worker exited with ${code} before registering: ${buf.slice(-500)}`));
    });
  });
}

const median = (values) => round(percentile([...values].sort((a, b) => a - b), 50), 1);
const memoryMedians = (mems) => ({ vm_rss: median(mems.map((m) => m.rss)), pss: median(mems.map((m) => m.pss)), private: median(mems.map((m) => m.private)) });

for (const backend of backends) {
  const dir = mkdtempSync(join(os.tmpdir(), 'jy-bench-boot-'));
  const url = backend === 'sqlite' ? `sqlite:${join(dir, 'boot.db')}` : PG_URL;
  if (backend === 'postgres') await ensurePostgresDatabase(url);
  const store = openDatabase(url, { logger: silentLogger });
  const boots = [];
  const bare = [];
  try {
    await migrateToLatest(store, MIGRATIONS);
    const site = await store.db.insertInto('sites').values({ name: `boot-${process.pid}`, name_lower: `boot-${process.pid}`, created_at: Date.now() }).returning('id').executeTakeFirstOrThrow();
    const env = { ...process.env, WORKER_SECRETS: 'stdin', WORKER_LIVENESS_FD: '3', LOG_LEVEL: 'info', LOG_PRETTY: '0', WORKER_IDLE_SECONDS: String(idleSeconds + 30) };
    delete env.DATABASE_URL;
    for (let i = 0; i < n; i++) {
      // The machine's floor, right before each boot (same load).
      bare.push(await bareNodeStartOnce());
      const argv = [...WORKER_NODE_FLAGS, jobyardEntrypoint(), 'worker', '--site', String(site.id)];
      const boot = await runUntil(argv, env, JSON.stringify({ DATABASE_URL: url }), (out) => out.includes('site worker running'));
      await new Promise((r) => setTimeout(r, 2_000)); // as bench:fleet measures it
      const afterBoot = memoryMb(boot.child.pid);
      await new Promise((r) => setTimeout(r, Math.max(0, idleSeconds * 1000 - 2_000)));
      const settled = memoryMb(boot.child.pid);
      boot.child.kill('SIGTERM');
      await new Promise((r) => (boot.child.exitCode !== null ? r() : boot.child.once('exit', r)));
      boots.push({ wall: boot.wall, cpu: boot.cpu, afterBoot, settled });
    }
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(
    JSON.stringify({
      bench: 'worker-boot',
      backend,
      n,
      node_flags: WORKER_NODE_FLAGS.join(' '),
      spawn_to_registered_ms: { median: median(boots.map((b) => b.wall)), all: boots.map((b) => Math.round(b.wall)) },
      cpu_to_registered_ms: { median: median(boots.map((b) => b.cpu)), all: boots.map((b) => b.cpu) },
      idle_seconds: idleSeconds,
      idle_mb: memoryMedians(boots.map((b) => b.settled)),
      after_boot_mb: memoryMedians(boots.map((b) => b.afterBoot)),
      bare_node: { wall_ms: median(bare.map((b) => b.wall)), cpu_ms: median(bare.map((b) => b.cpu)) },
      load_average_1m: round(os.loadavg()[0], 1),
      machine: machineFacts(),
    }),
  );
}

// Helpers shared by bench/queue.mjs and bench/peer-adapter.mjs: loading the compiled jobyard from
// dist/ (relative to this file, so the scripts work from any working directory), resetting its
// tables, counting pending items, statistics and machine facts.
import os from 'node:os';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const dist = (rel) => new URL(`../dist/src/${rel}`, import.meta.url).href;

/** The compiled jobyard modules the benchmarks use. Run `npm run build` first. */
export async function loadJobyard() {
  try {
    const [open, migrate, migrations, queue] = await Promise.all([
      import(dist('db/open.js')),
      import(dist('db/migrate.js')),
      import(new URL('../dist/migrations/index.js', import.meta.url).href),
      import(dist('queue/index.js')),
    ]);
    const list = migrations.MIGRATIONS;
    return {
      openDatabase: open.openDatabase,
      migrateToLatest: (store) => migrate.migrateToLatest(store, list),
      migrateDown: (store, options) => migrate.migrateDown(store, list, options),
      enqueueWorkItems: queue.enqueueWorkItems,
      enqueueWorkItem: queue.enqueueWorkItem,
      runQueue: queue.runQueue,
    };
  } catch (err) {
    throw new Error(`cannot load jobyard from ${dist('')} (run \`npm run build\` in the project first): ${err.message}`);
  }
}

export const WORK_TABLE = 'job_scheduler_work_items';

/** Drops every jobyard table and migrates again: an empty queue with fresh indexes. */
export async function resetSchema(jy, store) {
  await jy.migrateDown(store, { all: true });
  await jy.migrateToLatest(store);
}

/** A SQLite URL for a file in `dir`, removing any earlier file (and its WAL/SHM) of that name. */
export function freshSqliteFile(dir, name = 'queue.db') {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, name);
  for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(file + suffix, { force: true });
  return file;
}

/** Nearest-rank percentile of an ascending array (the same rule as the shared harness). */
export function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export const round = (x, digits = 0) => (x == null ? null : Number(x.toFixed(digits)));
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** p50/p95/p99/max of a list of milliseconds, rounded to 0.01 ms. */
export function latencySummary(values) {
  const v = Float64Array.from(values).sort();
  return {
    n: v.length,
    p50: round(percentile(v, 50), 2),
    p95: round(percentile(v, 95), 2),
    p99: round(percentile(v, 99), 2),
    max: round(v.length ? v[v.length - 1] : null, 2),
  };
}

export function machineFacts() {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpu_model: cpus[0]?.model ?? null,
    mem_gib: round(os.totalmem() / 2 ** 30, 1),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
  };
}

/** Machine-wide CPU counters from /proc/stat, or null where there is none. */
export function machineCpuTicks() {
  try {
    const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
    const v = fields.map(Number);
    return { idle: v[3] + (v[4] || 0), total: v.slice(0, 8).reduce((a, b) => a + b, 0) };
  } catch {
    return null;
  }
}

export function busyPercent(a, b) {
  if (!a || !b || b.total === a.total) return null;
  return round(100 * (1 - (b.idle - a.idle) / (b.total - a.total)), 1);
}

/**
 * Creates the PostgreSQL database named in `url` when it does not exist yet (connecting to the
 * server's `postgres` database), so each benchmark's own database appears on a fresh machine.
 */
export async function ensurePostgresDatabase(url) {
  const { default: pg } = await import('pg');
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  if (!name) return;
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.href });
  await client.connect();
  try {
    const found = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (found.rowCount === 0) await client.query(`create database "${name.replace(/"/g, '""')}"`);
  } catch (err) {
    // Another benchmark process may have created it in the meantime.
    if (err.code !== '42P04') throw err;
  } finally {
    await client.end();
  }
}

/** One `node -e` that only reads its own CPU use: its wall and CPU ms (the floor of any process start). */
export async function bareNodeStartOnce() {
  const { spawn } = await import('node:child_process');
  const t0 = process.hrtime.bigint();
  const cpu = await new Promise((resolve) => {
    const p = spawn(process.execPath, ['-e', 'const u = process.cpuUsage(); process.stdout.write(String((u.user + u.system) / 1000))'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.once('exit', () => resolve(Number(out)));
  });
  return { wall: Number(process.hrtime.bigint() - t0) / 1e6, cpu };
}

/**
 * The machine's floor for starting a process: median wall and CPU time of bareNodeStartOnce over
 * `n` runs. Printed beside start-up figures (bench:fleet), so runs on machines or VMs of different
 * speed, or under different load, can be told apart.
 */
export async function bareNodeStart(n = 5) {
  const runs = [];
  for (let i = 0; i < n; i++) runs.push(await bareNodeStartOnce());
  const med = (k) => round(percentile(runs.map((r) => r[k]).sort((a, b) => a - b), 50), 1);
  return { wall_ms: med('wall'), cpu_ms: med('cpu') };
}

// npm run bench:scheduler — tick duration (median of 5 ticks) for N scheduled jobs with D due per
// tick, on SQLite and PostgreSQL. Prints one JSON line per case, with the cost per occurrence
// (tick ms / D), so the curve over N shows whether that cost stays flat as jobs grow.
// Each due job targets one site with two online devices, so a tick writes a run, two frozen
// targets and one work item per due job. A tick reads up to D jobs (dueBatch = D).
// Per tick also node CPU ms (process.cpuUsage) and, for a PostgreSQL server on this host, the CPU ms
// of this database's backends (/proc): both hold up on a loaded machine, where wall time does not.
// Options: --backends sqlite,postgres --quick
//          --cases 10000x100,100000x1000   (N x D; default: 10k/100k x 100/1,000)
//          --curve                          (100k, 300k, 1M jobs x 1,000 and 10,000 due)
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { sql } from 'kysely';
import os from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../dist/src/db/open.js';
import { migrateDown, migrateToLatest } from '../dist/src/db/migrate.js';
import { MIGRATIONS } from '../dist/migrations/index.js';
import { toJson } from '../dist/src/db/dialect.js';
import { tick } from '../dist/src/schedule/ticker.js';
import { ensurePostgresDatabase } from './lib.mjs';

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const backends = opt('backends', 'sqlite,postgres').split(',');
const quick = args.includes('--quick');
// Its own database: jobyard's tables are dropped and recreated for every case.
const PG_URL = process.env.BENCH_SCHEDULER_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/bench_sched';
const machine = { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, memGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version };
const CURVE = [[100_000, 1_000], [100_000, 10_000], [300_000, 1_000], [300_000, 10_000], [1_000_000, 1_000], [1_000_000, 10_000]];
const cases = opt('cases', null)?.split(',').map((c) => c.split('x').map(Number))
  ?? (quick ? [[2_000, 100]] : args.includes('--curve') ? CURVE : [[10_000, 100], [10_000, 1_000], [100_000, 100], [100_000, 1_000]]);
const TICKS = 5;
const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 10, 2, 0, 0, 0);

/**
 * CPU time (user + system, ms) of this database's server backends, read from /proc: the server's
 * share of a tick, which a loaded machine does not inflate the way it does wall time. Null when
 * the server is not on this host (or /proc is not readable).
 */
async function serverCpuMs(store) {
  const { rows } = await sql`select pid from pg_stat_activity where datname = current_database()`.execute(store.db);
  const hz = 100; // USER_HZ on Linux
  let total = 0;
  try {
    for (const { pid } of rows) {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      total += ((Number(fields[11]) + Number(fields[12])) * 1000) / hz; // utime, stime
    }
  } catch {
    return null;
  }
  return total;
}

for (const backend of backends) {
  for (const [total, due] of cases) {
    const dir = mkdtempSync(join(os.tmpdir(), 'jy-bench-sched-'));
    const url = backend === 'sqlite' ? `sqlite:${join(dir, 'b.db')}` : PG_URL;
    if (backend === 'postgres') await ensurePostgresDatabase(url);
    const store = openDatabase(url);
    await migrateDown(store, MIGRATIONS, { all: true }).catch(() => {});
    await migrateToLatest(store, MIGRATIONS);
    const site = await store.db.insertInto('sites').values({ name: 's', name_lower: 's', created_at: T0 }).returning('id').executeTakeFirstOrThrow();
    for (const h of ['h1', 'h2']) {
      await store.db.insertInto('devices').values({ guid: h, hostname: h, hostname_lower: h, status: 'online', last_seen: T0 + 10 * HOUR, created_at: T0 }).execute();
      await store.db.insertInto('device_sites').values({ device_hostname: h, site_id: site.id, assigned_at: T0 }).execute();
    }
    // `due` jobs fall due at each of the 5 ticks (one minute apart); the rest are due far later.
    // Rows are built a chunk at a time so a million jobs do not sit in memory at once.
    const row = (i) => {
      const tickNo = Math.floor(i / due);
      const next = tickNo < TICKS ? T0 + tickNo * 60_000 : T0 + 365 * 24 * HOUR + i;
      return {
        name: `job-${i}`,
        components_json: toJson([{ kind: 'command', argv: ['true'] }]),
        targets_json: toJson({ sites: [site.id] }),
        schedule_type: 'daily',
        start_ts: next,
        next_run_at: next,
        created_at: T0,
        updated_at: T0,
      };
    };
    const insertAll = async (db) => {
      for (let i = 0; i < total; i += 1000) {
        await db.insertInto('scheduled_jobs').values(Array.from({ length: Math.min(1000, total - i) }, (_, k) => row(i + k))).execute();
      }
    };
    // One transaction on SQLite (a commit per chunk would dominate the set-up).
    if (backend === 'sqlite') await store.db.transaction().execute(insertAll);
    else await insertAll(store.db);
    if (backend === 'postgres') await sql`analyze`.execute(store.db);
    const durations = [];
    const nodeCpu = [];
    const serverCpu = [];
    let written = 0;
    for (let t = 0; t < TICKS; t++) {
      const cpu0 = process.cpuUsage();
      const server0 = backend === 'postgres' ? await serverCpuMs(store) : null;
      const s = await tick(store, { now: T0 + t * 60_000 + 1, dueBatch: due });
      const cpu = process.cpuUsage(cpu0);
      nodeCpu.push(Math.round((cpu.user + cpu.system) / 1000));
      if (server0 !== null) serverCpu.push(Math.round((await serverCpuMs(store)) - server0));
      if (s.advanced !== due) throw new Error(`tick ${t}: expected ${due} jobs, advanced ${s.advanced}`);
      durations.push(s.durationMs);
      written += s.items;
    }
    // Wall times in tick order (a tick slower than the one before shows growth); the median sorted.
    const median = [...durations].sort((a, b) => a - b)[2];
    console.log(JSON.stringify({
      bench: 'scheduler_tick', backend, jobs: total, due_per_tick: due, tick_ms_median: Math.round(median * 10) / 10,
      us_per_occurrence: Math.round((median * 1000) / due), tick_ms: durations.map((d) => Math.round(d)),
      node_cpu_ms: nodeCpu, ...(serverCpu.length ? { pg_backend_cpu_ms: serverCpu } : {}), items_written: written, machine,
    }));
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

// npm run bench:scheduler — tick duration (median of 5 ticks) for 10,000 and 100,000 scheduled
// jobs with 100 and 1,000 due per tick, on SQLite and PostgreSQL. Prints one JSON line per case.
// Each due job targets one site with two online devices, so a tick writes a run, two frozen
// targets and one work item per due job. Options: --backends sqlite,postgres --quick
import { mkdtempSync, rmSync } from 'node:fs';
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
const cases = quick ? [[2_000, 100]] : [[10_000, 100], [10_000, 1_000], [100_000, 100], [100_000, 1_000]];
const TICKS = 5;
const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 10, 2, 0, 0, 0);

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
    const rows = [];
    for (let i = 0; i < total; i++) {
      const tickNo = Math.floor(i / due);
      const next = tickNo < TICKS ? T0 + tickNo * 60_000 : T0 + 365 * 24 * HOUR + i;
      rows.push({
        name: `job-${i}`,
        components_json: toJson([{ kind: 'command', argv: ['true'] }]),
        targets_json: toJson({ sites: [site.id] }),
        schedule_type: 'daily',
        start_ts: next,
        next_run_at: next,
        created_at: T0,
        updated_at: T0,
      });
    }
    for (let i = 0; i < rows.length; i += 1000) await store.db.insertInto('scheduled_jobs').values(rows.slice(i, i + 1000)).execute();
    if (backend === 'postgres') await sql`analyze`.execute(store.db);
    const durations = [];
    let written = 0;
    for (let t = 0; t < TICKS; t++) {
      const s = await tick(store, { now: T0 + t * 60_000 + 1 });
      if (s.advanced !== due) throw new Error(`tick ${t}: expected ${due} jobs, advanced ${s.advanced}`);
      durations.push(s.durationMs);
      written += s.items;
    }
    durations.sort((a, b) => a - b);
    console.log(JSON.stringify({ bench: 'scheduler_tick', backend, jobs: total, due_per_tick: due, tick_ms_median: Math.round(durations[2] * 10) / 10, tick_ms: durations.map((d) => Math.round(d)), items_written: written, machine }));
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

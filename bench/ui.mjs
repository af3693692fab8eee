// npm run bench:ui — the dashboard's page queries with 1,000,000 work items and 100,000
// scheduled jobs, on SQLite and PostgreSQL. Seeds once per backend, then times each page's data
// functions (median of 5 runs after one warm-up) and prints one JSON line per page.
// Options: --backends sqlite,postgres --items 1000000 --jobs 100000 --pages overview,work_items
//   --reuse   keep the seeded databases between runs (SQLite file in the temp folder named by the
//             sizes, PostgreSQL database BENCH_UI_DATABASE_URL) and seed only when they are empty
//             or hold other sizes; migrations still run, so a new index is measured on the old seed.
// A CI smoke run: --items 10000 --jobs 1000 (seconds).
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { sql } from 'kysely';
import os from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../dist/src/db/open.js';
import { migrateDown, migrateToLatest } from '../dist/src/db/migrate.js';
import { MIGRATIONS } from '../dist/migrations/index.js';
import { toJson } from '../dist/src/db/dialect.js';
import { readOverview } from '../dist/src/http/ui/overview-data.js';
import { listItems } from '../dist/src/queue/work-item-list.js';
import { listJobLines, listOccurrences } from '../dist/src/schedule/job-list.js';
import { listCredentials } from '../dist/src/credentials/credential-store.js';
import { listDevicePage } from '../dist/src/inventory/device-admin.js';
import { listFilterPage } from '../dist/src/inventory/filter-admin.js';
import { listSites } from '../dist/src/inventory/sites.js';
import { readSeries, rollUpMinutes } from '../dist/src/queue/minute-rollup.js';
import { readRunDetail } from '../dist/src/schedule/run-detail.js';
import { listWorkers, listRecentWorkers } from '../dist/src/fleet/worker-rows.js';
import { listAudit } from '../dist/src/audit/audit-log.js';
import { ensurePostgresDatabase } from './lib.mjs';

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const backends = opt('backends', 'sqlite,postgres').split(',');
const ITEMS = Number(opt('items', '1000000'));
const JOBS = Number(opt('jobs', '100000'));
const REUSE = args.includes('--reuse');
const PAGES = opt('pages', '') ? opt('pages', '').split(',') : null;
const PG_URL = process.env.BENCH_UI_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/bench_ui';
const NOW = Date.UTC(2099, 0, 5, 12, 0, 0);
const SITES = 10;
const RARE_KIND = 'inventory_sync';
const RARE_AT = 7;
const DAY = 86_400_000;
/** The seed's items are created 500 ms apart, the last one at NOW. */
const FIRST_CREATED = NOW - ITEMS * 500;
const machine = { cpus: os.cpus().length, memGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version };

async function seed(store) {
  const { db } = store;
  for (let s = 1; s <= SITES; s++) await db.insertInto('sites').values({ name: `site-${s}`, name_lower: `site-${s}`, created_at: NOW }).execute();
  let rows = [];
  const flush = async (table) => {
    if (rows.length) await db.insertInto(table).values(rows).execute();
    rows = [];
  };
  for (let i = 0; i < JOBS; i++) {
    rows.push({ name: `job-${i}`, components_json: toJson([{ kind: 'command', argv: ['true'] }]), targets_json: toJson({ sites: [1 + (i % SITES)] }), schedule_type: 'daily', start_ts: NOW, next_run_at: NOW + 86_400_000 + i, created_at: NOW, updated_at: NOW });
    if (rows.length === 500) await flush('scheduled_jobs');
  }
  await flush('scheduled_jobs');
  // A run history for the first 1,000 jobs (10 each) so the result bars have something to read.
  for (let j = 1; j <= Math.min(1000, JOBS); j++) {
    for (let k = 0; k < 10; k++) rows.push({ job_id: j, scheduled_ts: NOW - k * 86_400_000, status: k % 7 === 0 ? 'Failed' : 'Success', created_at: NOW, updated_at: NOW });
    if (rows.length >= 500) await flush('scheduled_job_runs');
  }
  await flush('scheduled_job_runs');
  for (let i = 0; i < ITEMS; i++) {
    const r = i % 100;
    const status = r < 90 ? 'succeeded' : r < 95 ? 'failed' : r < 98 ? 'queued' : r < 99 ? 'running' : 'dead';
    const created = NOW - (ITEMS - i) * 500;
    const finished = status === 'succeeded' || status === 'failed' || status === 'dead';
    rows.push({
      // One item in 10,000 has a rare kind, for the kind filter's pages.
      kind: i % 10_000 === RARE_AT ? RARE_KIND : 'scheduled_run', site_id: 1 + (i % SITES), lane: 'default', payload_json: toJson({ host: { name: `h${i % 1000}` } }),
      status, attempt_count: 1, max_attempts: 3, available_at: status === 'queued' && i % 2 ? NOW + 3_600_000 : created,
      created_at: created, updated_at: created, started_at: created + 100, finished_at: finished ? created + 2000 : null,
      lease_owner: status === 'running' ? `w-${i % 20}` : null, lease_expires_at: status === 'running' ? NOW + 60_000 : null, heartbeat_at: status === 'running' ? NOW : null,
      error: status === 'failed' || status === 'dead' ? 'exit code 1' : null,
    });
    if (rows.length === 1000) await flush('job_scheduler_work_items');
  }
  await flush('job_scheduler_work_items');
  await rollUpMinutes(store, NOW);
}

/**
 * Median wall and node CPU milliseconds of 5 runs after a warm-up; on PostgreSQL also the server
 * CPU of this database's backends (utime + stime from /proc, 10 ms ticks, so the mean of the 5),
 * null where /proc does not show them (a remote server). CPU figures hold on a loaded machine.
 */
async function time(fn, store) {
  await fn();
  const pids = store.dialect.backend === 'postgres' ? (await sql`select pid from pg_stat_activity where datname = current_database()`.execute(store.db)).rows.map((r) => r.pid) : [];
  const ms = [];
  const cpu = [];
  const server0 = serverTicks(pids);
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    const c = process.cpuUsage();
    await fn();
    const d = process.cpuUsage(c);
    ms.push(performance.now() - t);
    cpu.push((d.user + d.system) / 1000);
  }
  const server1 = serverTicks(pids);
  // A backend that exited (or a pid reused) between the reads spoils the sum: reported as null.
  const server = server0 === null || server1 === null || server1 < server0 ? null : Math.round(((server1 - server0) * 10) / 5 * 10) / 10;
  const median = (xs) => Math.round(xs.sort((a, b) => a - b)[2] * 10) / 10;
  return { median_ms: median(ms), cpu_ms: median(cpu), ...(store.dialect.backend === 'postgres' ? { server_cpu_ms: server } : {}) };
}

/** utime + stime of these processes in clock ticks (100 per second), or null if /proc hides them. */
function serverTicks(pids) {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      return null;
    }
  }
  return pids.length ? ticks : null;
}

/** True when the store already holds this run's seed (same sizes), so --reuse can skip seeding. */
async function seeded(store) {
  const exists = await store.dialect.tableExists(store.db, 'job_scheduler_work_items');
  if (!exists) return false;
  const last = await store.db.selectFrom('job_scheduler_work_items').select('id').orderBy('id', 'desc').limit(1).executeTakeFirst();
  const jobs = await store.db.selectFrom('scheduled_jobs').select('id').orderBy('id', 'desc').limit(1).executeTakeFirst();
  // A seed from before the rare kind was added is seeded again.
  const rare = await store.db.selectFrom('job_scheduler_work_items').select('kind').where('id', '=', RARE_AT + 1).executeTakeFirst();
  return Number(last?.id ?? 0) === ITEMS && Number(jobs?.id ?? 0) === JOBS && rare?.kind === RARE_KIND;
}

for (const backend of backends) {
  const dir = REUSE ? os.tmpdir() : mkdtempSync(join(os.tmpdir(), 'jy-bench-ui-'));
  const file = join(dir, REUSE ? `jy-bench-ui-${ITEMS}-${JOBS}.db` : 'b.db');
  const url = backend === 'sqlite' ? `sqlite:${file}` : PG_URL;
  if (backend === 'postgres') await ensurePostgresDatabase(url);
  const store = openDatabase(url);
  const reuse = REUSE && (backend === 'postgres' || existsSync(file)) && (await seeded(store));
  if (!reuse) await migrateDown(store, MIGRATIONS, { all: true }).catch(() => {});
  await migrateToLatest(store, MIGRATIONS);
  const t0 = performance.now();
  if (!reuse) await seed(store);
  // Fresh statistics and visibility map, as autovacuum keeps them after a load like this (and
  // after new indexes). SQLite runs without statistics, as the daemon does (it never runs ANALYZE).
  if (backend === 'postgres') await sql`vacuum analyze`.execute(store.db);
  const seedS = reuse ? 'reused' : Math.round((performance.now() - t0) / 1000);
  const pages = {
    overview: () => readOverview(store, NOW),
    overview_charts: () => readSeries(store, NOW),
    work_items: () => listItems(store, {}, { limit: 50 }),
    work_items_failed_site: () => listItems(store, { status: 'failed', site: 3 }, { limit: 50 }),
    work_items_running_worker: () => listItems(store, { status: 'running', worker: 'w-7' }, { limit: 50 }),
    work_items_payload: () => listItems(store, { status: 'failed', payloadPath: 'host.name', payloadValue: 'h42' }, { limit: 50 }),
    // Kind and creation-time filters (the kind filter splits by status; a time range pages in
    // created_at order through the finished items' (created_at, id) indexes).
    work_items_rare_kind: () => listItems(store, { kind: RARE_KIND }, { limit: 50 }),
    work_items_missing_kind: () => listItems(store, { kind: 'no_such_kind' }, { limit: 50 }),
    work_items_old_day: () => listItems(store, { from: FIRST_CREATED + DAY / 2, to: FIRST_CREATED + DAY * 1.5 }, { limit: 50 }),
    work_items_recent_hour: () => listItems(store, { from: NOW - DAY / 24 }, { limit: 50 }),
    work_items_rare_kind_old_day: () => listItems(store, { kind: RARE_KIND, from: FIRST_CREATED + DAY / 2, to: FIRST_CREATED + DAY * 1.5 }, { limit: 50 }),
    work_items_failed_old_day: () => listItems(store, { status: 'failed', from: FIRST_CREATED + DAY / 2, to: FIRST_CREATED + DAY * 1.5 }, { limit: 50 }),
    jobs: () => listJobLines(store, { limit: 50 }),
    job: () => listOccurrences(store, { jobId: 1, limit: 50 }),
    run: () => readRunDetail(store, 1),
    workers: async () => [await listWorkers(store), await listRecentWorkers(store, { endedSince: NOW - 3_600_000 })],
    // What the inventory page reads (src/http/ui/routes-admin.ts): sites, a page of devices with
    // their presence, the filters and (for an admin) the credentials.
    inventory: async () => [
      await listSites(store),
      await listDevicePage(store, { limit: 100 }, { now: NOW, offlineAfterMs: 600_000 }),
      (await listFilterPage(store, { limit: 200 })).items,
      (await listCredentials(store.db, { limit: 200 })).items,
    ],
    audit: () => listAudit(store.db, { limit: 50 }),
  };
  for (const [page, fn] of Object.entries(pages)) {
    if (PAGES && !PAGES.includes(page)) continue;
    console.log(JSON.stringify({ bench: 'ui', backend, items: ITEMS, jobs: JOBS, page, ...(await time(fn, store)), seed_s: seedS, machine }));
  }
  await store.close();
  if (!REUSE) rmSync(dir, { recursive: true, force: true });
}

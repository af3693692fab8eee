// jobyard adapter for the shared queue benchmark harness (/work/shared/bench-peers, see its README).
//
//   node /work/shared/bench-peers/run.mjs --system /work/main/bench/peer-adapter.mjs[:variant] ...
//
// jobyard is imported from this project's compiled build (../dist, run `npm run build` first).
// One jobyard Store per process, shared by the producer (enqueue) and the consumer (runQueue), as a
// jobyard daemon runs; PostgreSQL pool sized like the peers: DB_POOL_SIZE = max(10, C + 2),
// DB_MAX_OVERFLOW = 0. Every job is a work item of kind "bench_noop" with site_id NULL, claimed
// with siteId: null. runQueue defaults otherwise: lease 60 s, heartbeat 15 s, poll fallback 1000 ms,
// completions batched and committed before an item counts as done.
//
// Variants:
//   default             PostgreSQL, concurrency C, prefetch = max(C, 500) (runQueue's default: up to
//                       C + prefetch items held per process, refilled when half of that is free).
//   prefetch<N>         PostgreSQL, prefetch N (e.g. prefetch500: up to C + 500 items held).
//   sqlite              SQLite: ignores the database in connectionString and uses a file in a temp
//                       folder ($JOBYARD_BENCH_SQLITE_DIR or <tmpdir>/jobyard-bench-peers/queue.db,
//                       WAL, synchronous=NORMAL as jobyard opens it); prefetch = max(C, 500).
//   sqlite-prefetch<N>  the same with prefetch N.
// pending() counts items with status queued or running (claimed or running), through its own
// connection (a pg.Client, or a second read-only SQLite connection).
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import BetterSqlite3 from 'better-sqlite3';
import { loadJobyard, resetSchema, WORK_TABLE } from './lib.mjs';

const KIND = 'bench_noop';
const jy = await loadJobyard();

let opts = null; // { connectionString, variant, concurrency }
let store = null;
let runtime = null;
let monitor = null; // pg.Client or better-sqlite3 Database for pending()
let failures = 0;

/** What a variant means: backend and prefetch. Throws on an unknown variant. */
function parseVariant(variant, concurrency) {
  let m;
  if (variant === 'default') return { backend: 'postgres', prefetch: Math.max(concurrency, 500), prefetchIsDefault: true };
  if (variant === 'sqlite') return { backend: 'sqlite', prefetch: Math.max(concurrency, 500), prefetchIsDefault: true };
  if ((m = /^(sqlite-)?prefetch([1-9]\d*)$/.exec(variant))) {
    return { backend: m[1] ? 'sqlite' : 'postgres', prefetch: Number(m[2]), prefetchIsDefault: false };
  }
  throw new Error(`jobyard adapter: unknown variant "${variant}" (default | prefetch<N> | sqlite | sqlite-prefetch<N>)`);
}

function sqliteFile() {
  return join(process.env.JOBYARD_BENCH_SQLITE_DIR ?? join(tmpdir(), 'jobyard-bench-peers'), 'queue.db');
}

function databaseUrl() {
  const { backend } = parseVariant(opts.variant, opts.concurrency);
  return backend === 'sqlite' ? `sqlite:${sqliteFile()}` : opts.connectionString;
}

function poolEnv() {
  return { DB_POOL_SIZE: String(Math.max(10, opts.concurrency + 2)), DB_MAX_OVERFLOW: '0' };
}

async function open() {
  store = jy.openDatabase(databaseUrl(), { env: poolEnv(), applicationName: 'jobyard-bench' });
}

async function openMonitor() {
  const { backend } = parseVariant(opts.variant, opts.concurrency);
  if (backend === 'sqlite') {
    monitor = new BetterSqlite3(sqliteFile(), { readonly: true, fileMustExist: true });
    monitor.pragma('busy_timeout = 15000');
    const stmt = monitor.prepare(`select count(*) as n from ${WORK_TABLE} where status in ('queued', 'running')`);
    monitor.pendingCount = () => stmt.get().n;
  } else {
    monitor = new pg.Client({ connectionString: opts.connectionString, application_name: 'jobyard-bench-monitor' });
    await monitor.connect();
    monitor.pendingCount = async () =>
      (await monitor.query(`select count(*)::int as n from ${WORK_TABLE} where status in ('queued', 'running')`)).rows[0].n;
  }
}

export async function reset(options) {
  opts = options;
  parseVariant(options.variant, options.concurrency); // validates before touching the database
  await open();
  await resetSchema(jy, store);
  await openMonitor();
}

/** Worker-only process on a queue another process reset and filled (multi-process and crash tests). */
export async function attach(options) {
  opts = options;
  parseVariant(options.variant, options.concurrency);
  await open();
  await openMonitor();
}

function jobyardVersion() {
  try {
    return JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;
  } catch {
    return null;
  }
}

export function describe() {
  const v = parseVariant(opts.variant, opts.concurrency);
  return {
    name: 'jobyard',
    version: jobyardVersion(),
    settings: {
      variant: opts.variant,
      backend: v.backend,
      database: v.backend === 'sqlite' ? `sqlite:${sqliteFile()} (WAL, synchronous=NORMAL)` : 'connectionString',
      concurrency: opts.concurrency,
      prefetch: v.prefetch,
      prefetch_source: v.prefetchIsDefault ? 'runQueue default (max(C, 500))' : 'variant',
      pool: v.backend === 'sqlite' ? 'one SQLite connection (plus one read-only for pending())' : poolEnv(),
      shared_store: 'producer and consumer share one Store (in-process wake-ups; LISTEN connection on PostgreSQL)',
      lease_seconds: 60,
      heartbeat_seconds: 15,
      poll_interval_ms: 1000,
      enqueue: 'enqueueWorkItems (bulk, 500 rows per INSERT) / enqueueWorkItem',
    },
  };
}

export async function enqueueMany(payloads) {
  await jy.enqueueWorkItems(store, payloads.map((payload) => ({ kind: KIND, siteId: null, payload })));
}

export async function enqueueOne(payload) {
  await jy.enqueueWorkItem(store, { kind: KIND, siteId: null, payload });
}

export async function startWorkers({ concurrency, onJob }) {
  const { prefetch } = parseVariant(opts.variant, concurrency);
  runtime = jy.runQueue({
    store,
    handlers: {
      [KIND]: async ({ payload }) => {
        await onJob(payload);
      },
    },
    siteId: null,
    concurrency,
    prefetch,
    onItemSettled: (item, outcome, error) => {
      if (outcome !== 'completed') {
        failures++;
        if (failures <= 5) console.error(`[jobyard] item ${item.id} settled ${outcome}${error ? `: ${error}` : ''}`);
      }
    },
  });
}

/** Items not yet durably completed: queued, or claimed/running under a lease. */
export async function pending() {
  return monitor.pendingCount();
}

export async function stop() {
  if (runtime) await runtime.stop();
  if (store) await store.close();
  if (monitor) await (monitor instanceof pg.Client ? monitor.end() : monitor.close());
  runtime = store = monitor = null;
}

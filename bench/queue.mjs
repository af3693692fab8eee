// jobyard queue benchmark: enqueue rate, drain throughput, enqueue→start latency (same process and
// cross-process) on SQLite and PostgreSQL. Prints one JSON object per line on stdout and nothing
// else; progress goes to stderr. `npm run bench:queue` builds first (this script imports ../dist).
//
//   node bench/queue.mjs [--jobs N] [--backends sqlite,postgres] [--quick]
//                        [--metrics enqueue,drain,latency,xproc] [--latency-jobs M] [--xproc-jobs K]
//                        [--concurrency 10,50] [--pg-url postgres://postgres@127.0.0.1:5432/bench]
//
// Every measurement starts from empty tables: jobyard's tables are dropped and recreated
// (migrateDown all + migrateToLatest) first. SQLite uses a fresh file in a temp folder (WAL,
// synchronous=NORMAL, as jobyard opens it); PostgreSQL the `bench` database, with CHECKPOINT after
// the untimed set-up so earlier WAL is not flushed inside the timed part. PostgreSQL pools are sized
// like the shared peer harness: DB_POOL_SIZE = max(10, C + 2), DB_MAX_OVERFLOW = 0.
// Items are of kind "bench_noop", site_id NULL, claimed with siteId: null; handlers are no-ops.
//
// Metrics (one line each):
//   enqueue  N items through enqueueWorkItems, 1000 per call, one call at a time: items/s.
//   drain    N pre-enqueued items, runQueue with concurrency C and prefetch P (runQueue's default
//            P = max(C, 500), and P = 500) in this process; clock from just before runQueue to the moment
//            onItemSettled has reported N durable completions; then the table is checked to hold 0
//            items with status queued/running.
//   latency  M items (2000) enqueued one at a time with enqueueWorkItem, each awaited, paced at
//            200/s, to idle consumers (C = 10) in this process: handler start − just before the
//            enqueue call (performance.now()).
//   xproc    K items (500) paced at 100/s from this process to a consumer (C = 10) in a child
//            process (`node bench/queue.mjs --child`), which reports handler start as
//            performance.timeOrigin + performance.now(); the parent takes the same clock just before
//            each enqueue call. SQLite: the child sees other processes' commits through
//            a watch on the database folder + PRAGMA data_version; PostgreSQL: LISTEN/NOTIFY from the insert trigger.
//            The clock offset between the processes is estimated (ping with the least round trip)
//            and reported; latencies are not corrected for it.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import {
  loadJobyard, resetSchema, freshSqliteFile, latencySummary, machineFacts, machineCpuTicks, busyPercent,
  round, sleep, WORK_TABLE, ensurePostgresDatabase,
} from './lib.mjs';

const KIND = 'bench_noop';
const DEFAULT_PG_URL = 'postgres://postgres@127.0.0.1:5432/bench';
const jy = await loadJobyard();
const now = () => performance.now();
const wallNow = () => performance.timeOrigin + performance.now();
const log = (...args) => console.error('[bench:queue]', ...args);

// ---------------------------------------------------------------------------------------------
// Options

function parseOptions(argv) {
  const opt = {
    jobs: 20000, backends: 'sqlite,postgres', quick: false, metrics: 'enqueue,drain,latency,xproc',
    'latency-jobs': 2000, 'latency-rate': 200, 'xproc-jobs': 500, 'xproc-rate': 100, concurrency: '10,50',
    prefetch: 'default,500', 'pg-url': process.env.BENCH_DATABASE_URL ?? DEFAULT_PG_URL, 'claims-in-flight': 1,
  };
  const numeric = new Set(['jobs', 'latency-jobs', 'latency-rate', 'xproc-jobs', 'xproc-rate', 'claims-in-flight']);
  const given = new Set();
  for (let i = 0; i < argv.length; i++) {
    let [name, value] = argv[i].replace(/^--/, '').split(/=(.*)/s, 2);
    if (!argv[i].startsWith('--') || !(name in opt)) {
      throw new Error(`unknown argument "${argv[i]}"; options: ${Object.keys(opt).map((k) => '--' + k).join(' ')}`);
    }
    if (name === 'quick') {
      opt.quick = value === undefined || value !== 'false';
      continue;
    }
    if (value === undefined) value = argv[++i];
    if (value === undefined) throw new Error(`--${name} needs a value`);
    if (numeric.has(name)) {
      const n = Number(value);
      // Rates may be fractional (0.1/s = one item every 10 s: wake-ups after long quiet periods).
      if (name.endsWith('-rate')) {
        if (!(n > 0)) throw new Error(`--${name} must be a positive number`);
      } else if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`);
      opt[name] = n;
    } else opt[name] = value;
    given.add(name);
  }
  if (opt.quick) {
    // Smoke test: small counts, faster pacing; explicit options still win.
    if (!given.has('jobs')) opt.jobs = 2000;
    if (!given.has('latency-jobs')) opt['latency-jobs'] = 200;
    if (!given.has('xproc-jobs')) opt['xproc-jobs'] = 100;
  }
  opt.backendList = opt.backends.split(',').map((s) => s.trim()).filter(Boolean);
  for (const b of opt.backendList) if (!['sqlite', 'postgres'].includes(b)) throw new Error(`unknown backend "${b}"`);
  opt.metricList = opt.metrics.split(',').map((s) => s.trim()).filter(Boolean);
  for (const m of opt.metricList) {
    if (!['enqueue', 'drain', 'latency', 'xproc'].includes(m)) throw new Error(`unknown metric "${m}"`);
  }
  opt.concurrencyList = opt.concurrency.split(',').map(Number);
  if (!opt.concurrencyList.every((c) => Number.isInteger(c) && c >= 1)) throw new Error('--concurrency: positive integers');
  opt.prefetchList = opt.prefetch.split(',').map((p) => (p.trim() === 'default' ? 'default' : Number(p)));
  if (!opt.prefetchList.every((p) => p === 'default' || (Number.isInteger(p) && p >= 0))) {
    throw new Error('--prefetch: "default" or non-negative integers');
  }
  return opt;
}

// ---------------------------------------------------------------------------------------------
// Environment

let machine;
let tempDir;
let pgFacts = null;

function poolEnv(concurrency) {
  return { DB_POOL_SIZE: String(Math.max(10, concurrency + 2)), DB_MAX_OVERFLOW: '0' };
}

/** A database URL for one measurement: a fresh SQLite file, or the PostgreSQL database. */
function urlFor(backend, opt, label) {
  if (backend === 'sqlite') return `sqlite:${freshSqliteFile(tempDir, `${label}.db`)}`;
  return opt['pg-url'];
}

/** Opens the store and empties jobyard's tables (drop + migrate), then CHECKPOINTs on PostgreSQL. */
async function openFresh(url, concurrency) {
  const store = jy.openDatabase(url, { env: poolEnv(concurrency), applicationName: 'jobyard-bench' });
  await resetSchema(jy, store);
  return store;
}

async function pgQuery(url, text) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text)).rows;
  } finally {
    await client.end();
  }
}

async function checkpoint(store) {
  if (store.target.backend !== 'postgres') return false;
  try {
    await pgQuery(store.target.connectionString, 'checkpoint');
    return true;
  } catch {
    return false;
  }
}

async function postgresFacts(url) {
  const names = ['server_version', 'shared_buffers', 'synchronous_commit', 'fsync', 'full_page_writes', 'wal_level', 'max_connections', 'checkpoint_timeout', 'max_wal_size'];
  const rows = await pgQuery(url, `select name, current_setting(name) as shown from pg_settings where name in (${names.map((n) => `'${n}'`).join(',')})`);
  const facts = {};
  for (const n of names) facts[n] = rows.find((r) => r.name === n)?.shown ?? null;
  return facts;
}

let clockTicks = 100;
/** CPU seconds of all local `postgres` processes so far (from /proc), or null. */
function postgresCpuSeconds(backend) {
  if (backend !== 'postgres' || !existsSync('/proc/self/stat')) return null;
  let ticks = 0, seen = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    let stat;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue;
    }
    const close = stat.lastIndexOf(')');
    if (stat.slice(stat.indexOf('(') + 1, close) !== 'postgres') continue;
    const f = stat.slice(close + 2).split(' ');
    ticks += Number(f[11]) + Number(f[12]);
    seen++;
  }
  return seen ? ticks / clockTicks : null;
}

/**
 * CPU ticks of this store's own server backends (this database, application_name jobyard-bench),
 * by pid: unlike postgresCpuSeconds, not polluted by other work on the same server.
 */
async function storeBackendTicks(store) {
  if (store.target.backend !== 'postgres' || !existsSync('/proc/self/stat')) return null;
  const rows = await pgQuery(store.target.connectionString,
    `select pid from pg_stat_activity where datname = current_database() and application_name = 'jobyard-bench'`);
  const ticks = new Map();
  for (const { pid } of rows) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks.set(pid, Number(f[11]) + Number(f[12]));
    } catch {
      // not on this host (remote server) or gone
    }
  }
  return ticks;
}

/** Seconds of server CPU between two storeBackendTicks (a backend opened in between counts from 0). */
function backendCpuSeconds(before, after) {
  if (!before || !after || after.size === 0) return null;
  let ticks = 0;
  for (const [pid, t] of after) ticks += t - (before.get(pid) ?? 0);
  return ticks / clockTicks;
}

async function pendingCount(store) {
  const r = await store.db
    .selectFrom(WORK_TABLE)
    .select((eb) => eb.fn.countAll().as('n'))
    .where('status', 'in', ['queued', 'running'])
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

async function busyBefore() {
  const a = machineCpuTicks();
  await sleep(500);
  return busyPercent(a, machineCpuTicks());
}

function emit(backend, metric, params, results, extra = {}) {
  const line = {
    bench: 'jobyard-queue', backend, metric, params, ...results, ...extra,
    ...(backend === 'postgres' ? { postgres: pgFacts } : {}),
    machine, at: new Date().toISOString(),
  };
  process.stdout.write(JSON.stringify(line) + '\n');
}

const payloadsFor = (k, from, to) => {
  const out = [];
  for (let i = from; i < to; i++) out.push({ kind: KIND, siteId: null, payload: { k, i } });
  return out;
};

async function enqueueAll(store, n, batch = 1000) {
  for (let start = 0; start < n; start += batch) {
    await jy.enqueueWorkItems(store, payloadsFor('d', start, Math.min(n, start + batch)));
  }
}

function within(promise, seconds, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${seconds} s`)), seconds * 1000);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// ---------------------------------------------------------------------------------------------
// Measurements

async function measureEnqueue(backend, opt) {
  const N = opt.jobs, batch = 1000;
  const store = await openFresh(urlFor(backend, opt, 'enqueue'), 10);
  try {
    await checkpoint(store);
    const busy = await busyBefore();
    const backends0 = await storeBackendTicks(store);
    const pgCpu0 = postgresCpuSeconds(backend);
    const cpu0 = process.cpuUsage();
    const t0 = now();
    await enqueueAll(store, N, batch);
    const s = (now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const pgCpu1 = postgresCpuSeconds(backend);
    const backendCpu = backendCpuSeconds(backends0, await storeBackendTicks(store));
    const pending = await pendingCount(store);
    if (pending !== N) throw new Error(`enqueue: expected ${N} queued items, found ${pending}`);
    // CPU per 1,000 items: comparable on a loaded machine, where items/s is not.
    emit(backend, 'enqueue', { items: N, batch }, {
      items_per_s: Math.round(N / s), seconds: round(s, 3),
      node_cpu_ms_per_1000: round((cpu.user + cpu.system) / 1e3 / (N / 1000), 2),
      // all local postgres processes (WAL writer, checkpointer… and anyone else's work) / this store's backends only
      postgres_cpu_ms_per_1000: pgCpu0 == null || pgCpu1 == null ? null : round(((pgCpu1 - pgCpu0) * 1000) / (N / 1000), 2),
      backend_cpu_ms_per_1000: backendCpu == null ? null : round((backendCpu * 1000) / (N / 1000), 2),
    }, { cpu_busy_pct_before: busy });
  } finally {
    await store.close();
  }
}

async function measureDrain(backend, opt, concurrency, prefetch) {
  const N = opt.jobs;
  const store = await openFresh(urlFor(backend, opt, `drain-c${concurrency}-p${prefetch}`), concurrency);
  let runtime;
  try {
    await enqueueAll(store, N);
    await checkpoint(store);
    const busy = await busyBefore();
    const seen = new Uint8Array(N);
    let started = 0, duplicates = 0, completed = 0, other = 0, lastStart = 0;
    let claimCalls = 0, emptyClaims = 0, maxBatch = 0, maxHeld = 0;
    let resolveDone;
    const done = new Promise((r) => (resolveDone = r));
    const cpu0 = process.cpuUsage();
    const pgCpu0 = postgresCpuSeconds(backend);
    const machine0 = machineCpuTicks();
    const t0 = now();
    runtime = jy.runQueue({
      store,
      handlers: {
        [KIND]: async ({ payload }) => {
          const i = payload.i;
          if (seen[i]) duplicates++;
          else {
            seen[i] = 1;
            started++;
            lastStart = now();
          }
        },
      },
      siteId: null,
      concurrency,
      ...(prefetch === 'default' ? {} : { prefetch }),
      claimsInFlight: opt['claims-in-flight'],
      onClaim: (items) => {
        claimCalls++;
        if (items.length === 0) emptyClaims++;
        if (items.length > maxBatch) maxBatch = items.length;
        // Claimed and not yet settled, with this claim's items (they are taken over after onClaim).
        maxHeld = Math.max(maxHeld, (runtime?.stats().held ?? 0) + items.length);
      },
      onItemSettled: (_item, outcome) => {
        if (outcome === 'completed') {
          if (++completed === N) resolveDone();
        } else other++;
      },
    });
    await within(done, 600, `drain of ${N} items`);
    const tDurable = now();
    const cpu = process.cpuUsage(cpu0);
    const pgCpu1 = postgresCpuSeconds(backend);
    const machineBusy = busyPercent(machine0, machineCpuTicks());
    const pending = await pendingCount(store);
    const tConfirmed = now();
    if (pending !== 0) throw new Error(`drain: ${pending} items still pending after ${N} durable completions`);
    const s = (tDurable - t0) / 1000;
    emit(
      backend, 'drain',
      { items: N, concurrency, prefetch: prefetch === 'default' ? Math.max(concurrency, 500) : prefetch, prefetch_source: prefetch === 'default' ? 'runQueue default (max(C, 500))' : 'explicit', pool: backend === 'postgres' ? poolEnv(concurrency) : null },
      {
        items_per_s: Math.round(N / s), seconds: round(s, 3),
        last_handler_start_s: round((lastStart - t0) / 1000, 3),
        pending_after: pending, pending_check_ms: round(tConfirmed - tDurable, 1),
        handler_starts: started, duplicates, not_completed: other,
        claim_statements: claimCalls, empty_claims: emptyClaims,
        mean_claim_batch: round(N / Math.max(1, claimCalls - emptyClaims), 1), max_claim_batch: maxBatch, max_held: maxHeld,
        node_cpu_s: round((cpu.user + cpu.system) / 1e6, 2),
        postgres_cpu_s: pgCpu0 == null || pgCpu1 == null ? null : round(pgCpu1 - pgCpu0, 2),
        machine_cpu_busy_pct: machineBusy,
      },
      { cpu_busy_pct_before: busy },
    );
  } finally {
    await runtime?.stop();
    await store.close();
  }
}

/** Enqueues `count` items one at a time at `rate`/s; returns the send times (clock()) and call times. */
async function pacedEnqueue(store, count, rate, clock) {
  const sent = new Float64Array(count), callMs = new Float64Array(count);
  const gap = 1000 / rate;
  const start = now();
  for (let i = 0; i < count; i++) {
    const wait = start + i * gap - now();
    if (wait > 1) await sleep(wait);
    const t = now();
    sent[i] = clock();
    await jy.enqueueWorkItem(store, { kind: KIND, siteId: null, payload: { k: 'l', i } });
    callMs[i] = now() - t;
  }
  return { sent, callMs, achievedRate: Math.round(count / ((now() - start) / 1000)) };
}

async function measureLatency(backend, opt) {
  const M = opt['latency-jobs'], rate = opt['latency-rate'], concurrency = 10;
  const store = await openFresh(urlFor(backend, opt, 'latency'), concurrency);
  let runtime;
  try {
    await checkpoint(store);
    const startedAt = new Float64Array(M);
    let seenCount = 0, duplicates = 0;
    let resolveAll;
    const all = new Promise((r) => (resolveAll = r));
    let claimCalls = 0, emptyClaims = 0;
    runtime = jy.runQueue({
      store,
      onClaim: (items) => {
        claimCalls++;
        if (items.length === 0) emptyClaims++;
      },
      handlers: {
        [KIND]: async ({ payload }) => {
          const t = now();
          if (startedAt[payload.i]) duplicates++;
          else {
            startedAt[payload.i] = t;
            if (++seenCount === M) resolveAll();
          }
        },
      },
      siteId: null,
      concurrency,
    });
    await sleep(1000); // idle consumers (and, on PostgreSQL, the LISTEN connection up)
    const busy = await busyBefore();
    const claims0 = claimCalls, empty0 = emptyClaims;
    const { sent, callMs, achievedRate } = await pacedEnqueue(store, M, rate, now);
    await within(all, 30, `start of ${M} latency items`);
    const lat = Array.from(startedAt, (s, i) => s - sent[i]);
    emit(
      backend, 'latency',
      { items: M, target_rate_per_s: rate, concurrency, prefetch: concurrency, consumer: 'same process, same Store' },
      {
        latency_ms: latencySummary(lat), achieved_rate_per_s: achievedRate, enqueue_one_ms: latencySummary(callMs), duplicates,
        claim_statements: claimCalls - claims0, empty_claims: emptyClaims - empty0,
      },
      { cpu_busy_pct_before: busy },
    );
  } finally {
    await runtime?.stop();
    await store.close();
  }
}

async function measureCrossProcess(backend, opt) {
  const K = opt['xproc-jobs'], rate = opt['xproc-rate'], concurrency = 10;
  const url = urlFor(backend, opt, 'xproc');
  const store = await openFresh(url, concurrency);
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--child', JSON.stringify({ url, concurrency })], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
  const startedAt = new Float64Array(K);
  let seenCount = 0, duplicates = 0;
  let resolveAll, resolveReady, pong;
  const all = new Promise((r) => (resolveAll = r));
  const ready = new Promise((r) => (resolveReady = r));
  createInterface({ input: child.stdout }).on('line', (line) => {
    const [tag, a, b] = line.split(' ');
    if (tag === 'S') {
      const i = Number(a);
      if (startedAt[i]) duplicates++;
      else {
        startedAt[i] = Number(b);
        if (++seenCount === K) resolveAll();
      }
    } else if (tag === 'P') pong?.(Number(a));
    else if (tag === 'READY') resolveReady();
  });
  const ask = (cmd) => child.stdin.write(cmd + '\n');
  try {
    await within(Promise.race([ready, exited.then(() => Promise.reject(new Error('child exited')))]), 30, 'child start');
    await checkpoint(store);
    await sleep(1000); // consumer idle; LISTEN connection up on PostgreSQL
    // Clock offset child − parent: the ping with the shortest round trip bounds it best.
    let best = { rtt: Infinity, offset: null };
    for (let k = 0; k < 50; k++) {
      const reply = new Promise((r) => (pong = r));
      const a = wallNow();
      ask('ping');
      const c = await reply;
      const b = wallNow();
      if (b - a < best.rtt) best = { rtt: b - a, offset: c - (a + b) / 2 };
    }
    const busy = await busyBefore();
    const { sent, callMs, achievedRate } = await pacedEnqueue(store, K, rate, wallNow);
    await within(all, 30, `start of ${K} cross-process items`);
    const lat = Array.from(startedAt, (s, i) => s - sent[i]);
    // Let the child's completions commit, then check nothing is left.
    let pending = -1;
    for (let k = 0; k < 200 && pending !== 0; k++) {
      pending = await pendingCount(store);
      if (pending) await sleep(10);
    }
    emit(
      backend, 'xproc_latency',
      {
        items: K, target_rate_per_s: rate, concurrency, prefetch: concurrency,
        consumer: 'child process (own Store)',
        wakeup: backend === 'sqlite' ? 'database folder watch + PRAGMA data_version check (poll as safety net)' : 'LISTEN/NOTIFY (insert trigger)',
      },
      {
        latency_ms: latencySummary(lat), achieved_rate_per_s: achievedRate, enqueue_one_ms: latencySummary(callMs),
        clock_offset_ms: round(best.offset, 3), clock_ping_rtt_ms: round(best.rtt, 3), pending_after: pending, duplicates,
      },
      { cpu_busy_pct_before: busy },
    );
  } finally {
    ask('stop');
    child.stdin.end();
    const ended = await Promise.race([exited, sleep(20000).then(() => null)]);
    if (!ended) child.kill('SIGKILL');
    await store.close();
  }
}

/** The cross-process consumer: runs the queue, reports handler starts, answers clock pings. */
async function childMain({ url, concurrency }) {
  const store = jy.openDatabase(url, { env: poolEnv(concurrency), applicationName: 'jobyard-bench-child' });
  const runtime = jy.runQueue({
    store,
    handlers: {
      [KIND]: async ({ payload }) => {
        const t = wallNow();
        process.stdout.write(`S ${payload.i} ${t}\n`);
      },
    },
    siteId: null,
    concurrency,
  });
  const rl = createInterface({ input: process.stdin });
  rl.on('line', async (line) => {
    if (line === 'ping') process.stdout.write(`P ${wallNow()}\n`);
    else if (line === 'stop') {
      rl.close();
      await runtime.stop();
      await store.close();
      process.exit(0);
    }
  });
  process.stdout.write('READY\n');
}

// ---------------------------------------------------------------------------------------------

async function main() {
  let opt;
  try {
    opt = parseOptions(process.argv.slice(2));
  } catch (err) {
    console.error(err.message);
    process.exit(2);
  }
  machine = machineFacts();
  try {
    clockTicks = Number((await import('node:child_process')).execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {}
  tempDir = mkdtempSync(join(tmpdir(), 'jobyard-bench-'));
  let failures = 0;
  try {
    for (const backend of opt.backendList) {
      if (backend === 'postgres') {
        try {
          await ensurePostgresDatabase(opt['pg-url']);
          pgFacts = await postgresFacts(opt['pg-url']);
        } catch (err) {
          log(`postgres: cannot connect to ${opt['pg-url']}: ${err.message}; skipping`);
          failures++;
          continue;
        }
      }
      const steps = [];
      if (opt.metricList.includes('enqueue')) steps.push(['enqueue', 'enqueue', () => measureEnqueue(backend, opt)]);
      if (opt.metricList.includes('drain')) {
        for (const c of opt.concurrencyList) {
          for (const p of opt.prefetchList) steps.push([`drain C=${c} prefetch=${p}`, 'drain', () => measureDrain(backend, opt, c, p)]);
        }
      }
      if (opt.metricList.includes('latency')) steps.push(['latency', 'latency', () => measureLatency(backend, opt)]);
      if (opt.metricList.includes('xproc')) steps.push(['cross-process latency', 'xproc_latency', () => measureCrossProcess(backend, opt)]);
      for (const [what, metric, run] of steps) {
        log(`${backend}: ${what} ...`);
        const t = now();
        try {
          await run();
          log(`${backend}: ${what} done in ${((now() - t) / 1000).toFixed(1)} s`);
        } catch (err) {
          failures++;
          log(`${backend}: ${what} FAILED: ${err.stack ?? err.message}`);
          emit(backend, metric, { step: what }, { error: err.message });
        }
      }
    }
  } finally {
    rmSync(tempDir, { recursive: true, force: true });
  }
  process.exit(failures ? 1 : 0);
}

if (process.argv[2] === '--child') {
  await childMain(JSON.parse(process.argv[3]));
} else {
  await main();
}

// The floor: the fastest drain the queue's guarantees allow on this machine, to say how much of
// jobyard's drain cost is its own. Prints one JSON object per line on stdout; progress on stderr.
// `npm run bench:floor` builds first (the jobyard drain and the schema come from ../dist).
//
//   node bench/floor.mjs [--jobs N] [--backends sqlite,postgres] [--concurrency 10,50] [--reps R]
//                        [--pg-url postgres://postgres@127.0.0.1:5432/bench] [--floor-only] [--pg-loops 2,4]
//
// The floor consumer drains the same table (jobyard's migrations, N no-op items enqueued by
// enqueueWorkItems, untimed) with no runtime around two hand-written statements per batch:
//   claim     one UPDATE … WHERE id IN (the first B queued, due items in claim order; FOR UPDATE
//             SKIP LOCKED on PostgreSQL; lane 'default', as jobyard's lane claims) setting status, lease owner and expiry, heartbeat,
//             attempt and claim counts — RETURNING what a handler needs (id, claim_count, kind,
//             payload_json);
//   complete  one UPDATE joined on (id, claim_count) pairs, fenced on owner, claim and status
//             'running', so a late completion of a lost lease changes nothing.
// On SQLite the due-by filter is written +available_at, as jobyard's claim writes it: SQLite plans
// without statistics and would otherwise range-scan the (status, available_at) index and sort every
// due item on each claim instead of reading the claim index in order.
// B = C + max(C, 500), the batch jobyard's lane claims with its default prefetch. "Handlers" are
// no-ops (the rows are only counted). SQLite: one loop, prepared statements on better-sqlite3
// (synchronous; nothing to overlap). PostgreSQL: L loops on their own connections (each claim →
// complete → claim), so claims overlap each other and the completions as jobyard's do; the floor
// is the fastest of the loop counts in --pg-loops (default 2,4), reported with its count.
// Both are checked: every item succeeded, each claimed exactly once (claim_count = 1).
//
// Each repetition runs the floor and then jobyard's own drain (`bench/queue.mjs --metrics drain`,
// default prefetch, in a child process) under the same conditions, and reports jobyard/floor.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { loadJobyard, resetSchema, freshSqliteFile, machineFacts, round, WORK_TABLE, ensurePostgresDatabase } from './lib.mjs';

const KIND = 'bench_noop';
const jy = await loadJobyard();
const log = (...args) => console.error('[bench:floor]', ...args);

function parseOptions(argv) {
  const opt = { jobs: 20000, backends: 'sqlite,postgres', concurrency: '10,50', reps: 1, 'floor-only': false, 'pg-loops': '2,4',
    'pg-url': process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/bench' };
  for (let i = 0; i < argv.length; i++) {
    const [name, inline] = argv[i].replace(/^--/, '').split(/=(.*)/s, 2);
    if (!argv[i].startsWith('--') || !(name in opt)) throw new Error(`unknown argument "${argv[i]}"; options: ${Object.keys(opt).map((k) => '--' + k).join(' ')}`);
    if (name === 'floor-only') { opt[name] = true; continue; }
    const value = inline ?? argv[++i];
    if (value === undefined) throw new Error(`--${name} needs a value`);
    opt[name] = name === 'jobs' || name === 'reps' ? Number(value) : value;
    if ((name === 'jobs' || name === 'reps') && !(Number.isInteger(opt[name]) && opt[name] >= 1)) throw new Error(`--${name} must be a positive integer`);
  }
  opt.backendList = opt.backends.split(',');
  if (!opt.backendList.every((b) => b === 'sqlite' || b === 'postgres')) throw new Error('--backends: sqlite and/or postgres');
  opt.concurrencyList = opt.concurrency.split(',').map(Number);
  opt.pgLoops = opt['pg-loops'].split(',').map(Number);
  if (!opt.pgLoops.every((l) => Number.isInteger(l) && l >= 1)) throw new Error('--pg-loops: positive integers');
  if (!opt.concurrencyList.every((c) => Number.isInteger(c) && c >= 1)) throw new Error('--concurrency: positive integers');
  return opt;
}

const LEASE_MS = 60_000;
const OWNER = 'floor-consumer';

const SQLITE_CLAIM = `
  update ${WORK_TABLE} set status = 'running', lease_owner = ?, lease_expires_at = ?, heartbeat_at = ?, started_at = ?,
    attempt_count = attempt_count + 1, claim_count = claim_count + 1, updated_at = ?
  where id in (select id from ${WORK_TABLE} where status = 'queued' and site_id is null and lane = 'default' and +available_at <= ?
               order by priority desc, available_at, id limit ?)
  returning id, claim_count, kind, payload_json`;
const SQLITE_COMPLETE = `
  update ${WORK_TABLE} as w set status = 'succeeded', finished_at = ?, updated_at = ?, lease_expires_at = null
  from (select json_extract(value, '$[0]') as id, json_extract(value, '$[1]') as claim from json_each(?) limit -1) as v
  where w.id = v.id and w.claim_count = v.claim and w.lease_owner = ? and w.status = 'running'`;

const PG_CLAIM = `
  with candidates as (select id from ${WORK_TABLE} where status = 'queued' and site_id is null and lane = 'default' and available_at <= $1
                      order by priority desc, available_at, id limit $2 for update skip locked)
  update ${WORK_TABLE} set status = 'running', lease_owner = $3, lease_expires_at = $4, heartbeat_at = $1, started_at = $1,
    attempt_count = attempt_count + 1, claim_count = claim_count + 1, updated_at = $1
  where id = any(array(select id from candidates))
  returning id, claim_count, kind, payload_json`;
const PG_COMPLETE = `
  update ${WORK_TABLE} as w set status = 'succeeded', finished_at = $1, updated_at = $1, lease_expires_at = null
  from unnest($2::bigint[], $3::integer[]) as v(id, claim)
  where w.id = v.id and w.claim_count = v.claim and w.lease_owner = $4 and w.status = 'running'`;

async function floorSqlite(file, batch) {
  const Database = createRequire(import.meta.url)('better-sqlite3');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  const claim = db.prepare(SQLITE_CLAIM);
  const complete = db.prepare(SQLITE_COMPLETE);
  let done = 0;
  const t0 = performance.now();
  for (;;) {
    const now = Date.now();
    const rows = claim.all(OWNER, now + LEASE_MS, now, now, now, now, batch);
    if (rows.length === 0) break;
    done += complete.run(Date.now(), Date.now(), JSON.stringify(rows.map((r) => [r.id, r.claim_count])), OWNER).changes;
  }
  const seconds = (performance.now() - t0) / 1000;
  db.close();
  return { done, seconds };
}

async function floorPostgres(url, batch, loops = 2) {
  const clients = await Promise.all(Array.from({ length: loops }, async () => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    return c;
  }));
  let done = 0;
  const t0 = performance.now();
  await Promise.all(clients.map(async (c) => {
    for (;;) {
      const now = Date.now();
      const { rows } = await c.query({ name: 'floor_claim', text: PG_CLAIM, values: [now, batch, OWNER, now + LEASE_MS] });
      if (rows.length === 0) break;
      const r = await c.query({ name: 'floor_complete', text: PG_COMPLETE,
        values: [Date.now(), rows.map((x) => x.id), rows.map((x) => x.claim_count), OWNER] });
      done += r.rowCount;
    }
  }));
  const seconds = (performance.now() - t0) / 1000;
  await Promise.all(clients.map((c) => c.end()));
  return { done, seconds };
}

async function check(store, n) {
  const rows = await store.db.selectFrom(WORK_TABLE)
    .select((eb) => [eb.fn.countAll().as('n'), 'status', 'claim_count']).groupBy(['status', 'claim_count']).execute();
  const ok = rows.length === 1 && rows[0].status === 'succeeded' && Number(rows[0].claim_count) === 1 && Number(rows[0].n) === n;
  return ok ? null : rows.map((r) => `${r.status}/claim ${r.claim_count}: ${r.n}`).join(', ');
}

async function floorRun(backend, url, n, concurrency, loops) {
  const store = jy.openDatabase(url, { applicationName: 'jobyard-bench-floor' });
  try {
    await resetSchema(jy, store);
    for (let i = 0; i < n; i += 1000) {
      const items = [];
      for (let j = i; j < Math.min(n, i + 1000); j++) items.push({ kind: KIND, siteId: null, payload: { k: 'd', i: j } });
      await jy.enqueueWorkItems(store, items);
    }
    if (backend === 'postgres') {
      // As bench/queue.mjs does: earlier WAL is not flushed inside the timed part.
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.query('checkpoint').catch(() => {});
      await c.end();
    }
    const batch = concurrency + Math.max(concurrency, 500);
    const { done, seconds } = backend === 'sqlite' ? await floorSqlite(store.target.path, batch) : await floorPostgres(url, batch, loops);
    const problem = await check(store, n);
    if (problem !== null || done !== n) throw new Error(`floor drain left the table wrong: completed ${done} of ${n}; ${problem}`);
    return { items_per_s: Math.round(n / seconds), seconds: round(seconds, 3), batch, ...(backend === 'postgres' ? { loops } : {}) };
  } finally {
    await store.close();
  }
}

function jobyardDrain(backend, url, n, concurrency) {
  const script = fileURLToPath(new URL('./queue.mjs', import.meta.url));
  const args = [script, '--metrics', 'drain', '--prefetch', 'default', '--backends', backend, '--concurrency', String(concurrency), '--jobs', String(n)];
  if (backend === 'postgres') args.push('--pg-url', url);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`bench/queue.mjs exited with ${code}`));
      const line = out.trim().split('\n').map((l) => JSON.parse(l)).find((l) => l.metric === 'drain');
      if (!line) return reject(new Error('bench/queue.mjs printed no drain line'));
      resolve(line);
    });
  });
}

async function main() {
  const opt = parseOptions(process.argv.slice(2));
  const tempDir = mkdtempSync(join(tmpdir(), 'jobyard-floor-'));
  try {
    if (opt.backendList.includes('postgres')) await ensurePostgresDatabase(opt['pg-url']);
    for (let rep = 1; rep <= opt.reps; rep++) {
      for (const backend of opt.backendList) {
        for (const c of opt.concurrencyList) {
          const url = backend === 'sqlite' ? `sqlite:${freshSqliteFile(tempDir, 'floor.db')}` : opt['pg-url'];
          log(`${backend} C=${c} rep ${rep}: floor ...`);
          let floor = null;
          for (const loops of backend === 'postgres' ? opt.pgLoops : [1]) {
            const one = await floorRun(backend, url, opt.jobs, c, loops);
            if (floor === null || one.items_per_s > floor.items_per_s) floor = one;
          }
          let jobyard = null;
          if (!opt['floor-only']) {
            log(`${backend} C=${c} rep ${rep}: jobyard drain ...`);
            const line = await jobyardDrain(backend, opt['pg-url'], opt.jobs, c);
            jobyard = { items_per_s: line.items_per_s, duplicates: line.duplicates, mean_claim_batch: line.mean_claim_batch };
          }
          process.stdout.write(JSON.stringify({
            bench: 'jobyard-floor', backend, params: { items: opt.jobs, concurrency: c, rep },
            floor, jobyard, jobyard_over_floor: jobyard ? round(jobyard.items_per_s / floor.items_per_s, 2) : null,
            machine: machineFacts(), at: new Date().toISOString(),
          }) + '\n');
        }
      }
    }
  } finally {
    rmSync(tempDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(`bench:floor: ${err.message}`);
  process.exit(1);
});

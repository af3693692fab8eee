// npm run bench:remote — one occurrence of an `ssh` job over N targets against real OpenSSH
// servers in network namespaces (H hosts, so several connections per host), through the real
// scheduled_run executor (tick → claim → execute). Prints one JSON line per case:
//   targets_per_s             N / wall time of the occurrence (connect + auth + exec + records)
//   connect_exec_ms_p50/p95   per-target duration for one component (new connection each)
//   reuse_overhead_ms         extra time per additional component on the reused connection,
//                             minus the time of the same command run locally (the command itself)
//   parallelism               sum of per-target durations / wall time (targets running at once)
// and, with --sleep S (> 0), a parallel case: one component `sleep S` on every target, the remote
// command's start and end taken on the target (date +%s%N; the namespaces share the machine's
// clock):
//   concurrent_max            most targets whose remote command was running at the same instant
//   sleep_wall_ms             wall time of that occurrence; sleep_overhead_ms_per_target is
//                             (wall − S) × concurrency / N: what each target cost beyond its command
// Options: --targets 40 --hosts 2 --components 10 --concurrency 40 --sleep 0 --connect-timeout-ms 10000
//          --backends sqlite
// Needs root, iproute2, openssh-server (scripts/test-packages.sh).
import { execFile, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { openDatabase } from '../dist/src/db/open.js';
import { migrateToLatest } from '../dist/src/db/migrate.js';
import { MIGRATIONS } from '../dist/migrations/index.js';
import { toJson } from '../dist/src/db/dialect.js';
import { createDatabaseCredentialProvider, defaultExecutorConfig, executeScheduledRun } from '../dist/src/executors/index.js';
import { upsertDevice, assignDeviceToSite } from '../dist/src/inventory/devices.js';
import { createSite } from '../dist/src/inventory/sites.js';
import { claimWorkItems } from '../dist/src/queue/index.js';
import { tick } from '../dist/src/schedule/ticker.js';
import { silentLogger } from '../dist/src/log.js';
import { CredentialLock, unlockCredentials } from '../dist/src/credentials/index.js';
import { percentile, round } from './lib.mjs';

const run = promisify(execFile);
const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const N = Number(opt('targets', '40'));
const H = Number(opt('hosts', '2'));
const K = Number(opt('components', '10'));
const concurrency = Number(opt('concurrency', '40'));
const sleepS = Number(opt('sleep', '0'));
const connectTimeoutMs = Number(opt('connect-timeout-ms', '10000'));
const backends = opt('backends', 'sqlite').split(',');
const PG_URL = process.env.BENCH_REMOTE_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const tmp = mkdtempSync(join(os.tmpdir(), 'jy-bench-remote-'));
const user = `jyb${process.pid % 100000}`;
const password = `pw-${randomBytes(9).toString('base64url')}`;
const hosts = [];

async function setUp() {
  await run('useradd', ['-m', '-s', '/bin/sh', user]);
  await new Promise((resolve, reject) => {
    const c = execFile('chpasswd', [], (e) => (e ? reject(e) : resolve()));
    c.stdin.end(`${user}:${password}\n`);
  });
  spawnSync('mkdir', ['-p', '/run/sshd']);
  for (let h = 0; h < H; h++) {
    const ns = `jyb${process.pid}_${h}`;
    const slot = ((process.pid % 200) + h * 50) % 250;
    const gw = `10.232.${slot}.1`;
    const addr = `10.232.${slot}.2`;
    const out = `jyb${slot}o`;
    const inn = `jyb${slot}i`;
    const host = { ns, out, addr, child: null };
    hosts.push(host); // before anything is made, so tearDown removes what a failure left
    for (const a of [['netns', 'add', ns], ['link', 'add', out, 'type', 'veth', 'peer', 'name', inn], ['link', 'set', inn, 'netns', ns], ['addr', 'add', `${gw}/30`, 'dev', out], ['link', 'set', out, 'up'], ['-n', ns, 'addr', 'add', `${addr}/30`, 'dev', inn], ['-n', ns, 'link', 'set', inn, 'up'], ['-n', ns, 'link', 'set', 'lo', 'up']]) {
      await run('ip', a);
    }
    const key = join(tmp, `key${h}`);
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
    const config = join(tmp, `sshd${h}`);
    writeFileSync(config, [`ListenAddress ${addr}`, `HostKey ${key}`, `PidFile ${join(tmp, `pid${h}`)}`, 'UsePAM no', 'PasswordAuthentication yes', `AllowUsers ${user}`, 'MaxSessions 100', 'MaxStartups 200:30:400', 'StrictModes no', ''].join('\n'), { mode: 0o600 });
    const child = spawn('ip', ['netns', 'exec', ns, '/usr/sbin/sshd', '-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    await new Promise((resolve, reject) => {
      let log = '';
      child.stderr.on('data', (d) => {
        log += d;
        if (log.includes('Server listening')) resolve();
      });
      child.once('exit', () => reject(new Error(`sshd exited: ${log}`)));
    });
    child.stderr.resume();
    host.child = child;
  }
}

async function tearDown() {
  for (const h of hosts) {
    h.child?.kill('SIGTERM');
    await run('ip', ['link', 'del', h.out]).catch(() => {});
    await run('ip', ['netns', 'del', h.ns]).catch(() => {});
  }
  await run('pkill', ['-KILL', '-u', user]).catch(() => {});
  await run('userdel', ['-r', '-f', user]).catch(() => {});
  rmSync(tmp, { recursive: true, force: true });
}

async function occurrence(store, siteId, credId, components, at) {
  await store.db.updateTable('scheduled_jobs').set({ enabled: false, next_run_at: null }).execute();
  await store.db.updateTable('devices').set({ last_seen: at }).execute();
  await store.db
    .insertInto('scheduled_jobs')
    .values({ name: `bench-${at}`, components_json: toJson(components), targets_json: toJson({ sites: [siteId] }), schedule_type: 'every_hour', start_ts: at, next_run_at: at, created_at: at, updated_at: at, execution_context: 'ssh', credential_id: credId })
    .execute();
  await tick(store, { now: at });
  const [item] = await claimWorkItems(store, { owner: 'bench', siteId, limit: 1, leaseSeconds: 600, now: at + 1 });
  const ctx = {
    store,
    item,
    payload: item.payload_json,
    signal: new AbortController().signal,
    logger: silentLogger,
    credentials: createDatabaseCredentialProvider(store, credentialLock),
    config: { ...defaultExecutorConfig(), ssh: { siteConcurrency: concurrency, connectTimeoutMs } },
    workerGuid: 'bench',
    now: () => Date.now(),
  };
  const started = performance.now();
  const result = await executeScheduledRun(ctx);
  const wall = performance.now() - started;
  const rows = await store.db.selectFrom('scheduled_job_run_targets').select(['status', 'duration_ms', 'detail']).where('run_id', '=', item.run_id).execute();
  const bad = rows.filter((r) => r.status !== 'Success');
  if (bad.length > 0) throw new Error(`${bad.length} target(s) failed, e.g. ${bad[0].detail}`);
  const outputs = await store.db
    .selectFrom('scheduled_job_run_activity as a')
    .innerJoin('activity_history as h', 'h.id', 'a.activity_id')
    .select('h.stdout')
    .where('a.run_id', '=', item.run_id)
    .execute();
  return { result, wall, durations: rows.map((r) => r.duration_ms).sort((a, b) => a - b), stdouts: outputs.map((o) => o.stdout ?? '') };
}

/** Most intervals open at one instant (an end at t closes before a start at t opens). */
function maxOverlap(intervals) {
  const edges = intervals.flatMap(([a, b]) => [[a, 1], [b, -1]]).sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  let open = 0;
  let max = 0;
  for (const [, d] of edges) max = Math.max(max, (open += d));
  return max;
}

/** The benchmark process's credentials lock, unlocked once per backend's keyring. */
const credentialLock = new CredentialLock();

async function bench(backend) {
  const url = backend === 'sqlite' ? `sqlite:${join(tmp, 'bench.db')}` : PG_URL;
  const store = openDatabase(url, { applicationName: 'jobyard-bench-remote' });
  try {
    if (backend === 'postgres') await store.db.schema.dropSchema('bench_remote').ifExists().cascade().execute().catch(() => {});
    await migrateToLatest(store, MIGRATIONS);
    const at = 4_102_444_800_000 + Math.floor(Math.random() * 1e9);
    const site = await createSite(store, { name: `bench-${at}` }, at);
    for (let i = 0; i < N; i++) {
      const host = hosts[i % hosts.length];
      await upsertDevice(store, { guid: `bench-${at}-${i}`, hostname: `bench-${at}-${i}`, status: 'online', last_seen: at, connection_endpoint: host.addr }, at);
      await assignDeviceToSite(store, `bench-${at}-${i}`, site.id, at);
    }
    const cred = await store.db
      .insertInto('credentials')
      .values({ name: `bench-${at}`, username: user, password_encrypted: Buffer.from(password), created_at: at, updated_at: at })
      .returning('id')
      .executeTakeFirstOrThrow();
    // As `credentials add` leaves it: encrypted at rest, the keyring unlocked (a cheap KDF cost).
    const { key } = await unlockCredentials(store, "bench-remote-unlock-secret", { kdfCost: { N: 1024, r: 8, p: 1 } });
    credentialLock.unlock(key);
    const one = { kind: 'command', argv: ['true'], concurrency };
    await occurrence(store, site.id, cred.id, [one], at); // warm-up: pins host keys, warms caches
    const a = await occurrence(store, site.id, cred.id, [one], at + 3_600_000);
    const b = await occurrence(store, site.id, cred.id, Array.from({ length: K }, () => one), at + 7_200_000);
    const local = [];
    for (let i = 0; i < 20; i++) {
      const t = performance.now();
      spawnSync('/bin/sh', ['-c', 'true']);
      local.push(performance.now() - t);
    }
    const localMs = local.sort((x, y) => x - y)[10];
    let parallel = {};
    if (sleepS > 0) {
      // The remote command stamps its own start and end (ns), so overlap is measured where it runs.
      const stamp = { kind: 'command', argv: ['/bin/sh', '-c', `date +%s%N; sleep ${sleepS}; date +%s%N`], concurrency };
      const c = await occurrence(store, site.id, cred.id, [stamp], at + 10_800_000);
      const intervals = c.stdouts.map((o) => o.trim().split(/\s+/).map((x) => Number(BigInt(x) / 1000n) / 1000));
      if (intervals.length !== N || intervals.some((i) => i.length !== 2 || !i.every(Number.isFinite))) throw new Error(`unexpected remote stamps: ${JSON.stringify(c.stdouts.slice(0, 3))}`);
      parallel = {
        sleep_s: sleepS,
        concurrent_max: maxOverlap(intervals),
        sleep_wall_ms: round(c.wall),
        sleep_targets_per_s: round(N / (c.wall / 1000), 1),
        sleep_overhead_ms_per_target: round(((c.wall - sleepS * 1000) * Math.min(concurrency, N)) / N, 1),
      };
    }
    const mean = (xs) => xs.reduce((s, x) => s + x, 0) / xs.length;
    const perExtra = (mean(b.durations) - mean(a.durations)) / (K - 1);
    console.log(
      JSON.stringify({
        bench: 'remote',
        backend,
        targets: N,
        hosts: H,
        components: K,
        concurrency,
        targets_per_s: round(N / (a.wall / 1000), 1),
        wall_ms: round(a.wall),
        connect_exec_ms_p50: percentile(a.durations, 50),
        connect_exec_ms_p95: percentile(a.durations, 95),
        reused_exec_ms: round(perExtra, 1),
        command_local_ms: round(localMs, 1),
        reuse_overhead_ms: round(perExtra - localMs, 1),
        parallelism: round(a.durations.reduce((s, x) => s + x, 0) / a.wall, 1),
        ...parallel,
        cpus: os.cpus().length,
      }),
    );
  } finally {
    await store.close();
  }
}

try {
  await setUp();
  for (const backend of backends) await bench(backend);
} finally {
  await tearDown();
}

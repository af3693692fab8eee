// npm run bench:fleet — how fast a site with no worker gets one: the time from a work item
// becoming claimable (its available_at, written by the tick) to its start (started_at, set by the
// worker's claim), for the process and docker launchers (median of 10 rounds, a new site each
// round), plus the RSS of an idle worker. The scheduler side is the real SchedulerService (tick,
// event-driven fleet launch, reconcile) in this process. Prints one JSON line per case.
// Options: --launchers process,docker  --backends sqlite,postgres  --rounds 10
//          --spares N (N workers booted ahead, WORKER_SPARES, either launcher; each round then
//          starts once the pool is full again and 1 s more, so the spare that replaced a used one
//          has booted, as between real sites)
//          --image jobyard-worker:test (the docker launcher's image; built by npm test's pretest)
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import Dockerode from 'dockerode';
import { openDatabase } from '../dist/src/db/open.js';
import { migrateDown, migrateToLatest } from '../dist/src/db/migrate.js';
import { MIGRATIONS } from '../dist/migrations/index.js';
import { toJson } from '../dist/src/db/dialect.js';
import { SchedulerService } from '../dist/src/daemon/scheduler.js';
import { Fleet } from '../dist/src/fleet/fleet.js';
import { createProcessLauncher } from '../dist/src/fleet/process-launcher.js';
import { createDockerLauncher } from '../dist/src/fleet/docker-launcher.js';
import { jobyardEntrypoint } from '../dist/src/fleet/select-launcher.js';
import { silentLogger } from '../dist/src/log.js';
import { bareNodeStart, ensurePostgresDatabase, machineFacts, percentile, round, sleep } from './lib.mjs';

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const launchers = opt('launchers', 'process,docker').split(',');
const backends = opt('backends', 'sqlite,postgres').split(',');
const rounds = Number(opt('rounds', '10'));
const spares = Number(opt('spares', '0'));
const image = opt('image', process.env.WORKER_TEST_IMAGE ?? 'jobyard-worker:test');
const PG_URL = process.env.BENCH_FLEET_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/bench';
const docker = new Dockerode();

async function until(fn, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** RSS in MB of an idle worker: the child's own (process) or the container's memory use (docker). */
async function idleRssMb(kind, launcher, workerGuid) {
  if (kind === 'process') {
    const w = (await launcher.list()).find((x) => x.workerGuid === workerGuid);
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${w.pid}/status`, 'utf8'));
    return Number(m[1]) / 1024;
  }
  const stats = await docker.getContainer(`site-worker-${workerGuid}`).stats({ stream: false });
  const m = stats.memory_stats ?? {};
  const inactive = m.stats?.inactive_file ?? m.stats?.total_inactive_file ?? 0;
  return (m.usage - inactive) / 2 ** 20;
}

for (const backend of backends) {
  for (const kind of launchers) {
    const dir = mkdtempSync(join(os.tmpdir(), 'jy-bench-fleet-'));
    const url = backend === 'sqlite' ? `sqlite:${join(dir, 'fleet.db')}` : PG_URL;
    if (backend === 'postgres') await ensurePostgresDatabase(url);
    const store = openDatabase(url);
    await migrateDown(store, MIGRATIONS, { all: true }).catch(() => {});
    await migrateToLatest(store, MIGRATIONS);
    const launcher =
      kind === 'process'
        ? createProcessLauncher({ entrypoint: jobyardEntrypoint(), stdio: 'ignore', spares })
        : createDockerLauncher({
            image,
            docker,
            fleet: `bench-${process.pid}`,
            networkMode: 'host',
            sqliteDataDir: backend === 'sqlite' ? dirname(url.slice('sqlite:'.length)) : null,
            user: `${process.getuid()}:${process.getgid()}`,
            spares,
          });
    const fleet = new Fleet({
      store,
      launcher,
      logger: silentLogger,
      workerEnv: { DATABASE_URL: url, WORKER_IDLE_SECONDS: '30', LOG_LEVEL: 'warn' },
      maxWorkers: rounds + 5,
    });
    const scheduler = new SchedulerService({ store, logger: silentLogger, tickIntervalMs: 20, fleet, fleetIntervalMs: 1000, reconcileIntervalMs: 5000 }).start();
    const latencies = [];
    const phases = [];
    let rss = null;
    try {
      for (let r = 0; r < rounds; r++) {
        if (spares > 0) {
          const waiting = () => (kind === 'process' ? launcher.sparePids() : launcher.spareNames()).length;
          await until(async () => waiting() >= spares, 30_000, 'the spare pool full');
          await sleep(1_000);
        }
        const now = Date.now();
        const site = await store.db.insertInto('sites').values({ name: `site-${r}`, name_lower: `site-${r}`, created_at: now }).returning('id').executeTakeFirstOrThrow();
        const host = `h-${r}`;
        await store.db.insertInto('devices').values({ guid: host, hostname: host, hostname_lower: host, status: 'online', last_seen: now, created_at: now }).execute();
        await store.db.insertInto('device_sites').values({ device_hostname: host, site_id: site.id, assigned_at: now }).execute();
        await store.db
          .insertInto('scheduled_jobs')
          .values({ name: `job-${r}`, components_json: toJson([{ kind: 'command', argv: ['true'] }]), targets_json: toJson({ sites: [site.id] }), schedule_type: 'immediately', start_ts: now, next_run_at: now, created_at: now, updated_at: now })
          .execute();
        const item = await until(
          () => store.db.selectFrom('job_scheduler_work_items').select(['id', 'available_at', 'started_at', 'worker_guid']).where('site_id', '=', site.id).where('started_at', 'is not', null).executeTakeFirst(),
          30_000,
          `the item of site ${r} to start`,
        );
        latencies.push(Number(item.started_at) - Number(item.available_at));
        const w = await store.db.selectFrom('job_scheduler_workers').select(['created_at', 'started_at']).where('worker_guid', '=', item.worker_guid).executeTakeFirstOrThrow();
        // Where the time goes: deciding to launch, the worker's boot (start to registered), its first claim.
        phases.push([Number(w.created_at) - Number(item.available_at), Number(w.started_at) - Number(w.created_at), Number(item.started_at) - Number(w.started_at)]);
        if (r === 0) {
          await until(
            () => store.db.selectFrom('job_scheduler_workers').select('status').where('worker_guid', '=', item.worker_guid).where('status', '=', 'idle').executeTakeFirst(),
            30_000,
            'the first worker idle',
          );
          await sleep(2_000);
          rss = await idleRssMb(kind, launcher, item.worker_guid);
        }
      }
    } finally {
      await scheduler.stop();
      for (const w of await launcher.list()) {
        if (w.running) await launcher.stop(w.workerGuid, { graceMs: 2_000 }).catch(() => {});
        await launcher.remove(w.workerGuid).catch(() => {});
      }
      await launcher.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
    const sorted = [...latencies].sort((a, b) => a - b);
    console.log(
      JSON.stringify({
        bench: 'fleet',
        backend,
        launcher: kind,
        spares,
        rounds,
        claimable_to_start_ms: { median: round(percentile(sorted, 50), 1), min: sorted[0], max: sorted.at(-1), all: latencies },
        phases_median_ms: {
          launch_decision: percentile(phases.map((p) => p[0]).sort((a, b) => a - b), 50),
          worker_boot: percentile(phases.map((p) => p[1]).sort((a, b) => a - b), 50),
          first_claim: percentile(phases.map((p) => p[2]).sort((a, b) => a - b), 50),
        },
        idle_worker_rss_mb: round(rss, 1),
        // `node -e` on this machine now: a worker's boot is a multiple of it (bench:worker-boot).
        bare_node: await bareNodeStart(),
        machine: machineFacts(),
      }),
    );
  }
}

/**
 * A real PostgreSQL server restart (`pg_ctlcluster … restart`) in the middle of a drain: every
 * backend is terminated and the server refuses connections for a while. Nothing restarts on its
 * own account: the scheduler daemon keeps ticking and launching, its site worker finishes its
 * items (or is replaced), standalone consumers finish the queue, and nothing is lost or done twice.
 *
 * PostgreSQL only: the fault is the server's (SQLite has no server to restart). It restarts the
 * shared server, so this file runs alone, after the main suite (vitest.faults.config.ts).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toJson } from '../../src/db/dialect.js';
import { assignDeviceToSite, upsertDevice } from '../../src/inventory/devices.js';
import { createSite } from '../../src/inventory/sites.js';
import { enqueueWorkItems } from '../../src/queue/index.js';
import { BackendContext } from '../helpers/backends.js';
import { JOBYARD_BIN } from '../helpers/cli.js';
import { TEST_POSTGRES_URL } from '../helpers/env.js';
import { pgctl, postmasterStartedAt } from '../helpers/postgres-server.js';
import { insertJob } from '../helpers/jobs.js';
import {
  assertAlive,
  killChildProcessesAfterEach,
  readConsumerLog,
  spawnConsumer,
  stopGracefully,
  waitUntil,
  withTimeout,
  type ChildProc,
} from '../helpers/processes.js';

killChildProcessesAfterEach();

const execFileAsync = promisify(execFile);
const KIND = 'restart_test';
const TOTAL = 3_000;

// ---------------------------------------------------------------------------------------------
// The server

async function acceptsConnections(): Promise<boolean> {
  const u = new URL(TEST_POSTGRES_URL);
  try {
    await execFileAsync('pg_isready', ['-q', '-h', u.hostname, '-p', u.port || '5432']);
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// The scheduler daemon (its output is pino JSON lines on stdout)

interface Scheduler {
  child: ChildProcess;
  output: () => string;
}

const schedulers: ChildProcess[] = [];

function startScheduler(env: Record<string, string>): Scheduler {
  const child = spawn(process.execPath, [JOBYARD_BIN, 'scheduler'], {
    env: { ...process.env, LOG_LEVEL: 'info', HTTP_PORT: '0', DB_POOL_SIZE: '5', DB_MAX_OVERFLOW: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  schedulers.push(child);
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  return { child, output: () => output };
}

function schedulerAlive(s: Scheduler): void {
  if (s.child.exitCode !== null || s.child.signalCode !== null) {
    throw new Error(`the scheduler exited (code ${s.child.exitCode}, signal ${s.child.signalCode}); output:\n${s.output().slice(-4000)}`);
  }
}

/** A query that fails while the server is away counts as "not yet". */
const orFalse = async (check: () => Promise<boolean>) => check().catch(() => false);

describe('PostgreSQL restarted mid-drain (pg_ctlcluster restart) [PostgreSQL only]', () => {
  const ctx = new BackendContext('postgres', { isolation: 'database' });
  let dir: string;

  beforeAll(async () => {
    await ctx.setup();
    dir = mkdtempSync(join(tmpdir(), 'jobyard-pg-restart-'));
  });
  afterAll(async () => {
    for (const c of schedulers) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    // Whatever happened above, the server is left running for everything after this file.
    if (!(await acceptsConnections())) await pgctl('start').catch(() => {});
    await waitUntil(acceptsConnections, 30_000, () => 'PostgreSQL is not accepting connections after the test');
    await ctx.teardown();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the scheduler, its site worker and the consumers recover without restarting; every item succeeds once, every run rolls up', async () => {
    const { db } = ctx;
    // A site with two devices and a recurring job due every 2 s: each occurrence is one
    // scheduled_run item for the site worker, whose command runs 1.5 s per device.
    const site = await createSite(ctx.store, { name: 'restart' });
    for (const n of [1, 2]) {
      await upsertDevice(ctx.store, { guid: `r${n}`, hostname: `restart-${n}`, status: 'online', last_seen: Date.now() });
      await assignDeviceToSite(ctx.store, `restart-${n}`, site.id);
    }
    const at = Date.now();
    const job = await insertJob(db, {
      at,
      name: 'through a restart',
      schedule_type: 'cron',
      cron_expression: '*/2 * * * * *',
      time_zone: 'UTC',
      components_json: toJson([{ kind: 'command', argv: [process.execPath, '-e', 'setTimeout(() => {}, 1500)'] }]),
      targets_json: toJson({ sites: [site.id] }),
    });

    const s = startScheduler({
      DATABASE_URL: ctx.url,
      TICK_INTERVAL_MS: '250',
      WORKER_LAUNCHER: 'process',
      FLEET_INTERVAL_MS: '250',
      RECONCILE_INTERVAL_SECONDS: '1',
      RECLAIM_INTERVAL_SECONDS: '1',
      WORKER_IDLE_SECONDS: '60',
      SERVICE_SNAPSHOT_SECONDS: '0',
    });
    // Site-less items of a kind only the consumers handle: the fleet launches workers for sites.
    const env = { concurrency: 10, prefetch: 10, delayMs: 40, leaseSeconds: 5, heartbeatSeconds: 1, reclaimMs: 1_000, pollMs: 200 };
    const consumers: ChildProc[] = [0, 1].map((i) =>
      spawnConsumer(ctx.url, `consumer-${i}`, { siteId: null, kind: KIND, log: join(dir, `consumer-${i}.log`), ...env }),
    );
    await Promise.all(consumers.map((c) => c.waitFor('ready')));
    const everyone = () => {
      schedulerAlive(s);
      assertAlive(consumers);
    };
    const consumerDone = async () =>
      Number((await db.selectFrom('job_scheduler_work_items').select((eb) => eb.fn.countAll().as('n')).where('kind', '=', KIND).where('status', '=', 'succeeded').executeTakeFirstOrThrow()).n);
    const workerItems = () => db.selectFrom('job_scheduler_work_items').select(['id', 'status', 'attempt_count', 'created_at', 'finished_at']).where('site_id', '=', site.id).orderBy('id').execute();
    const runsOf = () => db.selectFrom('scheduled_job_runs').selectAll().where('job_id', '=', job.id).orderBy('id').execute();

    // The site worker has completed a run; then the queue is filled, and restarted mid-drain.
    await waitUntil(
      async () => {
        everyone();
        return (await runsOf()).some((r) => r.status === 'Success');
      },
      45_000,
      async () => `runs ${JSON.stringify((await runsOf()).map((r) => r.status))}; scheduler output:\n${s.output().slice(-3000)}`,
    );
    const ids = (await enqueueWorkItems(ctx.store, Array.from({ length: TOTAL }, (_, i) => ({ kind: KIND, siteId: null, payload: { n: i }, maxAttempts: 10 })))).map((r) => r.item.id);

    await waitUntil(
      async () => {
        everyone();
        // A site item in flight too, so the worker meets the restart mid-item.
        return (await consumerDone()) >= TOTAL * 0.2 && (await workerItems()).some((i) => i.status === 'running');
      },
      30_000,
      async () => `consumers done ${await consumerDone()}/${TOTAL}; site items ${JSON.stringify(await workerItems())}`,
    );
    const doneBefore = await consumerDone();
    expect(doneBefore, 'restarted mid-drain').toBeLessThan(TOTAL);
    const url = /"url":"(http:[^"]+)".*"msg":"http server listening"/.exec(s.output())![1]!;

    // The server is back when a connection reaches a postmaster started after the restart began.
    const restartAt = Date.now();
    let restartFailed: unknown;
    const restarted = pgctl('restart').catch((err: unknown) => void (restartFailed = err ?? 'failed'));
    await waitUntil(
      async () => {
        if (restartFailed) throw new Error(`pg_ctlcluster restart failed: ${String(restartFailed)}`);
        return (await postmasterStartedAt()) >= restartAt;
      },
      60_000,
      () => 'PostgreSQL is not back after the restart',
    );
    const readyAt = Date.now();

    // The scheduler keeps ticking: /healthz (fresh ticks) answers 200 again, and new occurrences
    // are written after the restart.
    let healthyAt = 0;
    const unhealthy = new Set<string>();
    await waitUntil(
      async () => {
        everyone();
        const res = await fetch(`${url}/healthz`).catch(() => undefined);
        const body = (await res?.json().catch(() => ({}))) as { reasons?: string[] } | undefined;
        for (const r of body?.reasons ?? []) unhealthy.add(r.replace(/\d+ ms/g, 'N ms'));
        if (res?.status === 200) healthyAt = Date.now();
        return res?.status === 200;
      },
      20_000,
      () => '/healthz never answered 200 after the restart',
    );
    await restarted; // pg_ctlcluster itself returns a while after the server is back
    expect(restartFailed).toBeUndefined();
    await waitUntil(
      async () => {
        everyone();
        return orFalse(async () => (await runsOf()).filter((r) => r.created_at >= readyAt).length >= 2);
      },
      30_000,
      async () => `runs since the restart: ${JSON.stringify((await runsOf().catch(() => [])).filter((r) => r.created_at >= readyAt))}`,
    );

    // The consumers drain the rest.
    await waitUntil(
      async () => {
        everyone();
        return orFalse(async () => (await consumerDone()) === TOTAL);
      },
      60_000,
      async () => `consumers done ${await consumerDone().catch(() => -1)}/${TOTAL}`,
    );

    // The job stops recurring; every run it made, before, across and after the restart, rolls up.
    await db.updateTable('scheduled_jobs').set({ enabled: false }).where('id', '=', job.id).execute();
    await waitUntil(
      async () => {
        everyone();
        const open = await db.selectFrom('job_scheduler_work_items').select('id').where('status', 'in', ['queued', 'running']).execute();
        return open.length === 0 && (await runsOf()).every((r) => r.status !== 'Pending' && r.status !== 'Running');
      },
      40_000,
      async () => `runs ${JSON.stringify((await runsOf()).map((r) => [r.id, r.status, r.error]))}`,
    );
    const runs = await runsOf();
    expect(runs.filter((r) => r.status !== 'Success').map((r) => [r.id, r.status, r.error])).toEqual([]);
    expect(await db.selectFrom('job_scheduler_work_items').select(['id', 'status']).where('status', '!=', 'succeeded').execute()).toEqual([]);

    // Every consumer item succeeded exactly once, completed by the consumer whose handler ran it.
    const items = await db.selectFrom('job_scheduler_work_items').select(['id', 'result_json', 'finished_at']).where('kind', '=', KIND).orderBy('id').execute();
    expect(items.map((r) => r.id)).toEqual(ids);
    const logs = new Map(consumers.map((c) => [c.pid, readConsumerLog(join(dir, `${c.name}.log`))]));
    for (const r of items) {
      const by = (r.result_json as { by?: number } | null)?.by;
      expect(logs.get(by!)?.done.has(r.id), `item ${r.id} done by its completer`).toBe(true);
    }
    const completions = new Map<number, number>();
    for (const log of logs.values()) for (const x of log.settled) if (x.outcome === 'completed') completions.set(x.id, (completions.get(x.id) ?? 0) + 1);
    expect([...completions.entries()].filter(([, n]) => n > 1)).toEqual([]);
    expect(completions.size).toBe(TOTAL);

    // Site workers: none stuck live with work; each that ended did so through the scheduler's bookkeeping.
    const workers = await db.selectFrom('job_scheduler_workers').select(['worker_guid', 'status', 'claimed_count']).where('site_id', '=', site.id).execute();
    expect(workers.length).toBeGreaterThan(0);

    // Time to recover, measured from the moment the server accepts connections again.
    const firstCompletion = Math.min(...items.map((r) => r.finished_at!).filter((t) => t >= readyAt));
    const firstRun = Math.min(...runs.map((r) => r.created_at).filter((t) => t >= readyAt));
    const siteItems = await workerItems();
    const tickRecovered = s
      .output()
      .split('\n')
      .filter((l) => l.includes('"loop":"tick"') && l.includes('"msg":"loop recovered"'))
      .map((l) => (JSON.parse(l) as { time: number }).time)
      .find((t) => t >= restartAt);
    process.stderr.write(
      `${JSON.stringify({
        event: 'postgres_restart_recovery',
        restart_ms: readyAt - restartAt,
        first_consumer_completion_ms: firstCompletion - readyAt,
        first_tick_ms: tickRecovered === undefined ? null : tickRecovered - readyAt,
        first_run_written_ms: firstRun - readyAt,
        healthz_200_ms: healthyAt - readyAt,
        healthz_503_reasons: [...unhealthy],
        items: TOTAL,
        done_before_restart: doneBefore,
        runs: runs.length,
        site_items_across_restart: siteItems.filter((i) => i.created_at < restartAt && i.finished_at! > restartAt).map((i) => ({ id: i.id, attempts: i.attempt_count })),
        workers: workers.map((w) => w.status),
      })}\n`,
    );

    // Everyone still works: each stops gracefully, the scheduler draining its site worker.
    await Promise.all(consumers.map((c) => stopGracefully(c)));
    s.child.kill('SIGTERM');
    const code = await withTimeout(new Promise<number | null>((resolve) => s.child.once('exit', (c) => resolve(c))), 20_000, 'the scheduler did not stop');
    expect(code, s.output().slice(-3000)).toBe(0);
  }, 120_000);
});

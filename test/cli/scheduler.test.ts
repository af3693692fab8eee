/** `jobyard scheduler` as a real process: migrates, ticks, survives, stops cleanly on SIGTERM. */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, expect, it } from 'vitest';
import { toJson } from '../../src/db/dialect.js';
import { assignDeviceToSite, upsertDevice } from '../../src/inventory/devices.js';
import { createSite } from '../../src/inventory/sites.js';
import { describeBackends } from '../helpers/backends.js';
import { JOBYARD_BIN } from '../helpers/cli.js';
import { insertJob } from '../helpers/jobs.js';
import { waitUntil } from '../helpers/processes.js';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});

function startScheduler(env: Record<string, string>) {
  const child = spawn(process.execPath, [JOBYARD_BIN, 'scheduler'], { env: { ...process.env, LOG_LEVEL: 'info', HTTP_PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

async function until<T>(fn: () => Promise<T | undefined | false>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describeBackends(
  'jobyard scheduler',
  (ctx) => {
    it('migrates on start, fires a due job into runs and work items, and exits 0 on SIGTERM', async () => {
      const s = startScheduler({ DATABASE_URL: ctx.url, TICK_INTERVAL_MS: '100', WORKER_LAUNCHER: 'off' });
      // The scheduler applied the migrations itself (the context did not).
      await until(async () => (await ctx.store.dialect.tableExists(ctx.db, 'scheduled_jobs')) && (await ctx.db.selectFrom('scheduled_jobs').select('id').execute().then(() => true, () => false)), 15_000, 'migrations');
      const site = await createSite(ctx.store, { name: 'hq' });
      await upsertDevice(ctx.store, { guid: 'd1', hostname: 'hq-1', status: 'online', last_seen: Date.now() });
      await assignDeviceToSite(ctx.store, 'hq-1', site.id);
      const now = Date.now();
      const job = await insertJob(ctx.db, { at: now, name: 'e2e', targets_json: toJson({ sites: [site.id] }), schedule_type: 'every_5_minutes' });
      const item = await until(
        () => ctx.db.selectFrom('job_scheduler_work_items').selectAll().where('job_id', '=', job.id).executeTakeFirst(),
        10_000,
        'the work item',
      );
      expect(item).toMatchObject({ kind: 'scheduled_run', site_id: site.id, status: 'queued' });
      const next = await ctx.db.selectFrom('scheduled_jobs').select('next_run_at').where('id', '=', job.id).executeTakeFirstOrThrow();
      expect(next.next_run_at).toBe(now + 5 * 60_000);
      s.child.kill('SIGTERM');
      expect(await s.exited).toBe(0);
      expect(s.output()).toMatch(/"msg":"scheduler stopped"/);
      expect(s.output()).not.toContain('password');
    });

    it('with WORKER_LAUNCHER=process it launches a site worker that runs the job to Success, then stops it on SIGTERM', async () => {
      await ctx.truncateAll().catch(() => {}); // the previous test left its job behind
      const s = startScheduler({ DATABASE_URL: ctx.url, TICK_INTERVAL_MS: '100', WORKER_LAUNCHER: 'process', FLEET_INTERVAL_MS: '100', WORKER_IDLE_SECONDS: '60', HTTP_TOKEN: 't0ken' });
      await until(async () => s.output().includes('"msg":"scheduler started"'), 15_000, 'the scheduler');
      expect(s.output()).toMatch(/"launcher":"process","reason":"WORKER_LAUNCHER=process".*"msg":"site-worker launcher selected"/);
      const site = await createSite(ctx.store, { name: 'branch' });
      await upsertDevice(ctx.store, { guid: 'd2', hostname: 'branch-1', status: 'online', last_seen: Date.now() });
      await assignDeviceToSite(ctx.store, 'branch-1', site.id);
      const now = Date.now();
      const job = await insertJob(ctx.db, {
        at: now,
        name: 'via worker',
        components_json: toJson([{ kind: 'command', argv: ['node', '-e', 'console.log("ran")'] }]),
        targets_json: toJson({ sites: [site.id] }),
        schedule_type: 'immediately',
      });
      const run = await until(
        () => ctx.db.selectFrom('scheduled_job_runs').selectAll().where('job_id', '=', job.id).where('status', '=', 'Success').executeTakeFirst(),
        20_000,
        'the run to succeed',
      );
      expect(run.finished_ts).not.toBeNull();
      // The status API of the same daemon sees it (HTTP_PORT=0: the URL is in the log).
      const url = /"url":"(http:[^"]+)","auth":"bearer".*"msg":"http server listening"/.exec(s.output())![1];
      // Healthy once a tick is recent (100 ms ticks go stale after 300 ms, which a loaded machine can exceed).
      await waitUntil(async () => (await fetch(`${url}/healthz`)).status === 200, 15_000, () => '/healthz never answered 200');
      expect((await fetch(`${url}/metrics`)).status).toBe(401);
      const metrics = await (await fetch(`${url}/metrics`, { headers: { authorization: 'Bearer t0ken' } })).text();
      expect(metrics).toMatch(/^jobyard_work_item_completions_total\{kind="scheduled_run"\} 1$/m);
      const worker = await ctx.db.selectFrom('job_scheduler_workers').selectAll().where('site_id', '=', site.id).executeTakeFirstOrThrow();
      expect(worker).toMatchObject({ claimed_count: 1, container_name: `site-worker-${worker.worker_guid}` });
      expect(['running', 'idle']).toContain(worker.status);
      // SIGTERM: the scheduler drains its child workers before it exits.
      s.child.kill('SIGTERM');
      expect(await s.exited).toBe(0);
      const after = await ctx.db.selectFrom('job_scheduler_workers').selectAll().where('worker_guid', '=', worker.worker_guid).executeTakeFirstOrThrow();
      expect(after.status).toBe('stopped');
    });

    it('never logs the database password or the HTTP token, also from its site workers', async () => {
      await ctx.truncateAll().catch(() => {});
      let url = ctx.url;
      if (ctx.backend === 'postgres') {
        // Trust auth accepts any password, so a URL that carries one still connects.
        const u = new URL(ctx.url);
        u.password = 'pw-s3cr3t-42';
        url = u.toString();
      }
      const s = startScheduler({ DATABASE_URL: url, TICK_INTERVAL_MS: '100', WORKER_LAUNCHER: 'process', FLEET_INTERVAL_MS: '100', WORKER_IDLE_SECONDS: '1', HTTP_TOKEN: 'tok-s3cr3t-42', LOG_LEVEL: 'debug' });
      await until(async () => s.output().includes('"msg":"scheduler started"'), 15_000, 'the scheduler');
      const site = await createSite(ctx.store, { name: 'quiet' });
      await upsertDevice(ctx.store, { guid: 'd3', hostname: 'quiet-1', status: 'online', last_seen: Date.now() });
      await assignDeviceToSite(ctx.store, 'quiet-1', site.id);
      const now = Date.now();
      await insertJob(ctx.db, {
        at: now,
        name: 'logs',
        components_json: toJson([{ kind: 'command', argv: ['node', '-e', '0'] }]),
        targets_json: toJson({ sites: [site.id] }),
        schedule_type: 'immediately',
      });
      await until(async () => s.output().includes('"msg":"site worker stopped"'), 20_000, 'the worker to run and stop');
      s.child.kill('SIGTERM');
      expect(await s.exited).toBe(0);
      expect(s.output()).toContain('"msg":"work item settled"');
      expect(s.output()).not.toContain('tok-s3cr3t-42');
      expect(s.output()).not.toContain('pw-s3cr3t-42');
      if (ctx.backend === 'postgres') expect(s.output()).toContain(':***@');
    });

    it('refuses to start on an unmigrated database when MIGRATE_ON_START=false', async () => {
      const fresh = ctx.backend === 'sqlite' ? `${ctx.url}.fresh.db` : ctx.url;
      if (ctx.backend === 'postgres') {
        // Reuse the context database after dropping jobyard's tables again.
        const { migrateDown } = await import('../../src/db/migrate.js');
        const { MIGRATIONS } = await import('../../migrations/index.js');
        await migrateDown(ctx.store, MIGRATIONS, { all: true });
      }
      const s = startScheduler({ DATABASE_URL: fresh, MIGRATE_ON_START: 'false' });
      expect(await s.exited).toBe(2);
      expect(s.output().trim()).toMatch(/^jobyard: database has pending migrations \(20261123_0001_initial_schema.*\); run jobyard migrate latest/m);
    });

    it('reports every configuration problem at once', async () => {
      const s = startScheduler({ DATABASE_URL: ctx.url, TICK_INTERVAL_MS: 'fast', LOG_LEVEL: 'loud', MIGRATE_ON_START: 'maybe' });
      expect(await s.exited).toBe(2);
      const line = s.output().trim();
      expect(line.split('\n')).toHaveLength(1);
      expect(line).toMatch(/LOG_LEVEL: unknown value "loud"/);
      expect(line).toMatch(/MIGRATE_ON_START: "maybe" is not a boolean/);
      expect(line).toMatch(/TICK_INTERVAL_MS: "fast" is not a whole number/);
    });
  },
  { migrate: false },
);

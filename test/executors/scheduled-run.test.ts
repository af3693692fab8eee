/** scheduled_run end to end on both backends: tick → claim → execute → activity, per-target status → rollup. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { toJson } from '../../src/db/dialect.js';
import { executeAgentMaintenanceRun } from '../../src/executors/agent-maintenance-run.js';
import { createDatabaseCredentialProvider } from '../../src/executors/credentials.js';
import { EXECUTORS, executorHandlers } from '../../src/executors/index.js';
import { executeScheduledRun, targetConcurrency } from '../../src/executors/scheduled-run.js';
import { completeWorkItems, PermanentError } from '../../src/queue/index.js';
import { applyRunRollups } from '../../src/schedule/rollup.js';
import { tick } from '../../src/schedule/ticker.js';
import { claimOne, executorContext, insertCredential, siteWithDevices, testCredentialLock } from '../fixtures/executors/executor-helpers.js';
import { describeBackends, type BackendContext } from '../helpers/backends.js';
import { insertJob } from '../helpers/jobs.js';

const node = process.execPath;
const SECRET = 'Sup3r-Secret-Pw!';

/** Prints the target and the credential; fails on alpha-2. */
const CHECK = `
  const e = process.env;
  console.log('host=' + e.JOBYARD_TARGET_HOSTNAME + ' pw=' + e.JOBYARD_CREDENTIAL_PASSWORD + ' user=' + e.JOBYARD_CREDENTIAL_USERNAME);
  if (e.JOBYARD_TARGET_HOSTNAME === 'alpha-2') { console.error('disk full; password=' + e.JOBYARD_CREDENTIAL_PASSWORD); process.exit(4); }`;
const REPORT = `
  const e = process.env;
  console.log(JSON.stringify({ host: e.JOBYARD_TARGET_HOSTNAME, guid: e.JOBYARD_TARGET_GUID, site: e.JOBYARD_SITE_ID, run: e.JOBYARD_RUN_ID, job: e.JOBYARD_JOB_ID, db: e.DATABASE_URL ?? null }));`;

async function activityOf(ctx: BackendContext, runId: number) {
  return ctx.db
    .selectFrom('scheduled_job_run_activity as l')
    .innerJoin('activity_history as a', 'a.id', 'l.activity_id')
    .select(['l.run_id', 'l.component_kind', 'l.component_path', 'l.component_name', 'l.script_type as link_type', 'a.hostname', 'a.script_path', 'a.script_name', 'a.script_type', 'a.status', 'a.stdout', 'a.stderr', 'a.ran_at', 'l.exit_code', 'l.duration_ms', 'l.detail'])
    .where('l.run_id', '=', runId)
    .orderBy('a.id')
    .execute();
}

async function targetsOf(ctx: BackendContext, runId: number) {
  return ctx.db.selectFrom('scheduled_job_run_targets').select(['hostname', 'status', 'finished_at']).where('run_id', '=', runId).orderBy('hostname').execute();
}

describeBackends('scheduled_run executor', (ctx) => {
  let server: http.Server;
  let base = '';
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      if (req.url === '/health') return res.end('healthy; token=abc123');
      res.statusCode = 500;
      res.end('broken');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => ctx.truncateAll());

  it('runs the components per target, records activity and per-target status, masks the credential, rolls up Partial', async () => {
    const T = Date.now();
    const { site } = await siteWithDevices(ctx, 'alpha', ['alpha-1', 'alpha-2'], T);
    const cred = await insertCredential(ctx, T, { name: 'deploy', username: 'svc-deploy', password: SECRET });
    const job = await insertJob(ctx.db, {
      at: T,
      name: 'patch',
      targets_json: toJson({ sites: [site.id] }),
      credential_id: cred.id,
      components_json: toJson([
        { kind: 'command', name: 'check', argv: [node, '-e', CHECK] },
        { kind: 'command', argv: [node, '-e', REPORT] },
      ]),
    });
    expect(await tick(ctx.store, { now: T })).toMatchObject({ runs: 1, items: 1 });
    const item = await claimOne(ctx, site.id, T + 1);
    expect(item.kind).toBe('scheduled_run');

    const result = await executeScheduledRun(executorContext(ctx, item));
    expect(result).toEqual({ targets: 2, succeeded: 1, failed: 1 });

    const runId = item.run_id!;
    const rows = await activityOf(ctx, runId);
    // alpha-1: both components; alpha-2: stops at the first failure.
    expect(rows.map((r) => [r.hostname, r.script_name, r.status])).toEqual(
      expect.arrayContaining([
        ['alpha-1', 'check', 'Success'],
        ['alpha-1', 'command', 'Success'],
        ['alpha-2', 'check', 'Failed'],
      ]),
    );
    expect(rows).toHaveLength(3);
    for (const r of rows) {
      expect(r).toMatchObject({ run_id: runId, component_kind: 'command', script_type: 'command', link_type: 'command' });
      expect(r.script_path).toBe(r.component_path);
      expect(r.script_path).toMatch(/^\S+ -e "/);
      expect(r.ran_at).toBeGreaterThanOrEqual(T);
      for (const text of [r.stdout, r.stderr]) expect(text ?? '').not.toContain(SECRET);
    }
    const check1 = rows.find((r) => r.hostname === 'alpha-1' && r.script_name === 'check')!;
    expect(check1.stdout).toBe('host=alpha-1 pw=*** user=svc-deploy\n');
    expect(check1.component_name).toBe('check');
    const check2 = rows.find((r) => r.hostname === 'alpha-2')!;
    expect(check2.stdout).toBe('host=alpha-2 pw=*** user=svc-deploy\n');
    expect(check2.stderr).toBe('disk full; password=***\n[jobyard] exit code 4');
    // What runs show prints per target: the exit code, the one-line outcome, how long it took.
    expect(check2).toMatchObject({ exit_code: 4, detail: 'exit code 4' });
    expect(check1).toMatchObject({ exit_code: 0, detail: 'exit code 0' });
    for (const r of rows) expect(r.duration_ms).toBeGreaterThanOrEqual(0);
    const report = rows.find((r) => r.script_name === 'command')!;
    expect(report.component_name).toBeNull();
    expect(JSON.parse(report.stdout!)).toEqual({ host: 'alpha-1', guid: 'guid-alpha-1', site: String(site.id), run: String(runId), job: String(job.id), db: null });

    const targets = await targetsOf(ctx, runId);
    expect(targets.map((t) => [t.hostname, t.status])).toEqual([['alpha-1', 'Success'], ['alpha-2', 'Failed']]);
    for (const t of targets) expect(t.finished_at).toBeGreaterThanOrEqual(T);

    // A second attempt finds nothing Pending: finished targets are never rerun.
    expect(await executeScheduledRun(executorContext(ctx, item))).toEqual({ targets: 0, succeeded: 0, failed: 0 });
    expect(await activityOf(ctx, runId)).toHaveLength(3);

    await completeWorkItems(ctx.store, 'worker-test', [{ item, result }], { now: T + 5 });
    expect(await applyRunRollups(ctx.store, { now: T + 6 })).toBe(1);
    const run = await ctx.db.selectFrom('scheduled_job_runs').selectAll().where('id', '=', runId).executeTakeFirstOrThrow();
    expect(run).toMatchObject({ status: 'Partial', error: '1 target(s) failed' });
    const stored = await ctx.db.selectFrom('job_scheduler_work_items').select(['status', 'result_json']).where('id', '=', item.id).executeTakeFirstOrThrow();
    expect(stored).toEqual({ status: 'succeeded', result_json: { targets: 2, succeeded: 1, failed: 1 } });
  });

  it('runs http and plug-in components; a kind without a plug-in fails for every target', async () => {
    const T = Date.now();
    const { site } = await siteWithDevices(ctx, 'beta', ['beta-1', 'beta-2'], T);
    const cred = await insertCredential(ctx, T, { name: 'api', password: SECRET });
    await insertJob(ctx.db, {
      at: T,
      targets_json: toJson({ sites: [site.id] }),
      credential_id: cred.id,
      components_json: toJson([
        { kind: 'http', name: 'health', url: `${base}/health` },
        { kind: 'echo', name: 'plugin' },
        { kind: 'ansible', playbook: 'site.yml', path: 'playbooks/site.yml' },
        { kind: 'command', argv: ['true'] },
      ]),
    });
    await tick(ctx.store, { now: T });
    const item = await claimOne(ctx, site.id, T + 1);
    expect(await executeScheduledRun(executorContext(ctx, item))).toEqual({ targets: 2, succeeded: 0, failed: 2 });
    const rows = await activityOf(ctx, item.run_id!);
    expect(rows).toHaveLength(6); // 3 per target; the 4th component never ran
    const forHost = (h: string) => rows.filter((r) => r.hostname === h);
    const [h, p, a] = forHost('beta-1');
    expect(h).toMatchObject({ script_type: 'http', script_path: `${base}/health`, script_name: 'health', status: 'Success', stdout: 'HTTP 200 OK\nhealthy; token=***', stderr: null });
    expect(p).toMatchObject({ script_type: 'echo', status: 'Success', stdout: `echo on beta-1 site=${site.id} pw=***` });
    expect(a).toMatchObject({
      script_type: 'ansible',
      script_name: 'ansible',
      script_path: 'playbooks/site.yml',
      status: 'Failed',
      stderr: 'component kind "ansible" has no executor; configure a plug-in',
    });
    expect(forHost('beta-2').map((r) => r.status)).toEqual(['Success', 'Success', 'Failed']);
    expect((await targetsOf(ctx, item.run_id!)).map((t) => t.status)).toEqual(['Failed', 'Failed']);
  });

  it('fails a malformed component, a plug-in that throws and an http error status, with the reason stored', async () => {
    const T = Date.now();
    const { site } = await siteWithDevices(ctx, 'gamma', ['g-1'], T);
    const job = await insertJob(ctx.db, { at: T, targets_json: toJson({ sites: [site.id] }) });
    await tick(ctx.store, { now: T });
    const item = await claimOne(ctx, site.id, T + 1);
    const cases = [
      [{ kind: 'command', argv: [] }, 'invalid command component: argv must be a non-empty array of strings'],
      [{ kind: 'echo', throw: 'boom' }, 'plug-in for component kind "echo" failed: boom'],
      [{ kind: 'echo', bad: true }, 'plug-in for component kind "echo" returned a string; expected { ok: boolean, output?: string }'],
      [{ kind: 'http', url: `${base}/nope` }, 'HTTP 500 Internal Server Error'],
      [{ kind: 'command', argv: [node, '-e', 'setInterval(() => {}, 1000)'], timeout_seconds: 0.2 }, '[jobyard] timed out after 0.2 s; process group killed'],
    ] as const;
    for (const [component, stderr] of cases) {
      // The same target again with another component: reset it to Pending.
      await ctx.db.updateTable('scheduled_jobs').set({ components_json: toJson([component]) }).where('id', '=', job.id).execute();
      await ctx.db.updateTable('scheduled_job_run_targets').set({ status: 'Pending', finished_at: null }).where('run_id', '=', item.run_id!).execute();
      expect(await executeScheduledRun(executorContext(ctx, item))).toEqual({ targets: 1, succeeded: 0, failed: 1 });
      const last = (await activityOf(ctx, item.run_id!)).at(-1)!;
      expect(last.status).toBe('Failed');
      expect(last.stderr).toBe(stderr);
    }
  });

  it('throws a PermanentError when the job, run or credential is missing, and retries on nothing else', async () => {
    const T = Date.now();
    const { site } = await siteWithDevices(ctx, 'delta', ['d-1'], T);
    const job = await insertJob(ctx.db, { at: T, targets_json: toJson({ sites: [site.id] }), credential_id: 9999 });
    await tick(ctx.store, { now: T });
    const item = await claimOne(ctx, site.id, T + 1);
    await expect(executeScheduledRun(executorContext(ctx, item))).rejects.toThrow(new PermanentError(`job ${job.id}: credential 9999 not found`));
    await expect(executeScheduledRun(executorContext(ctx, { ...item, run_id: 424242 }))).rejects.toThrow(/run 424242 of job \d+ no longer exists/);
    await expect(executeScheduledRun(executorContext(ctx, { ...item, job_id: 777, payload_json: {} }))).rejects.toBeInstanceOf(PermanentError);
    await ctx.db.updateTable('scheduled_jobs').set({ components_json: toJson({ not: 'an array' }) }).where('id', '=', job.id).execute();
    await expect(executeScheduledRun(executorContext(ctx, item))).rejects.toThrow(/components_json is not an array/);
    // Targets untouched: the rollup settles them from the item's outcome.
    expect((await targetsOf(ctx, item.run_id!)).map((t) => t.status)).toEqual(['Pending']);
  });

  it('stops promptly when the signal aborts: commands killed, targets left Pending', async () => {
    const T = Date.now();
    const hosts = ['e-1', 'e-2', 'e-3', 'e-4'];
    const { site } = await siteWithDevices(ctx, 'epsilon', hosts, T);
    await insertJob(ctx.db, {
      at: T,
      targets_json: toJson({ sites: [site.id] }),
      components_json: toJson([{ kind: 'command', argv: [node, '-e', 'setInterval(() => {}, 1000)'], concurrency: 2 }]),
    });
    await tick(ctx.store, { now: T });
    const item = await claimOne(ctx, site.id, T + 1);
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error('lease lost')), 300);
    const started = Date.now();
    await expect(executeScheduledRun(executorContext(ctx, item, { signal: ac.signal }))).rejects.toThrow('execution stopped: lease lost');
    expect(Date.now() - started).toBeLessThan(3000);
    expect((await targetsOf(ctx, item.run_id!)).map((t) => t.status)).toEqual(['Pending', 'Pending', 'Pending', 'Pending']);
    expect(await activityOf(ctx, item.run_id!)).toEqual([]);
  });

  it('reads credentials by id, decrypted, and refuses values that are not jy:v1 envelopes', async () => {
    const T = Date.now();
    const provider = createDatabaseCredentialProvider(ctx.store, testCredentialLock(ctx));
    const full = await insertCredential(ctx, T, { name: 'full', username: 'root', password: 'pässword', privateKey: '-----BEGIN KEY-----' });
    const none = await insertCredential(ctx, T, { name: 'none' });
    // Written after the unlock, in another system's format: never handed out as if it were the secret.
    const sealed = await insertCredential(ctx, T, { name: 'sealed', password: 'aegis:v1:abcdef', raw: true });
    expect(await provider.get(full.id)).toEqual({ id: full.id, name: 'full', username: 'root', secrets: { password: 'pässword', private_key: '-----BEGIN KEY-----' } });
    expect(await provider.get(none.id)).toEqual({ id: none.id, name: 'none', username: null, secrets: {} });
    expect(await provider.get(424242)).toBeUndefined();
    const refused = await provider.get(sealed.id).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(PermanentError);
    expect(String(refused)).toMatch(/credential \d+ \(sealed\): password is not encrypted \(not a jy:v1 envelope\)/);
    expect(String(refused)).not.toContain('abcdef');
  });

  it('runs agent_maintenance_run the same way and is wired into the executor table', async () => {
    const T = Date.now();
    const { site } = await siteWithDevices(ctx, 'zeta', ['z-1'], T);
    await insertJob(ctx.db, {
      at: T,
      job_kind: 'agent_maintenance',
      targets_json: toJson({ hostnames: ['z-1'] }),
      components_json: toJson([{ kind: 'command', name: 'update-agent', argv: [node, '-e', 'console.log("updated")'] }]),
    });
    await tick(ctx.store, { now: T });
    const item = await claimOne(ctx, site.id, T + 1);
    expect(item.kind).toBe('agent_maintenance_run');
    expect(Object.keys(EXECUTORS).sort()).toEqual(['agent_maintenance_run', 'onboarding_run', 'scheduled_run']);
    expect(EXECUTORS.agent_maintenance_run).toBe(executeAgentMaintenanceRun);
    const handlers = executorHandlers({ store: ctx.store, credentials: createDatabaseCredentialProvider(ctx.store, testCredentialLock(ctx)), workerGuid: 'w' });
    const result = await handlers.agent_maintenance_run!({ item, payload: item.payload_json, signal: new AbortController().signal, logger: executorContext(ctx, item).logger });
    expect(result).toEqual({ targets: 1, succeeded: 1, failed: 0 });
    const rows = await activityOf(ctx, item.run_id!);
    expect(rows.map((r) => [r.script_name, r.status, r.stdout])).toEqual([['update-agent', 'Success', 'updated\n']]);
  });
});

describe('target concurrency', () => {
  it('is the smallest concurrency a component declares, default 5, at most 50', () => {
    expect(targetConcurrency([{ kind: 'command' }])).toBe(5);
    expect(targetConcurrency([{ kind: 'command', concurrency: 8 }, { kind: 'http', concurrency: 3 }])).toBe(3);
    expect(targetConcurrency([{ kind: 'command', concurrency: 0 }, { kind: 'x', concurrency: 'lots' }])).toBe(5);
    expect(targetConcurrency([{ kind: 'command', concurrency: 500 }])).toBe(50);
  });
});

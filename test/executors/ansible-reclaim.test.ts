/**
 * A site worker process killed mid-playbook (SIGKILL, no cleanup) leaves the playbook's shared
 * run row Running. Both ways out finish it, against real OpenSSH hosts in network namespaces:
 * - the fleet releases the dead worker's item and a retry runs the playbook again on the targets
 *   without a successful recap: the row, the recaps, the targets and the occurrence end Success;
 *   the dead worker's ansible-playbook died with it (setpriv's parent-death signal) and its run
 *   dir (which held the credential) is removed by the retry;
 * - the item has no attempt left and goes dead: the rollup finalises the row Failed with the
 *   item's reason beside its Failed occurrence.
 * Both backends.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { toJson } from '../../src/db/dialect.js';
import { executeScheduledRun } from '../../src/executors/scheduled-run.js';
import { completeWorkItems, releaseOwner } from '../../src/queue/index.js';
import { applyRunRollups } from '../../src/schedule/rollup.js';
import { tick } from '../../src/schedule/ticker.js';
import { claimOne, executorContext, TEST_UNLOCK_SECRET, unlockTestCredentials } from '../fixtures/executors/executor-helpers.js';
import { describeBackends, type BackendContext } from '../helpers/backends.js';
import { insertJob } from '../helpers/jobs.js';
import { waitUntil } from '../helpers/processes.js';
import { createTestUsers, removeTestUsers, siteOfSshHosts, startSshHost, type SshHost, type TestUsers } from '../helpers/ssh-hosts.js';

const run = promisify(execFile);
const JOBYARD = join(import.meta.dirname, '../../bin/jobyard.js');

let users: TestUsers;
let hostA: SshHost;
let hostB: SshHost;
const workers: ChildProcess[] = [];

beforeAll(async () => {
  users = await createTestUsers();
  [hostA, hostB] = await Promise.all([startSshHost({ users: [users.plain] }), startSshHost({ users: [users.plain] })]);
});
afterEach(() => {
  for (const w of workers.splice(0)) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
});
afterAll(async () => {
  await Promise.all([hostA?.stop(), hostB?.stop()]);
  await removeTestUsers(users);
});

/** Blocks in its first play until the test creates the `go` file; `started`/`done` markers per host. */
const playbook = (tag: string) => `
- hosts: all
  gather_facts: false
  tasks:
    - ansible.builtin.copy: { dest: "/tmp/${tag}-started-{{ inventory_hostname }}", content: "x" }
    - ansible.builtin.wait_for: { path: "/tmp/${tag}-go", timeout: 600 }
    - ansible.builtin.copy: { dest: "/tmp/${tag}-done-{{ inventory_hostname }}", content: "x" }
`;

/** ansible-playbook processes whose command line names `dir`, with their parent pid. */
async function playbookProcesses(dir: string): Promise<Array<{ pid: number; ppid: number }>> {
  const { stdout } = await run('ps', ['-eo', 'pid=,ppid=,args=']);
  return stdout.split('\n').filter((l) => l.includes('ansible-playbook') && l.includes(dir)).map((l) => {
    const [pid, ppid] = l.trim().split(/\s+/);
    return { pid: Number(pid), ppid: Number(ppid) };
  });
}

describeBackends('ansible_playbook: a worker killed mid-playbook', (ctx: BackendContext) => {
  beforeEach(() => ctx.truncateAll());

  /** An occurrence of a playbook job over hostA and hostB (or hostA alone), due now; a worker process claims it. */
  async function startKilledOccurrence(tag: string, hostsOf: Record<string, SshHost>, maxAttempts?: number) {
    const now = Date.now();
    const s = await siteOfSshHosts(ctx.store, now, hostsOf);
    const cred = await ctx.db
      .insertInto('credentials')
      .values({ name: `plain-${tag}`, username: users.plain.name, connection_type: 'ssh', password_encrypted: Buffer.from(users.plain.password), created_at: now, updated_at: now })
      .returning('id')
      .executeTakeFirstOrThrow();
    await unlockTestCredentials(ctx);
    const job = await insertJob(ctx.db, { at: now, name: tag, execution_context: 'ssh', credential_id: cred.id, targets_json: toJson({ sites: [s.id] }), components_json: toJson([{ kind: 'ansible_playbook', name: 'slow', playbook: playbook(tag) }]) });
    await tick(ctx.store, { now });
    await ctx.db.updateTable('scheduled_jobs').set({ enabled: false, next_run_at: null }).execute();
    if (maxAttempts !== undefined) await ctx.db.updateTable('job_scheduler_work_items').set({ max_attempts: maxAttempts }).execute();
    const runId = (await ctx.db.selectFrom('scheduled_job_runs').select('id').where('job_id', '=', job.id).executeTakeFirstOrThrow()).id;

    const guid = `worker-${tag}`;
    const worker = spawn(process.execPath, [JOBYARD, 'worker', '--site', String(s.id)], {
      env: { ...process.env, DATABASE_URL: ctx.url, WORKER_GUID: guid, WORKER_IDLE_SECONDS: '600', CREDENTIALS_UNLOCK_COMMAND: JSON.stringify(['printf', '%s', TEST_UNLOCK_SECRET]), DB_POOL_SIZE: '3', DB_MAX_OVERFLOW: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    workers.push(worker);
    let output = '';
    worker.stdout!.on('data', (d) => (output += d));
    worker.stderr!.on('data', (d) => (output += d));
    const started = Object.keys(hostsOf).map((h) => `/tmp/${tag}-started-${h}`);
    await waitUntil(async () => started.every((f) => existsSync(f)), 90_000, () => `the playbook to start on every host; worker output:\n${output.slice(-4000)}`);
    const component = await ctx.db.selectFrom('scheduled_job_runs').selectAll().where('job_id', '=', job.id).where('component_index', '=', 0).executeTakeFirstOrThrow();
    expect(component.status).toBe('Running');

    // The worker's run dir and its playbook's group leader (the worker's child, through setpriv).
    const dir = readdirSync(tmpdir()).filter((n) => n.startsWith('jobyard-ansible-')).map((n) => join(tmpdir(), n))
      .find((d) => { try { return Number(readFileSync(join(d, 'owner.pid'), 'utf8')) === worker.pid; } catch { return false; } });
    expect(dir).toBeDefined();
    expect(existsSync(join(dir!, 'vars.json'))).toBe(true);
    const main = (await playbookProcesses(dir!)).find((p) => p.ppid === worker.pid);
    expect(main).toBeDefined();

    worker.kill('SIGKILL');
    await new Promise((resolve) => worker.once('exit', resolve));
    // The dead worker's playbook does not go on unattended: its whole process group ends with
    // it, ansible-playbook's forked workers (which run the task) included.
    await waitUntil(async () => (await playbookProcesses(dir!)).length === 0, 30_000, async () => `the dead worker's playbook processes to end: ${JSON.stringify(await playbookProcesses(dir!))}`);
    expect((await ctx.db.selectFrom('scheduled_job_runs').select('status').where('id', '=', component.id).executeTakeFirstOrThrow()).status).toBe('Running');
    return { siteId: s.id, jobId: job.id, runId, componentId: component.id, guid, dir: dir! };
  }

  it('a retry after the fleet releases the dead worker runs the playbook again and finishes the shared row', { timeout: 360_000 }, async () => {
    const tag = `jy-reclaim-${process.pid}-${ctx.backend}`;
    try {
      const o = await startKilledOccurrence(tag, { 'rc-a': hostA, 'rc-b': hostB });
      writeFileSync(`/tmp/${tag}-go`, 'go');
      const released = await releaseOwner(ctx.store, o.guid, { reason: 'worker lost' });
      expect(released.requeued).toHaveLength(1);

      const item = await claimOne(ctx, o.siteId, Date.now() + 1000);
      const result = await executeScheduledRun(executorContext(ctx, item, { config: { ...executorContext(ctx, item).config, ssh: { connectTimeoutMs: 5000, killGraceMs: 500 } } }));
      expect(result).toEqual({ targets: 2, succeeded: 2, failed: 0 });
      expect(existsSync(o.dir)).toBe(false); // the dead worker's dir (and the credential in it) is gone
      for (const h of ['rc-a', 'rc-b']) expect(existsSync(`/tmp/${tag}-done-${h}`)).toBe(true);

      const component = await ctx.db.selectFrom('scheduled_job_runs').selectAll().where('id', '=', o.componentId).executeTakeFirstOrThrow();
      expect([component.status, component.error]).toEqual(['Success', null]);
      const recaps = await ctx.db.selectFrom('ansible_play_recaps').select(['inventory_hostname', 'ok', 'failed', 'unreachable']).where('run_id', '=', o.componentId).orderBy('inventory_hostname').execute();
      expect(recaps).toEqual([
        { inventory_hostname: 'rc-a', ok: 3, failed: 0, unreachable: 0 },
        { inventory_hostname: 'rc-b', ok: 3, failed: 0, unreachable: 0 },
      ]);
      const targets = await ctx.db.selectFrom('scheduled_job_run_targets').select(['hostname', 'status']).where('run_id', '=', o.runId).orderBy('hostname').execute();
      expect(targets).toEqual([{ hostname: 'rc-a', status: 'Success' }, { hostname: 'rc-b', status: 'Success' }]);

      await completeWorkItems(ctx.store, 'worker-test', [{ item, result }]);
      await applyRunRollups(ctx.store);
      expect((await ctx.db.selectFrom('scheduled_job_runs').select('status').where('id', '=', o.runId).executeTakeFirstOrThrow()).status).toBe('Success');
      expect((await ctx.db.selectFrom('scheduled_job_runs').select('status').where('id', '=', o.componentId).executeTakeFirstOrThrow()).status).toBe('Success');
    } finally {
      await run('sh', ['-c', `rm -f /tmp/${tag}-*`]);
    }
  });

  it('an item with no attempt left goes dead, and the rollup finalises the shared row Failed with the reason', { timeout: 360_000 }, async () => {
    const tag = `jy-dead-${process.pid}-${ctx.backend}`;
    try {
      const o = await startKilledOccurrence(tag, { 'dd-a': hostA }, 1);
      writeFileSync(`/tmp/${tag}-go`, 'go');
      const released = await releaseOwner(ctx.store, o.guid, { reason: 'worker lost' });
      expect(released.dead).toHaveLength(1);
      expect(await applyRunRollups(ctx.store)).toBe(1);
      const rows = await ctx.db.selectFrom('scheduled_job_runs').select(['id', 'status', 'error', 'finished_ts']).where('job_id', '=', o.jobId).orderBy('id').execute();
      expect(rows.map((r) => r.status)).toEqual(['Failed', 'Failed']);
      const component = rows.find((r) => r.id === o.componentId)!;
      expect(component.error).toMatch(/^the playbook did not finish: its work item ended dead \(.*worker lost.*\)$/);
      expect(component.finished_ts).not.toBeNull();
      // Finalised once: a later rollup has nothing left (the row no longer waits as "Running").
      expect(await applyRunRollups(ctx.store)).toBe(0);
    } finally {
      rmSync(`/tmp/${tag}-go`, { force: true });
      await run('sh', ['-c', `rm -f /tmp/${tag}-*`]);
      // The dead worker's run dir: removed by the next playbook run; here, by the test.
      for (const n of readdirSync(tmpdir()).filter((x) => x.startsWith('jobyard-ansible-'))) {
        try {
          const pid = Number(readFileSync(join(tmpdir(), n, 'owner.pid'), 'utf8'));
          if (workers.every((w) => w.pid !== pid)) continue;
        } catch {
          continue;
        }
        rmSync(join(tmpdir(), n), { recursive: true, force: true });
      }
    }
  });
});

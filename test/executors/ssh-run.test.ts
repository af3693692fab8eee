/**
 * Jobs with execution_context `ssh` against real OpenSSH servers in network namespaces
 * (test/helpers/ssh-hosts.ts): a healthy host, an unreachable one (link down), one that refuses
 * every credential; sudo with and without the right; cancellation ending the remote process; a
 * changed host key. Both backends.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, expect, it, vi } from 'vitest';
import { toJson } from '../../src/db/dialect.js';
import { executeOnboardingRun } from '../../src/executors/onboarding/index.js';
import { executeScheduledRun } from '../../src/executors/scheduled-run.js';
import { hostKeysOfDevice, repinHostKey } from '../../src/executors/ssh/host-keys.js';
import { createSite } from '../../src/inventory/sites.js';
import { completeWorkItems } from '../../src/queue/index.js';
import { applyRunRollups } from '../../src/schedule/rollup.js';
import { tick } from '../../src/schedule/ticker.js';
import { claimOne, executorContext, unlockTestCredentials } from '../fixtures/executors/executor-helpers.js';
import { describeBackends, type BackendContext } from '../helpers/backends.js';
import { insertJob } from '../helpers/jobs.js';
import { createTestUsers, removeTestUsers, startSshHost, type SshHost, type TestUser, type TestUsers, siteOfSshHosts } from '../helpers/ssh-hosts.js';
import { capturingLogger } from '../helpers/logs.js';

const run = promisify(execFile);

let users: TestUsers;
let healthy: SshHost;
let down: SshHost;
let refusing: SshHost;

beforeAll(async () => {
  users = await createTestUsers();
  const all = [users.sudoer, users.plain];
  [healthy, down, refusing] = await Promise.all([startSshHost({ users: all }), startSshHost({ users: all }), startSshHost({ users: all, refuse: true })]);
  await down.host.linkDown();
});

afterAll(async () => {
  await Promise.all([healthy?.stop(), down?.stop(), refusing?.stop()]);
  await removeTestUsers(users);
});

interface Occurrence {
  runId: number;
  siteId: number;
  item: Awaited<ReturnType<typeof claimOne>>;
}

describeBackends('ssh execution on real hosts', (ctx: BackendContext) => {
  beforeEach(() => ctx.truncateAll());

  /** A credential as `credentials add` leaves it: encrypted under the test keyring, which is unlocked. */
  async function credential(user: TestUser, how: 'password' | 'key', T: number) {
    const row = await ctx.db
      .insertInto('credentials')
      .values({
        name: `${user.name}-${how}`,
        username: user.name,
        connection_type: 'ssh',
        password_encrypted: how === 'password' ? Buffer.from(user.password) : null,
        private_key_encrypted: how === 'key' ? Buffer.from(user.privateKey!) : null,
        private_key_passphrase_encrypted: how === 'key' ? Buffer.from(user.passphrase!) : null,
        become_password_encrypted: Buffer.from(user.password),
        created_at: T,
        updated_at: T,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await unlockTestCredentials(ctx);
    return row;
  }

  const site = (T: number, devices: Record<string, SshHost>) => siteOfSshHosts(ctx.store, T, devices);

  async function occurrence(T: number, siteId: number, credentialId: number, components: unknown[]): Promise<Occurrence> {
    await insertJob(ctx.db, { at: T, name: `remote-${T}`, execution_context: 'ssh', credential_id: credentialId, targets_json: toJson({ sites: [siteId] }), components_json: toJson(components) });
    await ctx.db.updateTable('devices').set({ last_seen: T }).execute(); // online at every occurrence
    await tick(ctx.store, { now: T });
    // One occurrence per call: earlier jobs of the test are not due again.
    await ctx.db.updateTable('scheduled_jobs').set({ enabled: false, next_run_at: null }).execute();
    const item = await claimOne(ctx, siteId, T + 1);
    return { runId: item.run_id!, siteId, item };
  }

  const sshConfig = (over: Record<string, unknown> = {}) => ({ config: { ...executorContext(ctx, {} as never).config, ssh: { connectTimeoutMs: 2000, killGraceMs: 500, ...over } } });

  const targets = (runId: number) =>
    ctx.db.selectFrom('scheduled_job_run_targets').select(['hostname', 'status', 'detail', 'exit_code', 'duration_ms']).where('run_id', '=', runId).orderBy('hostname').execute();
  const activity = (runId: number) =>
    ctx.db
      .selectFrom('scheduled_job_run_activity as l')
      .innerJoin('activity_history as a', 'a.id', 'l.activity_id')
      .select(['a.hostname', 'a.script_name', 'a.status', 'a.stdout', 'a.stderr', 'a.script_path'])
      .where('l.run_id', '=', runId)
      .orderBy('a.id')
      .execute();
  const accepted = (host: SshHost, user: TestUser) => host.log().split(`Accepted password for ${user.name} `).length - 1;

  it('runs on the healthy host over one reused connection; unreachable and refusing hosts fail alone with a clear reason; the run is Partial', async () => {
    const T = 4_102_444_800_000; // 2100-01-01
    const s = await site(T, { 'web-1': healthy, 'web-down': down, 'web-refuses': refusing });
    const cred = await credential(users.plain, 'password', T);
    const logs = capturingLogger();
    const before = accepted(healthy, users.plain);
    const o = await occurrence(T, s.id, cred.id, [
      { kind: 'command', name: 'whoami', argv: ['sh', '-c', 'echo "on $JOBYARD_TARGET_HOSTNAME as $(id -un)"; echo "password=$JOBYARD_CREDENTIAL_PASSWORD" >&2'] },
      { kind: 'script', name: 'second', script: 'echo second; exit 0' },
    ]);
    const result = await executeScheduledRun(executorContext(ctx, o.item, { ...sshConfig(), logger: logs.logger }));
    expect(result).toEqual({ targets: 3, succeeded: 1, failed: 2 });

    const rows = await targets(o.runId);
    expect(rows.map((r) => [r.hostname, r.status])).toEqual([['web-1', 'Success'], ['web-down', 'Failed'], ['web-refuses', 'Failed']]);
    expect(rows[0]).toMatchObject({ exit_code: 0, detail: 'second: exit code 0' });
    expect(rows[0]!.duration_ms).toBeGreaterThanOrEqual(0);
    expect(rows[1]!.detail).toMatch(new RegExp(`^${down.address}:22: unreachable`));
    expect(rows[2]!.detail).toMatch(new RegExp(`^${refusing.address}:22: authentication refused for the job's credential`));
    // One login for both components: the connection was reused.
    expect(accepted(healthy, users.plain) - before).toBe(1);

    const acts = await activity(o.runId);
    expect(acts.map((a) => [a.hostname, a.script_name, a.status])).toEqual([['web-1', 'whoami', 'Success'], ['web-1', 'second', 'Success']]);
    expect(acts[0]!.stdout).toBe(`on web-1 as ${users.plain.name}\n`);
    // The credential never reaches the target's environment.
    expect(acts[0]!.stderr).toBe('password=\n');
    expect(acts[1]!.stdout).toBe('second\n');

    // The healthy host's key is pinned (first contact); nothing is pinned for hosts never reached.
    const pins = await hostKeysOfDevice(ctx.store, 'guid-web-1');
    expect(pins.map((p) => p.fingerprint)).toEqual([await healthy.fingerprint()]);
    expect(await hostKeysOfDevice(ctx.store, 'guid-web-down')).toEqual([]);

    await completeWorkItems(ctx.store, 'worker-test', [{ item: o.item, result }], { now: T + 5 });
    expect(await applyRunRollups(ctx.store, { now: T + 6 })).toBe(1);
    const runRow = await ctx.db.selectFrom('scheduled_job_runs').select(['status']).where('id', '=', o.runId).executeTakeFirstOrThrow();
    expect(runRow.status).toBe('Partial');

    await expectNoSecretAnywhere(ctx, [users.plain.password], logs.text());
  });

  it('becomes root through sudo with a key credential, and fails a user without the sudo right with the reason', async () => {
    const T = 4_102_444_900_000;
    const s = await site(T, { 'db-1': healthy });
    const component = { kind: 'command', name: 'as-root', become: true, argv: ['sh', '-c', 'id -u; ps -eo args | grep "[s]udo -S" | head -1'] };
    const key = await credential(users.sudoer, 'key', T);
    const o1 = await occurrence(T, s.id, key.id, [component]);
    const logs = capturingLogger();
    expect(await executeScheduledRun(executorContext(ctx, o1.item, { ...sshConfig(), logger: logs.logger }))).toEqual({ targets: 1, succeeded: 1, failed: 0 });
    const [act] = await activity(o1.runId);
    const [first, psLine] = act!.stdout!.split('\n');
    expect(first).toBe('0');
    // What the target's process list shows of sudo: a random prompt, no password (a masked one would read ***).
    expect(psLine).toMatch(/sudo -S -k -p \[jobyard-sudo [0-9a-f]+\] -u root -- \/bin\/sh -c/);
    expect(act!.stdout).not.toContain('***');
    expect(act!.stderr).toBe('');

    const plain = await credential(users.plain, 'password', T + 10);
    const o2 = await occurrence(T + 3_600_000, s.id, plain.id, [component]);
    expect(await executeScheduledRun(executorContext(ctx, o2.item, { ...sshConfig(), logger: logs.logger }))).toEqual({ targets: 1, succeeded: 0, failed: 1 });
    const [t2] = await targets(o2.runId);
    expect(t2!.status).toBe('Failed');
    expect(t2!.detail).toMatch(/^as-root: become \(sudo -u root\) refused: is not in the sudoers file/);
    await expectNoSecretAnywhere(ctx, [users.plain.password, users.sudoer.password, users.sudoer.passphrase!, users.sudoer.privateKey!], logs.text());
    await expectNothingLeftOnTarget([users.plain, users.sudoer]);
  });

  it('cancel stops the remote command (and, under sudo, its whole tree) and records the target Cancelled', { timeout: 180_000 }, async () => {
    const T = 4_102_445_000_000;
    const s = await site(T, { 'app-1': healthy });
    const key = await credential(users.sudoer, 'password', T); // a password login: the key's KDF only slows this case down
    const tag = String(10000 + Math.floor(Math.random() * 89999)); // unique per run: patterns of other runs never match
    const o = await occurrence(T, s.id, key.id, [
      { kind: 'script', name: 'long', script: `sleep 3${tag}1 & sleep 3${tag}2; wait` },
      { kind: 'script', name: 'long-root', become: true, script: `sleep 3${tag}3 & sleep 3${tag}4; wait` },
    ]);
    const ac = new AbortController();
    const running = executeScheduledRun(executorContext(ctx, o.item, { ...sshConfig({ connectTimeoutMs: 30_000 }), signal: ac.signal }));
    const pgrep = async (pattern: string) => (await run('pgrep', ['-f', pattern]).catch(() => ({ stdout: '' }))).stdout.trim();
    await vi.waitFor(async () => expect(await pgrep(`^sleep 3${tag}2$`)).not.toBe(''), { timeout: 60_000, interval: 100 });
    ac.abort(new Error('item cancelled'));
    await expect(running).rejects.toThrow('execution stopped: item cancelled');
    expect(await pgrep(`^sleep 3${tag}[12]$`)).toBe('');
    const [t] = await targets(o.runId);
    expect(t).toMatchObject({ hostname: 'app-1', status: 'Cancelled' });
    expect(t!.detail).toMatch(/^cancelled: cancelled; remote command stopped$/);
    expect((await activity(o.runId)).map((a) => [a.script_name, a.status])).toEqual([['long', 'Cancelled']]);

    // The same under sudo: sudo relays a signal to its direct child only; the trap ends the tree.
    const o2 = await occurrence(T + 3_600_000, s.id, key.id, [{ kind: 'script', name: 'long-root', become: true, script: `sleep 3${tag}3 & sleep 3${tag}4; wait` }]);
    const ac2 = new AbortController();
    const running2 = executeScheduledRun(executorContext(ctx, o2.item, { ...sshConfig({ connectTimeoutMs: 30_000 }), signal: ac2.signal }));
    await vi.waitFor(async () => expect(await pgrep(`^sleep 3${tag}4$`)).not.toBe(''), { timeout: 60_000, interval: 100 });
    ac2.abort(new Error('worker draining'));
    await expect(running2).rejects.toThrow('execution stopped: worker draining');
    expect(await pgrep(`^sleep 3${tag}[34]$`)).toBe('');
    expect((await targets(o2.runId))[0]!.status).toBe('Cancelled');
  });

  it('a command timeout stops the remote command and fails the target with the reason; per-job and per-site limits cap targets running at once', { timeout: 180_000 }, async () => {
    const T = 4_102_445_050_000;
    // Connect timeouts of 30 s: four handshakes at once on a loaded 2-core machine.
    // Four devices on the one healthy host: four connections to it.
    const s = await site(T, { 'lim-1': healthy, 'lim-2': healthy, 'lim-3': healthy, 'lim-4': healthy });
    const cred = await credential(users.plain, 'password', T);
    const tag = String(10000 + Math.floor(Math.random() * 89999));
    const pgrep = async (pattern: string) => (await run('pgrep', ['-f', pattern]).catch(() => ({ stdout: '' }))).stdout.trim();

    const slow = await occurrence(T, s.id, cred.id, [{ kind: 'script', name: 'slow', timeout_seconds: 1, script: `sleep 4${tag}0` }]);
    await executeScheduledRun(executorContext(ctx, slow.item, sshConfig({ connectTimeoutMs: 30_000 })));
    const timedOut = await targets(slow.runId);
    expect(timedOut.map((t) => t.status)).toEqual(['Failed', 'Failed', 'Failed', 'Failed']);
    for (const t of timedOut) expect(t.detail).toBe('slow: timed out after 1 s; remote command stopped');
    expect(await pgrep(`^sleep 4${tag}0$`)).toBe('');

    // Each target stamps its command's start and end on the host (same clock as this machine).
    const stamped = { kind: 'command', name: 'stamp', argv: ['sh', '-c', 'date +%s%N; sleep 0.5; date +%s%N'] };
    const overlap = async (runId: number) => {
      const intervals = (await activity(runId)).map((a) => a.stdout!.trim().split('\n').map((x) => Number(BigInt(x) / 1000n)));
      expect(intervals).toHaveLength(4);
      const edges = intervals.flatMap(([a, b]) => [[a!, 1], [b!, -1]] as const).sort((x, y) => x[0] - y[0] || x[1] - y[1]);
      let open = 0;
      let max = 0;
      for (const [, d] of edges) max = Math.max(max, (open += d));
      return max;
    };
    const perJob = await occurrence(T + 3_600_000, s.id, cred.id, [{ ...stamped, concurrency: 2 }]);
    await executeScheduledRun(executorContext(ctx, perJob.item, sshConfig({ siteConcurrency: 20, connectTimeoutMs: 30_000 })));
    expect(await overlap(perJob.runId)).toBeLessThanOrEqual(2);
    const perSite = await occurrence(T + 7_200_000, s.id, cred.id, [{ ...stamped, concurrency: 4 }]);
    await executeScheduledRun(executorContext(ctx, perSite.item, sshConfig({ siteConcurrency: 1, connectTimeoutMs: 30_000 })));
    expect(await overlap(perSite.runId)).toBe(1);
    expect((await targets(perSite.runId)).map((t) => t.status)).toEqual(['Success', 'Success', 'Success', 'Success']);
  });

  it('refuses a changed host key without authenticating, until an operator re-pins (audited)', async () => {
    const T = 4_102_445_100_000;
    const s = await site(T, { 'edge-1': healthy });
    const cred = await credential(users.plain, 'password', T);
    const probe = [{ kind: 'command', argv: ['true'] }];
    const o1 = await occurrence(T, s.id, cred.id, probe);
    expect(await executeScheduledRun(executorContext(ctx, o1.item, sshConfig()))).toMatchObject({ succeeded: 1 });
    const oldFingerprint = (await hostKeysOfDevice(ctx.store, 'guid-edge-1'))[0]!.fingerprint;

    await healthy.rotateHostKey();
    const newFingerprint = await healthy.fingerprint();
    expect(newFingerprint).not.toBe(oldFingerprint);
    const logins = accepted(healthy, users.plain);
    const o2 = await occurrence(T + 3_600_000, s.id, cred.id, probe);
    expect(await executeScheduledRun(executorContext(ctx, o2.item, sshConfig()))).toMatchObject({ succeeded: 0, failed: 1 });
    const [t2] = await targets(o2.runId);
    expect(t2!.detail).toContain(`host key changed: pinned ssh-ed25519 ${oldFingerprint}, host presented ssh-ed25519 ${newFingerprint}`);
    expect(accepted(healthy, users.plain)).toBe(logins); // the credential was never offered
    expect((await hostKeysOfDevice(ctx.store, 'guid-edge-1'))[0]!.fingerprint).toBe(oldFingerprint);

    const removed = await repinHostKey(ctx.store, { guid: 'guid-edge-1', hostname: 'edge-1' }, 'cli:tester', T + 10);
    expect(removed.fingerprint).toBe(oldFingerprint);
    // (The test keyring's unlock writes its own audit rows; only the device's are looked at.)
    const audit = await ctx.db.selectFrom('audit_log').selectAll().where('object_type', '=', 'device').execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor: 'cli:tester', action: 'device.host_key_repin', object_type: 'device', object_id: 'edge-1' });

    const o3 = await occurrence(T + 7_200_000, s.id, cred.id, probe);
    await executeScheduledRun(executorContext(ctx, o3.item, sshConfig()));
    expect((await targets(o3.runId)).map((t) => [t.status, t.detail])).toEqual([['Success', 'command: exit code 0']]);
    expect((await hostKeysOfDevice(ctx.store, 'guid-edge-1'))[0]!.fingerprint).toBe(newFingerprint);
  });
  it('onboarding over SSH: the install step reaches the discovered address with the job credential, each step in the timeline', async () => {
    const T = Date.now();
    const s = await createSite(ctx.store, { name: `lab-${T}` }, T);
    const cred = await credential(users.plain, 'password', T);
    await insertJob(ctx.db, {
      at: T,
      name: 'onboard over ssh',
      job_kind: 'onboarding',
      execution_context: 'ssh',
      credential_id: cred.id,
      targets_json: toJson({ onboarding_scope: { site_id: s.id, entries: [healthy.address, refusing.address], exclusions: [], ports: [22] } }),
      components_json: toJson([
        { kind: 'device_onboarding', probe_timeout_seconds: 1, approval_timeout_seconds: 1, install: { kind: 'script', script: 'echo "install $JOBYARD_APPROVAL_REFERENCE as $(id -un) pw=$JOBYARD_CREDENTIAL_PASSWORD"' } },
      ]),
    });
    await tick(ctx.store, { now: T });
    const item = await claimOne(ctx, s.id, T + 1);
    const logs = capturingLogger();
    await executeOnboardingRun(executorContext(ctx, item, { ...sshConfig(), logger: logs.logger }));
    const rows = await ctx.db.selectFrom('scheduled_job_onboarding_targets').selectAll().where('run_id', '=', item.run_id!).orderBy('id').execute();
    const events = async (rowId: number) =>
      (await ctx.db.selectFrom('scheduled_job_onboarding_target_events').selectAll().where('target_row_id', '=', rowId).orderBy('id').execute()).map((e) => [e.task, e.status, e.detail]);
    const good = rows.find((r) => r.target_address === healthy.address)!;
    expect(good).toMatchObject({ status: 'approval_timeout', ssh_port: 22 });
    expect(good.stdout_snippet).toBe(`install ${good.approval_reference} as ${users.plain.name} pw=\n`);
    expect(await events(good.id)).toEqual([
      ['probe', 'completed', 'port 22 open'],
      ['ssh_connect', 'completed', `connected as ${users.plain.name}; host key ${await healthy.fingerprint()} (pinned on first contact)`],
      ['install', 'completed', 'installed (exit code 0)'],
      ['await_approval', 'failed', expect.stringMatching(/approval/)],
    ]);
    const bad = rows.find((r) => r.target_address === refusing.address)!;
    expect(bad.status).toBe('install_failed');
    expect(bad.detail).toMatch(/^install failed: .*authentication refused for the job's credential/);
    expect((await events(bad.id)).map((e) => e.slice(0, 2))).toEqual([['probe', 'completed'], ['ssh_connect', 'failed']]);
    expect(await ctx.db.selectFrom('ssh_host_keys').select('subject').execute()).toEqual(
      expect.arrayContaining([{ subject: `address:${healthy.address}:22` }, { subject: `address:${refusing.address}:22` }]),
    );
    await expectNoSecretAnywhere(ctx, [users.plain.password], logs.text());
  });
});

/** No secret value in any stored row (every table, as text) or in the captured log. */
async function expectNoSecretAnywhere(ctx: BackendContext, secrets: string[], logText: string): Promise<void> {
  const tables = ['activity_history', 'scheduled_job_run_targets', 'scheduled_job_runs', 'scheduled_job_run_activity', 'job_scheduler_work_items', 'ssh_host_keys', 'audit_log'] as const;
  for (const table of tables) {
    const rows = await ctx.db.selectFrom(table).selectAll().execute();
    const text = JSON.stringify(rows);
    for (const secret of secrets) for (const line of secret.split('\n').filter((l) => l.length > 20 || l === secret)) expect(text).not.toContain(line);
  }
  for (const secret of secrets) expect(logText).not.toContain(secret.split('\n')[0]);
}

/** Nothing of a secret in the target users' homes or the target's temp folders. */
async function expectNothingLeftOnTarget(targetUsers: TestUser[]): Promise<void> {
  for (const user of targetUsers) {
    for (const secret of [user.password, user.passphrase].filter((s): s is string => !!s)) {
      const found = await run('grep', ['-rlF', '--', secret, user.home, '/tmp', '/var/tmp']).then((r) => r.stdout, () => '');
      // The test's own database (its credentials table) lives in /tmp on this same machine.
      expect(found.split('\n').filter((f) => f && !f.startsWith('/tmp/jobyard-test-'))).toEqual([]);
    }
  }
}

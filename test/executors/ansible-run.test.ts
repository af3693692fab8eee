/**
 * ansible_playbook components against real OpenSSH servers in network namespaces
 * (test/helpers/ssh-hosts.ts): one shared run row per playbook, per-host PLAY RECAP rows, each
 * target's outcome from its recap line; a healthy host, an unreachable one (link down after its
 * key was pinned), one refusing the credential; a changed host key refused; no secret left in
 * the temp dir, rows, logs or on the target; cancel; ansible-playbook missing. Both backends.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, expect, it, vi } from 'vitest';
import { toJson } from '../../src/db/dialect.js';
import { executeScheduledRun } from '../../src/executors/scheduled-run.js';
import { openSsh } from '../../src/executors/ssh/connection.js';
import { deviceSubject } from '../../src/executors/ssh/host-keys.js';
import { completeWorkItems } from '../../src/queue/index.js';
import { applyRunRollups } from '../../src/schedule/rollup.js';
import { tick } from '../../src/schedule/ticker.js';
import { claimOne, executorContext, unlockTestCredentials } from '../fixtures/executors/executor-helpers.js';
import { describeBackends, type BackendContext } from '../helpers/backends.js';
import { checkJobForCreate } from '../../src/schedule/jobs.js';
import { insertJob, jobDefinition } from '../helpers/jobs.js';
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
});

afterAll(async () => {
  await Promise.all([healthy?.stop(), down?.stop(), refusing?.stop()]);
  await removeTestUsers(users);
});

const ansibleDirs = () => readdirSync(tmpdir()).filter((f) => f.startsWith('jobyard-ansible-'));

const PLAYBOOK = `
- hosts: all
  gather_facts: false
  tasks:
    - name: who
      ansible.builtin.command: id -un
    - name: marker
      ansible.builtin.copy:
        dest: "/tmp/jy-ansible-{{ inventory_hostname }}-{{ ansible_user }}"
        content: "ran\\n"
`;

describeBackends('ansible_playbook on real hosts', (ctx: BackendContext) => {
  beforeEach(() => ctx.truncateAll());

  /** A credential as `credentials add` leaves it: encrypted under the test keyring, which is unlocked. */
  async function credential(user: TestUser, T: number) {
    const row = await ctx.db
      .insertInto('credentials')
      .values({ name: `${user.name}-pw-${T}`, username: user.name, connection_type: 'ssh', password_encrypted: Buffer.from(user.password), become_password_encrypted: Buffer.from(user.password), created_at: T, updated_at: T })
      .returning('id')
      .executeTakeFirstOrThrow();
    await unlockTestCredentials(ctx);
    return row;
  }

  const site = (T: number, devices: Record<string, SshHost>) => siteOfSshHosts(ctx.store, T, devices);

  async function occurrence(T: number, siteId: number, credentialId: number, components: unknown[]) {
    await insertJob(ctx.db, { at: T, name: `ansible-${T}`, execution_context: 'ssh', credential_id: credentialId, targets_json: toJson({ sites: [siteId] }), components_json: toJson(components) });
    await ctx.db.updateTable('devices').set({ last_seen: T }).execute();
    await tick(ctx.store, { now: T });
    await ctx.db.updateTable('scheduled_jobs').set({ enabled: false, next_run_at: null }).execute();
    const item = await claimOne(ctx, siteId, T + 1);
    return { runId: item.run_id!, item };
  }

  /** Pins a device's key through the ssh path's own first contact. */
  async function pin(hostname: string, host: SshHost, user: TestUser) {
    const conn = await openSsh(
      { host: host.address, port: host.port, subject: deviceSubject(`guid-${hostname}`), hostname },
      { username: user.name, password: user.password },
      { store: ctx.store, connectTimeoutMs: 3000, now: () => 4_000_000_000_000 },
    );
    if (conn.ok) conn.client.end();
  }

  const sshConfig = () => ({ config: { ...executorContext(ctx, {} as never).config, ssh: { connectTimeoutMs: 3000, killGraceMs: 500 } } });
  const targets = (runId: number) =>
    ctx.db.selectFrom('scheduled_job_run_targets').select(['id', 'hostname', 'inventory_hostname', 'status', 'detail']).where('run_id', '=', runId).orderBy('hostname').execute();
  const componentRuns = (jobId: number) =>
    ctx.db.selectFrom('scheduled_job_runs').selectAll().where('job_id', '=', jobId).where('component_index', 'is not', null).orderBy('component_index').execute();

  it('runs each playbook once over all targets: recap per host, target outcomes from it, one shared row per component, the run Partial', { timeout: 90_000 }, async () => {
    const T = 4_102_444_800_000;
    const s = await site(T, { 'web-1': healthy, 'web-down': down, 'web-refuses': refusing });
    const cred = await credential(users.plain, T);
    await pin('web-down', down, users.plain); // pinned while it was up; then its link goes down
    await down.host.linkDown();
    try {
      const logs = capturingLogger();
      const o = await occurrence(T, s.id, cred.id, [
        { kind: 'ansible_playbook', name: 'first', playbook: PLAYBOOK },
        { kind: 'ansible_playbook', name: 'second', playbook: '- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.builtin.ping:\n' },
      ]);
      const result = await executeScheduledRun(executorContext(ctx, o.item, { ...sshConfig(), logger: logs.logger }));
      expect(result).toEqual({ targets: 3, succeeded: 1, failed: 2 });

      const rows = await targets(o.runId);
      expect(rows.map((r) => [r.hostname, r.inventory_hostname, r.status])).toEqual([
        ['web-1', 'web-1', 'Success'],
        ['web-down', 'web-down', 'Failed'],
        ['web-refuses', 'web-refuses', 'Failed'],
      ]);
      expect(rows[1]!.detail).toMatch(/^first: unreachable: /);
      // Which words ansible uses for a refused login is its own race: ssh exits on the refusal
      // while ansible may still be writing the module to it (then it reports the broken pipe).
      expect(rows[2]!.detail).toMatch(/^first: unreachable: .*(Permission denied|Invalid\/incorrect password|Broken pipe)/i);

      const jobId = o.item.job_id!;
      const comps = await componentRuns(jobId);
      expect(comps.map((c) => [c.component_index, c.component_kind, c.component_name, c.target_hostname, Boolean(c.shared_execution), c.status])).toEqual([
        [0, 'ansible_playbook', 'first', null, true, 'Partial'],
        [1, 'ansible_playbook', 'second', null, true, 'Success'], // only web-1 was still going
      ]);
      const recaps = await ctx.db.selectFrom('ansible_play_recaps').selectAll().where('run_id', '=', comps[0]!.id).orderBy('inventory_hostname').execute();
      expect(recaps.map((r) => [r.inventory_hostname, r.ok, r.changed, r.unreachable, r.failed])).toEqual([
        ['web-1', 2, 2, 0, 0],
        ['web-down', 0, 0, 1, 0],
        ['web-refuses', 0, 0, 1, 0],
      ]);
      expect(recaps[0]!.target_id).toBe(rows[0]!.id);

      await completeWorkItems(ctx.store, 'worker-test', [{ item: o.item, result }], { now: T + 5 });
      await applyRunRollups(ctx.store, { now: T + 6 });
      const occurrenceRow = await ctx.db.selectFrom('scheduled_job_runs').select(['status']).where('id', '=', o.runId).executeTakeFirstOrThrow();
      expect(occurrenceRow.status).toBe('Partial');

      // Secrets: the temp dir is gone; no row, log line or file on the target holds the password.
      expect(ansibleDirs()).toEqual([]);
      const secret = users.plain.password;
      for (const table of ['activity_history', 'scheduled_job_run_targets', 'scheduled_job_runs', 'ansible_play_recaps', 'job_scheduler_work_items'] as const) {
        expect(JSON.stringify(await ctx.db.selectFrom(table).selectAll().execute())).not.toContain(secret);
      }
      expect(logs.text()).not.toContain(secret);
      const found = await run('grep', ['-rlF', '--', secret, users.plain.home, '/tmp', '/var/tmp']).then((r) => r.stdout, () => '');
      expect(found.split('\n').filter((f) => f && !f.startsWith('/tmp/jobyard-test-'))).toEqual([]);
    } finally {
      await down.host.linkUp();
      await run('sh', ['-c', 'rm -f /tmp/jy-ansible-*']);
    }
  });

  it('refuses a changed host key: OpenSSH checks the pin strictly and the target fails with the reason', { timeout: 60_000 }, async () => {
    const T = 4_102_445_100_000;
    const s = await site(T, { 'edge-1': healthy });
    const cred = await credential(users.plain, T);
    await pin('edge-1', healthy, users.plain);
    await healthy.rotateHostKey();
    const o = await occurrence(T, s.id, cred.id, [{ kind: 'ansible_playbook', playbook: PLAYBOOK }]);
    expect(await executeScheduledRun(executorContext(ctx, o.item, sshConfig()))).toEqual({ targets: 1, succeeded: 0, failed: 1 });
    const [t] = await targets(o.runId);
    expect(t!.detail).toMatch(/^ansible_playbook: (host key changed: |\S+:22: host key changed: pinned ssh-ed25519 SHA256:)/);
    expect(await run('sh', ['-c', 'ls /tmp/jy-ansible-* 2>/dev/null || true']).then((r) => r.stdout)).toBe('');
  });

  it('cancel kills the ansible-playbook process group and records the targets Cancelled', { timeout: 60_000 }, async () => {
    const T = 4_102_445_200_000;
    const s = await site(T, { 'app-1': healthy });
    const cred = await credential(users.plain, T);
    const tag = String(10000 + Math.floor(Math.random() * 89999));
    const o = await occurrence(T, s.id, cred.id, [{ kind: 'ansible_playbook', playbook: `- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.builtin.command: sleep 3${tag}\n` }]);
    const ac = new AbortController();
    const running = executeScheduledRun(executorContext(ctx, o.item, { ...sshConfig(), signal: ac.signal }));
    const pgrep = async (pattern: string) => (await run('pgrep', ['-f', pattern]).catch(() => ({ stdout: '' }))).stdout.trim();
    await vi.waitFor(async () => expect(await pgrep(`sleep 3${tag}`)).not.toBe(''), { timeout: 30_000, interval: 100 });
    ac.abort(new Error('item cancelled'));
    await expect(running).rejects.toThrow('execution stopped: item cancelled');
    // The run is reported once the playbook's process group is gone; polled briefly, since pgrep
    // may still list a member the kernel is tearing down.
    await vi.waitFor(async () => expect(await pgrep('ansible-playbook -i /tmp/jobyard-ansible-')).toBe(''), { timeout: 5_000, interval: 100 });
    expect(ansibleDirs()).toEqual([]);
    const [t] = await targets(o.runId);
    expect(t).toMatchObject({ status: 'Cancelled', detail: 'ansible_playbook: cancelled' });
    await run('pkill', ['-f', `sleep 3${tag}`]).catch(() => undefined);
  });

  it('fails the component with "ansible-playbook not installed" when it is not on PATH', async () => {
    const T = 4_102_445_300_000;
    const s = await site(T, { 'web-1': healthy });
    const cred = await credential(users.plain, T);
    const o = await occurrence(T, s.id, cred.id, [{ kind: 'ansible_playbook', name: 'p', playbook: PLAYBOOK }]);
    vi.stubEnv('PATH', '/nonexistent');
    try {
      expect(await executeScheduledRun(executorContext(ctx, o.item, sshConfig()))).toEqual({ targets: 1, succeeded: 0, failed: 1 });
    } finally {
      vi.unstubAllEnvs();
    }
    expect((await targets(o.runId))[0]).toMatchObject({ status: 'Failed', detail: 'ansible-playbook not installed' });
    const [comp] = await componentRuns(o.item.job_id!);
    expect(comp).toMatchObject({ status: 'Failed', error: 'ansible-playbook not installed', component_index: 0, component_name: 'p' });
  });

  it('jobs create warns (and still accepts) when ansible-playbook is not installed on this host', async () => {
    const T = 4_102_445_400_000;
    const s = await site(T, { 'web-1': healthy });
    const cred = await credential(users.plain, T);
    const definition = jobDefinition({ targets: { sites: [s.id] }, execution_context: 'ssh', credential_id: cred.id, components: [{ kind: 'ansible_playbook', playbook: PLAYBOOK }] });
    const now = Date.parse('2026-12-01T00:00:00Z');
    expect((await checkJobForCreate(ctx.store, definition, { now })).warnings).toEqual([]);
    vi.stubEnv('PATH', '/nonexistent');
    try {
      expect((await checkJobForCreate(ctx.store, definition, { now })).warnings).toEqual([
        "components.0.kind: ansible-playbook not installed on this host (install Debian's ansible-core); the component fails until it is",
      ]);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('keeps the occurrence fence: one plain row per (job, occurrence), one shared row per (job, occurrence, component)', async () => {
    const T = 4_102_445_500_000;
    const job = await insertJob(ctx.db, { at: T, name: `fence-${T}` });
    const row = (componentIndex: number | null) =>
      ctx.db.insertInto('scheduled_job_runs').values({ job_id: job.id, scheduled_ts: T, status: 'Pending', component_index: componentIndex, created_at: T, updated_at: T }).execute();
    await row(null);
    await expect(row(null)).rejects.toThrow();
    await row(0);
    await row(1);
    await expect(row(1)).rejects.toThrow();
  });

  it('logs in with a private key (a 0600 file, gone after) and refuses a passphrase-protected one with the reason', { timeout: 60_000 }, async () => {
    const T = 4_102_445_600_000;
    const s = await site(T, { 'key-1': healthy });
    await pin('key-1', healthy, users.plain);
    const user = users.sudoer;
    // The same key without its passphrase (ssh-keygen -p on a private copy).
    const dir = mkdtempSync(join(tmpdir(), 'jy-keycopy-'));
    writeFileSync(join(dir, 'id'), user.privateKey!, { mode: 0o600 });
    await run('ssh-keygen', ['-q', '-p', '-P', user.passphrase!, '-N', '', '-f', join(dir, 'id')]);
    const plainKey = readFileSync(join(dir, 'id'), 'utf8');
    rmSync(dir, { recursive: true, force: true });
    const key = async (name: string, privateKey: string, passphrase: string | null) => {
      const row = await ctx.db
        .insertInto('credentials')
        .values({ name, username: user.name, connection_type: 'ssh', private_key_encrypted: Buffer.from(privateKey), private_key_passphrase_encrypted: passphrase === null ? null : Buffer.from(passphrase), created_at: T, updated_at: T })
        .returning('id')
        .executeTakeFirstOrThrow();
      await unlockTestCredentials(ctx);
      return row;
    };
    const good = await key('plain-key', plainKey, null);
    const o1 = await occurrence(T, s.id, good.id, [{ kind: 'ansible_playbook', playbook: '- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.builtin.command: id -un\n' }]);
    expect(await executeScheduledRun(executorContext(ctx, o1.item, sshConfig()))).toEqual({ targets: 1, succeeded: 1, failed: 0 });
    expect(ansibleDirs()).toEqual([]);

    const locked = await key('locked-key', user.privateKey!, user.passphrase!);
    const o2 = await occurrence(T + 3_600_000, s.id, locked.id, [{ kind: 'ansible_playbook', playbook: PLAYBOOK }]);
    expect(await executeScheduledRun(executorContext(ctx, o2.item, sshConfig()))).toEqual({ targets: 1, succeeded: 0, failed: 1 });
    expect((await targets(o2.runId))[0]!.detail).toMatch(/passphrase-protected private key/);
    const stored = JSON.stringify([await ctx.db.selectFrom('activity_history').selectAll().execute(), await ctx.db.selectFrom('scheduled_job_run_targets').selectAll().execute()]);
    expect(stored).not.toContain(plainKey.split('\n')[1]);
  });
});

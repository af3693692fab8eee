/** onboarding_run end to end on both backends, against TCP listeners on 127.0.0.x only. */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { toJson } from '../../src/db/dialect.js';
import type { WorkItem } from '../../src/db/schema.js';
import { executeOnboardingRun, type OnboardingRunResult } from '../../src/executors/onboarding/index.js';
import { completeWorkItems, PermanentError } from '../../src/queue/index.js';
import { applyRunRollups } from '../../src/schedule/rollup.js';
import { tick } from '../../src/schedule/ticker.js';
import { createSite } from '../../src/inventory/sites.js';
import { claimOne, executorContext, insertCredential } from '../fixtures/executors/executor-helpers.js';
import { describeBackends, type BackendContext } from '../helpers/backends.js';
import { insertJob } from '../helpers/jobs.js';

const node = process.execPath;
const SECRET = 'onb0arding-Secret';

/** Prints what it got; fails for 127.0.0.6. */
const INSTALL = `
  const e = process.env;
  console.log('installing on ' + e.JOBYARD_TARGET_ADDRESS + ':' + e.JOBYARD_TARGET_PORT + ' ref=' + e.JOBYARD_APPROVAL_REFERENCE + ' pw=' + e.JOBYARD_CREDENTIAL_PASSWORD);
  if (e.JOBYARD_TARGET_ADDRESS === '127.0.0.6') { console.error('ssh: auth failed; token=abc123'); process.exit(2); }`;

async function listen(host: string): Promise<net.Server> {
  const server = net.createServer((socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  return server;
}

const portOf = (s: net.Server) => (s.address() as AddressInfo).port;

async function rowsOf(ctx: BackendContext, runId: number) {
  return ctx.db.selectFrom('scheduled_job_onboarding_targets').selectAll().where('run_id', '=', runId).orderBy('id').execute();
}

async function eventsOf(ctx: BackendContext, rowId: number) {
  return ctx.db
    .selectFrom('scheduled_job_onboarding_target_events')
    .selectAll()
    .where('target_row_id', '=', rowId)
    .orderBy('id')
    .execute();
}

/** Answers approval requests (as an operator would) for rows that reach awaiting_approval. */
function approver(ctx: BackendContext, runId: number, decide: (address: string) => string | null) {
  let stop = false;
  const answered = new Set<number>();
  const done = (async () => {
    while (!stop) {
      const waiting = await ctx.db
        .selectFrom('scheduled_job_onboarding_targets')
        .select(['id', 'target_address', 'approval_reference', 'site_id'])
        .where('run_id', '=', runId)
        .where('status', '=', 'awaiting_approval')
        .execute();
      for (const row of waiting) {
        if (answered.has(row.id)) continue;
        answered.add(row.id);
        const status = decide(row.target_address!);
        if (status === null) continue;
        const now = Date.now();
        await ctx.db
          .insertInto('device_approvals')
          .values({
            approval_reference: row.approval_reference!,
            hostname_claimed: `host-${row.target_address!.split('.').at(-1)}`,
            site_id: row.site_id,
            status,
            created_at: now,
            updated_at: now,
          })
          .execute();
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return async () => {
    stop = true;
    await done;
  };
}

describeBackends('onboarding_run executor', (ctx) => {
  const servers: net.Server[] = [];
  beforeEach(() => ctx.truncateAll());
  afterEach(async () => {
    for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
  });

  async function onboardingJob(entries: string[], exclusions: string[], ports: number[], component: Record<string, unknown>, extra: Record<string, unknown> = {}) {
    const T = Date.now();
    const site = await createSite(ctx.store, { name: `lab-${T}` }, T);
    const job = await insertJob(ctx.db, {
      at: T,
      name: 'onboard lab',
      job_kind: 'onboarding',
      targets_json: toJson({ onboarding_scope: { site_id: site.id, entries, exclusions, ports } }),
      components_json: toJson([{ kind: 'device_onboarding', probe_timeout_seconds: 1, install: { argv: [node, '-e', INSTALL] }, ...component }]),
      ...extra,
    });
    await tick(ctx.store, { now: T });
    const item = await claimOne(ctx, site.id, T + 1);
    expect(item.kind).toBe('onboarding_run');
    return { T, site, job, item };
  }

  it('probes, installs and waits for approval; records invalid, excluded and unreachable entries', async () => {
    const a = await listen('127.0.0.2');
    const b = await listen('127.0.0.3');
    servers.push(a, b);
    const cred = await insertCredential(ctx, Date.now(), { name: 'lab-ssh', username: 'root', password: SECRET });
    const { job, item } = await onboardingJob(
      ['127.0.0.2 # LAB-A', '127.0.0.3', '127.0.0.4 # nobody home', '127.0.0.5 # printer', '127.0.0.300 # typo'],
      ['127.0.0.5'],
      [portOf(a), portOf(b)],
      { concurrency: 4, approval_timeout_seconds: 20 },
      { credential_id: cred.id },
    );
    const stopApprover = approver(ctx, item.run_id!, () => 'approved');
    let result: OnboardingRunResult;
    try {
      result = (await executeOnboardingRun(executorContext(ctx, item))) as OnboardingRunResult;
    } finally {
      await stopApprover();
    }
    expect(result).toEqual({ targets: 5, counts: { invalid: 1, excluded: 1, enrolled: 2, unreachable: 1 } });

    const rows = await rowsOf(ctx, item.run_id!);
    const byInput = new Map(rows.map((r) => [r.target_input, r]));
    for (const r of rows) expect(r).toMatchObject({ job_id: job.id, site_id: item.site_id, scheduled_ts: item.payload_json.scheduled_ts });
    for (const r of rows) expect(r.finished_at).not.toBeNull();

    const labA = byInput.get('127.0.0.2 # LAB-A')!;
    expect(labA).toMatchObject({ target_address: '127.0.0.2', status: 'enrolled', ssh_port: portOf(a), target_hostname: 'host-2' });
    expect(labA.approval_reference).toMatch(/^[0-9a-f-]{36}$/);
    expect(labA.stdout_snippet).toBe(`installing on 127.0.0.2:${portOf(a)} ref=${labA.approval_reference} pw=***\n`);
    const labB = byInput.get('127.0.0.3')!;
    expect(labB).toMatchObject({ target_address: '127.0.0.3', status: 'enrolled', ssh_port: portOf(b), target_hostname: 'host-3' });
    expect(labB.approval_reference).not.toBe(labA.approval_reference);
    const nobody = byInput.get('127.0.0.4 # nobody home')!;
    expect(nobody).toMatchObject({ target_address: '127.0.0.4', status: 'unreachable', ssh_port: null });
    expect(nobody.detail).toMatch(/^no open port \(\d+: ECONNREFUSED; \d+: ECONNREFUSED\)$/);
    expect(byInput.get('127.0.0.5 # printer')).toMatchObject({ target_address: '127.0.0.5', status: 'excluded', detail: 'matched an exclusion' });
    const typo = byInput.get('127.0.0.300 # typo')!;
    expect(typo).toMatchObject({ target_address: null, status: 'invalid' });
    expect(typo.detail).toMatch(/not an IPv4 address/);
    for (const r of rows) for (const text of [r.stdout_snippet, r.stderr_snippet, r.detail]) expect(text ?? '').not.toContain(SECRET);

    const timeline = async (rowId: number) => (await eventsOf(ctx, rowId)).map((e) => [e.task, e.status]);
    expect(await timeline(labA.id)).toEqual([['probe', 'completed'], ['install', 'completed'], ['await_approval', 'completed']]);
    expect(await timeline(labB.id)).toEqual([['probe', 'completed'], ['install', 'completed'], ['await_approval', 'completed']]);
    expect(await timeline(nobody.id)).toEqual([['probe', 'failed']]);
    expect(await timeline(byInput.get('127.0.0.5 # printer')!.id)).toEqual([['scope', 'skipped']]);
    expect(await timeline(typo.id)).toEqual([['scope', 'failed']]);
    const events = await eventsOf(ctx, labA.id);
    for (const e of events) {
      expect(e).toMatchObject({ run_id: item.run_id, job_id: job.id });
      expect(e.finished_at).toBeGreaterThanOrEqual(e.started_at!);
    }
    expect(events[0]!.detail).toBe(`port ${portOf(a)} open`);
    expect(events[1]!.stdout_snippet).toContain('pw=***');
    expect(events[2]!.detail).toMatch(/^approval \d+ approved$/);
    // Each task starts after the previous one closed.
    expect(events[1]!.started_at).toBeGreaterThanOrEqual(events[0]!.finished_at!);
    expect(events[2]!.started_at).toBeGreaterThanOrEqual(events[1]!.finished_at!);

    await completeWorkItems(ctx.store, 'worker-test', [{ item, result }], { now: Date.now() });
    expect(await applyRunRollups(ctx.store)).toBe(1);
    // Two enrolled, one unreachable and one invalid entry (the excluded one does not count).
    expect(await ctx.db.selectFrom('scheduled_job_runs').select(['status', 'error']).where('id', '=', item.run_id!).executeTakeFirstOrThrow()).toEqual({
      status: 'Partial',
      error: '2 target(s) failed',
    });
  });

  it('records install failures, denials and approval timeouts', async () => {
    const s6 = await listen('127.0.0.6');
    const s7 = await listen('127.0.0.7');
    const s8 = await listen('127.0.0.8');
    servers.push(s6, s7, s8);
    const { item } = await onboardingJob(['127.0.0.6-8'], [], [portOf(s6), portOf(s7), portOf(s8)], { approval_timeout_seconds: 1 });
    const stopApprover = approver(ctx, item.run_id!, (address) => (address === '127.0.0.7' ? 'denied' : null));
    let result: OnboardingRunResult;
    try {
      result = (await executeOnboardingRun(executorContext(ctx, item))) as OnboardingRunResult;
    } finally {
      await stopApprover();
    }
    expect(result).toEqual({ targets: 3, counts: { install_failed: 1, denied: 1, approval_timeout: 1 } });
    const rows = await rowsOf(ctx, item.run_id!);
    const [r6, r7, r8] = rows;
    expect(rows.map((r) => r.target_input)).toEqual(['127.0.0.6-8', '127.0.0.6-8', '127.0.0.6-8']);
    expect(r6).toMatchObject({ target_address: '127.0.0.6', status: 'install_failed', detail: 'install failed: exit code 2' });
    expect(r6!.stderr_snippet).toBe('ssh: auth failed; token=***\n[jobyard] exit code 2');
    expect(r7).toMatchObject({ target_address: '127.0.0.7', status: 'denied', target_hostname: 'host-7' });
    expect(r8).toMatchObject({ target_address: '127.0.0.8', status: 'approval_timeout', detail: 'no decision within 1 s (no approval request seen)' });
    const timeline = async (rowId: number) => (await eventsOf(ctx, rowId)).map((e) => [e.task, e.status]);
    expect(await timeline(r6!.id)).toEqual([['probe', 'completed'], ['install', 'failed']]);
    expect((await eventsOf(ctx, r6!.id))[1]!.stderr_snippet).toContain('token=***');
    expect(await timeline(r7!.id)).toEqual([['probe', 'completed'], ['install', 'completed'], ['await_approval', 'failed']]);
    expect(await timeline(r8!.id)).toEqual([['probe', 'completed'], ['install', 'completed'], ['await_approval', 'failed']]);
  });

  it('touches no host when an exclusion cannot be parsed', async () => {
    const s = await listen('127.0.0.9');
    servers.push(s);
    const { item } = await onboardingJob(['127.0.0.9', '127.0.0.10'], ['127.0.0.10-9 # backwards'], [portOf(s)], {});
    const result = (await executeOnboardingRun(executorContext(ctx, item))) as OnboardingRunResult;
    expect(result).toEqual({ targets: 3, counts: { invalid: 1, skipped: 2 } });
    const rows = await rowsOf(ctx, item.run_id!);
    expect(rows.map((r) => [r.target_input, r.target_address, r.status])).toEqual([
      ['127.0.0.10-9 # backwards', null, 'invalid'],
      ['127.0.0.9', '127.0.0.9', 'skipped'],
      ['127.0.0.10', '127.0.0.10', 'skipped'],
    ]);
    expect(rows[0]!.detail).toBe('exclusion: range end 127.0.0.9 is before its start 127.0.0.10');
    expect(rows[1]!.detail).toMatch(/^not attempted: the scope has 1 invalid exclusion/);
    expect((await eventsOf(ctx, rows[1]!.id)).map((e) => [e.task, e.status])).toEqual([['scope', 'skipped']]);
  });

  it('stops when the signal aborts and resumes unfinished targets on the next attempt with the same reference', async () => {
    const s = await listen('127.0.0.11');
    servers.push(s);
    const { item } = await onboardingJob(['127.0.0.11', '127.0.0.12 # down'], [], [portOf(s)], { approval_timeout_seconds: 30 });
    const ac = new AbortController();
    // Abort once the reachable target waits for approval.
    const waiter = (async () => {
      for (;;) {
        const row = await ctx.db.selectFrom('scheduled_job_onboarding_targets').select('status').where('run_id', '=', item.run_id!).where('target_address', '=', '127.0.0.11').executeTakeFirst();
        if (row?.status === 'awaiting_approval') return ac.abort(new Error('lease lost'));
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    await expect(executeOnboardingRun(executorContext(ctx, item, { signal: ac.signal }))).rejects.toThrow('execution stopped: lease lost');
    await waiter;
    let rows = await rowsOf(ctx, item.run_id!);
    expect(rows.map((r) => r.status)).toEqual(['awaiting_approval', 'unreachable']);
    const reference = rows[0]!.approval_reference!;

    // Next attempt: the unreachable row is final and left alone; the other starts over and keeps its reference.
    const stopApprover = approver(ctx, item.run_id!, () => 'completed');
    let result: OnboardingRunResult;
    try {
      result = (await executeOnboardingRun(executorContext(ctx, { ...item, attempt_count: 2 } as WorkItem))) as OnboardingRunResult;
    } finally {
      await stopApprover();
    }
    expect(result).toEqual({ targets: 2, counts: { enrolled: 1, unreachable: 1 } });
    rows = await rowsOf(ctx, item.run_id!);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({ status: 'enrolled', approval_reference: reference });
    expect((await eventsOf(ctx, rows[0]!.id)).map((e) => [e.task, e.status])).toEqual([
      ['probe', 'completed'],
      ['install', 'completed'],
      ['await_approval', 'interrupted'],
      ['probe', 'completed'],
      ['install', 'completed'],
      ['await_approval', 'completed'],
    ]);
    expect((await eventsOf(ctx, rows[1]!.id)).map((e) => e.task)).toEqual(['probe']);
  });

  it('fails permanently without a device_onboarding component, an install command or a usable scope', async () => {
    const { job, item } = await onboardingJob(['127.0.0.13'], [], [22], {});
    const run = () => executeOnboardingRun(executorContext(ctx, item));
    await ctx.db.updateTable('scheduled_jobs').set({ components_json: toJson([{ kind: 'command', argv: ['true'] }]) }).where('id', '=', job.id).execute();
    await expect(run()).rejects.toThrow(new PermanentError(`job ${job.id}: an onboarding job needs a device_onboarding component`));
    await ctx.db.updateTable('scheduled_jobs').set({ components_json: toJson([{ kind: 'device_onboarding' }]) }).where('id', '=', job.id).execute();
    await expect(run()).rejects.toThrow(/needs an install component/);
    await ctx.db.updateTable('scheduled_jobs').set({ components_json: toJson([{ kind: 'device_onboarding', install: { argv: ['true'] } }]), targets_json: toJson({ onboarding_scope: { site_id: item.site_id, entries: [], ports: ['ssh'] } }) }).where('id', '=', job.id).execute();
    await expect(run()).rejects.toThrow(/ports must be a non-empty array of TCP ports/);
    expect(await rowsOf(ctx, item.run_id!)).toEqual([]);
  });
});

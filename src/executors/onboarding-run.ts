/**
 * `onboarding_run`: automatic local-network onboarding of the addresses in an onboarding job's
 * scope (onboarding-scope.ts), for the site of the item.
 *
 * Rows (`scheduled_job_onboarding_targets`, one per scope address, plus one per bad entry):
 *   invalid entry          → status 'invalid', the parse error in detail (target_address NULL)
 *   excluded address       → status 'excluded'
 *   address to onboard     → 'pending' → 'probing' → 'installing' → 'awaiting_approval' →
 *                            one of 'unreachable' | 'install_failed' | 'enrolled' | 'denied' |
 *                            'approval_expired' | 'approval_timeout'
 *                            (or 'skipped' when the scope has an invalid exclusion, see below)
 * target_input is the raw entry (comment included); every row gets created/updated_at and, once
 * final, finished_at. Each onboarded address gets a fresh approval_reference (uuid) on its row.
 *
 * Timeline (`scheduled_job_onboarding_target_events`): one row per task, appended when the task
 * starts (status 'running', started_at) and closed when it ends (finished_at, status 'completed'
 * or 'failed', detail, sanitized snippets). Tasks: `probe`, `install`, `await_approval`; an
 * unreachable address has `probe` only. Invalid and excluded rows get one closed `scope` event
 * ('failed' / 'skipped'). Starting a task closes any event of the target still open (an attempt
 * interrupted earlier) as 'interrupted'.
 *
 * Tasks:
 * - probe: TCP connect to each port in order (scope `ports`, else the component's `ports`, else
 *   [22]) with a short timeout (component `probe_timeout_seconds`, default 2 s); the first open
 *   port is stored as ssh_port. None open → 'unreachable'.
 * - install: the device_onboarding component's `install` component (a `command` unless it names
 *   another kind) with JOBYARD_TARGET_ADDRESS, JOBYARD_TARGET_PORT, JOBYARD_APPROVAL_REFERENCE,
 *   JOBYARD_SITE_ID, JOBYARD_RUN_ID, JOBYARD_JOB_ID and the job credential's
 *   JOBYARD_CREDENTIAL_* variables; failure → 'install_failed' with masked, capped snippets.
 * - await_approval: polls `device_approvals` every APPROVAL_POLL_MS (250 ms) for the row with
 *   this approval_reference (or, failing that, one whose onboarding_run_id/onboarding_target name
 *   this run and address) up to `approval_timeout_seconds` (default 600): approved/completed →
 *   'enrolled' (target_hostname from hostname_claimed), denied → 'denied', expired →
 *   'approval_expired', no decision in time → 'approval_timeout'.
 *
 * Concurrency: addresses run under a p-limit of the device_onboarding component's `concurrency`
 * (default 4, at most 64).
 *
 * Fail-safe: when an exclusion cannot be parsed, the operator's intent to keep some hosts out
 * cannot be honoured, so no address is probed: valid addresses get status 'skipped' with a
 * detail naming the bad exclusion(s), and the bad exclusions get 'invalid' rows.
 *
 * Retries: a retried item reuses the rows of its run and site (matched on target_input and
 * address): final rows are left alone and counted; unfinished ones start again from the probe
 * with the approval_reference they already have. When the signal aborts, probes, the install
 * command and the approval wait stop, unfinished rows stay as they are, and the executor throws.
 *
 * Returns `{ targets, counts }`: rows of this run and site, and how many have each status. The
 * item succeeds whatever the per-address outcomes; it throws a PermanentError when the job, run,
 * device_onboarding component, install component or scope is unusable.
 */
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import pLimit from 'p-limit';
import type { Logger } from '../log.js';
import { PermanentError } from '../queue/runtime.js';
import { runComponent } from './components/index.js';
import { parseOnboardingScope, ScopeError, type OnboardingScope, type ScopeProblem, type ScopeTarget } from './onboarding-scope.js';
import { abortError, itemRefs, jobComponents, jobCredential, loadJobAndRun, positiveInt, type CredentialMaterial, type ItemRefs, type JobRow, type RunRow } from './run-context.js';
import type { Executor, ExecutorContext } from './types.js';

export const DEFAULT_ONBOARDING_CONCURRENCY = 4;
export const MAX_ONBOARDING_CONCURRENCY = 64;
export const DEFAULT_APPROVAL_TIMEOUT_SECONDS = 600;
export const APPROVAL_POLL_MS = 250;
export const DEFAULT_PROBE_TIMEOUT_MS = 2000;

/** Statuses after which an onboarding row is not worked on again. */
export const FINAL_ONBOARDING_STATUSES: ReadonlySet<string> = new Set([
  'invalid',
  'excluded',
  'skipped',
  'unreachable',
  'install_failed',
  'enrolled',
  'denied',
  'approval_expired',
  'approval_timeout',
]);

export interface OnboardingRunResult {
  targets: number;
  counts: Record<string, number>;
}

interface OnboardingSettings {
  concurrency: number;
  approvalTimeoutMs: number;
  probeTimeoutMs: number;
  install: Record<string, unknown>;
}

interface Row {
  id: number;
  target_input: string | null;
  target_address: string | null;
  status: string;
  approval_reference: string | null;
}

interface Env {
  ctx: ExecutorContext;
  refs: ItemRefs;
  job: JobRow;
  run: RunRow;
  scope: OnboardingScope;
  settings: OnboardingSettings;
  credential: CredentialMaterial;
  logger: Logger;
}

export const executeOnboardingRun: Executor = async (ctx: ExecutorContext): Promise<OnboardingRunResult> => {
  const refs = itemRefs(ctx);
  const logger = ctx.logger.child({ kind: 'onboarding_run', itemId: ctx.item.id, jobId: refs.jobId, runId: refs.runId, siteId: refs.siteId });
  const { job, run } = await loadJobAndRun(ctx, refs);
  const component = onboardingComponent(job);
  let scope: OnboardingScope;
  try {
    scope = parseOnboardingScope(job.targets_json, { fallbackPorts: component.ports });
  } catch (err) {
    if (err instanceof ScopeError) throw new PermanentError(`job ${job.id}: ${err.message}`);
    throw err;
  }
  const settings = onboardingSettings(job, component);
  const credential = await jobCredential(ctx, job);
  const env: Env = { ctx, refs, job, run, scope, settings, credential, logger };

  const rows = await ensureRows(env);
  const work = rows.filter((r) => !FINAL_ONBOARDING_STATUSES.has(r.status));
  logger.info({ addresses: scope.targets.length, invalid: scope.invalid.length, excluded: scope.excluded.length, toRun: work.length, concurrency: settings.concurrency }, 'onboarding scope expanded');

  const limit = pLimit(settings.concurrency);
  let infraError: unknown;
  await Promise.all(
    work.map((row) =>
      limit(async () => {
        if (ctx.signal.aborted || infraError !== undefined) return;
        try {
          await onboardTarget(env, row);
        } catch (err) {
          infraError ??= err;
        }
      }),
    ),
  );
  if (infraError !== undefined) throw infraError;
  if (ctx.signal.aborted) throw abortError(ctx.signal);

  const final = await ctx.store.db
    .selectFrom('scheduled_job_onboarding_targets')
    .select('status')
    .where('run_id', '=', refs.runId)
    .where('site_id', '=', refs.siteId)
    .execute();
  const counts: Record<string, number> = {};
  for (const r of final) counts[r.status] = (counts[r.status] ?? 0) + 1;
  const result = { targets: final.length, counts };
  logger.info(result, 'onboarding run finished');
  return result;
};

function onboardingComponent(job: JobRow): Record<string, unknown> {
  const component = jobComponents(job).find(
    (c): c is Record<string, unknown> => typeof c === 'object' && c !== null && (c as { kind?: unknown }).kind === 'device_onboarding',
  );
  if (!component) throw new PermanentError(`job ${job.id}: an onboarding job needs a device_onboarding component`);
  return component;
}

function onboardingSettings(job: JobRow, component: Record<string, unknown>): OnboardingSettings {
  const install = component.install;
  if (typeof install !== 'object' || install === null || Array.isArray(install)) {
    throw new PermanentError(`job ${job.id}: the device_onboarding component needs an install component ({ argv: [...] })`);
  }
  const approvalSeconds = component.approval_timeout_seconds;
  const probeSeconds = component.probe_timeout_seconds;
  return {
    concurrency: positiveInt(component.concurrency, DEFAULT_ONBOARDING_CONCURRENCY, MAX_ONBOARDING_CONCURRENCY),
    approvalTimeoutMs: typeof approvalSeconds === 'number' && approvalSeconds > 0 ? approvalSeconds * 1000 : DEFAULT_APPROVAL_TIMEOUT_SECONDS * 1000,
    probeTimeoutMs: typeof probeSeconds === 'number' && probeSeconds > 0 ? probeSeconds * 1000 : DEFAULT_PROBE_TIMEOUT_MS,
    install: { kind: 'command', ...(install as Record<string, unknown>) },
  };
}

// ---------------------------------------------------------------------------------------------
// Rows

const rowKey = (input: string | null, address: string | null) => `${input ?? ''}\u0000${address ?? ''}`;

/** The rows of this run and site: the ones a previous attempt wrote, and new ones for the rest. */
async function ensureRows(env: Env): Promise<Row[]> {
  const { ctx, refs, scope } = env;
  const existing: Row[] = await ctx.store.db
    .selectFrom('scheduled_job_onboarding_targets')
    .select(['id', 'target_input', 'target_address', 'status', 'approval_reference'])
    .where('run_id', '=', refs.runId)
    .where('site_id', '=', refs.siteId)
    .orderBy('id')
    .execute();
  const byKey = new Map(existing.map((r) => [rowKey(r.target_input, r.target_address), r]));
  const now = ctx.now();
  const badExclusions = scope.invalid.filter((p) => p.exclusion);
  const skipAll = badExclusions.length > 0
    ? `not attempted: the scope has ${badExclusions.length} invalid exclusion${badExclusions.length === 1 ? '' : 's'} (${badExclusions.map((p) => JSON.stringify(p.input)).join(', ')}); fix them so excluded hosts stay untouched`
    : null;

  type Planned = { input: string; address: string | null; status: string; detail: string | null; final: boolean; event?: { status: string; detail: string } };
  const planned: Planned[] = [
    ...scope.invalid.map((p: ScopeProblem): Planned => {
      const detail = p.exclusion ? `exclusion: ${p.error}` : p.error;
      return { input: p.input, address: null, status: 'invalid', detail, final: true, event: { status: 'failed', detail } };
    }),
    ...scope.excluded.map((t: ScopeTarget): Planned => ({
      input: t.targetInput, address: t.address, status: 'excluded', detail: 'matched an exclusion', final: true, event: { status: 'skipped', detail: 'matched an exclusion' },
    })),
    ...scope.targets.map((t: ScopeTarget): Planned =>
      skipAll
        ? { input: t.targetInput, address: t.address, status: 'skipped', detail: skipAll, final: true, event: { status: 'skipped', detail: skipAll } }
        : { input: t.targetInput, address: t.address, status: 'pending', detail: null, final: false },
    ),
  ];
  const seenKeys = new Set(byKey.keys());
  const fresh = planned.filter((p) => {
    const key = rowKey(p.input, p.address);
    if (seenKeys.has(key)) return false; // written by an earlier attempt, or the same bad text listed twice
    seenKeys.add(key);
    return true;
  });
  for (let i = 0; i < fresh.length; i += 500) {
    const batch = fresh.slice(i, i + 500);
    const inserted = await ctx.store.db
      .insertInto('scheduled_job_onboarding_targets')
      .values(
        batch.map((p) => ({
          run_id: refs.runId,
          job_id: refs.jobId,
          scheduled_ts: env.run.scheduled_ts,
          site_id: refs.siteId,
          target_input: p.input,
          target_address: p.address,
          status: p.status,
          detail: p.detail,
          approval_reference: p.final ? null : randomUUID(),
          created_at: now,
          updated_at: now,
          finished_at: p.final ? now : null,
        })),
      )
      .returning(['id', 'target_input', 'target_address', 'status', 'approval_reference'])
      .execute();
    for (const r of inserted) byKey.set(rowKey(r.target_input, r.target_address), r);
    const events = batch
      .filter((p) => p.event)
      .map((p) => ({
        target_row_id: byKey.get(rowKey(p.input, p.address))!.id,
        run_id: refs.runId,
        job_id: refs.jobId,
        status: p.event!.status,
        task: 'scope',
        detail: p.event!.detail,
        started_at: now,
        finished_at: now,
        created_at: now,
        updated_at: now,
      }));
    if (events.length > 0) await ctx.store.db.insertInto('scheduled_job_onboarding_target_events').values(events).execute();
  }
  // Scope order: invalid, excluded, then addresses.
  return planned.map((p) => byKey.get(rowKey(p.input, p.address))!).filter((r, i, all) => all.indexOf(r) === i);
}

async function updateRow(env: Env, rowId: number, fields: Record<string, unknown>, final = false): Promise<void> {
  const now = env.ctx.now();
  await env.ctx.store.db
    .updateTable('scheduled_job_onboarding_targets')
    .set({ ...fields, updated_at: now, ...(final ? { finished_at: now } : {}) })
    .where('id', '=', rowId)
    .execute();
}

/** Appends a running event for `task`, closing any event of the target still open. */
async function startTask(env: Env, rowId: number, task: string, detail: string | null = null): Promise<number> {
  const now = env.ctx.now();
  await env.ctx.store.db
    .updateTable('scheduled_job_onboarding_target_events')
    .set({ status: 'interrupted', finished_at: now, updated_at: now })
    .where('target_row_id', '=', rowId)
    .where('finished_at', 'is', null)
    .execute();
  const event = await env.ctx.store.db
    .insertInto('scheduled_job_onboarding_target_events')
    .values({
      target_row_id: rowId,
      run_id: env.refs.runId,
      job_id: env.refs.jobId,
      status: 'running',
      task,
      detail,
      started_at: now,
      created_at: now,
      updated_at: now,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return event.id;
}

async function finishTask(
  env: Env,
  eventId: number,
  status: 'completed' | 'failed',
  detail: string,
  snippets: { stdout?: string | null; stderr?: string | null } = {},
): Promise<void> {
  const now = env.ctx.now();
  await env.ctx.store.db
    .updateTable('scheduled_job_onboarding_target_events')
    .set({ status, detail, stdout_snippet: snippets.stdout ?? null, stderr_snippet: snippets.stderr ?? null, finished_at: now, updated_at: now })
    .where('id', '=', eventId)
    .execute();
}

// ---------------------------------------------------------------------------------------------
// One address

async function onboardTarget(env: Env, row: Row): Promise<void> {
  const { ctx, refs, settings } = env;
  const address = row.target_address!;
  const reference = row.approval_reference ?? randomUUID();
  const log = env.logger.child({ targetRowId: row.id, address });

  // probe
  let event = await startTask(env, row.id, 'probe', `ports ${env.scope.ports.join(', ')}`);
  await updateRow(env, row.id, { status: 'probing', approval_reference: reference });
  const probe = await probePorts(address, env.scope.ports, settings.probeTimeoutMs, ctx.signal);
  if (ctx.signal.aborted) return;
  if (probe.port === null) {
    await finishTask(env, event, 'failed', probe.detail);
    await updateRow(env, row.id, { status: 'unreachable', detail: probe.detail }, true);
    log.info({ detail: probe.detail }, 'onboarding target unreachable');
    return;
  }
  await finishTask(env, event, 'completed', probe.detail);
  await updateRow(env, row.id, { status: 'installing', ssh_port: probe.port, detail: probe.detail });

  // install
  event = await startTask(env, row.id, 'install');
  const vars: Record<string, string> = {
    JOBYARD_TARGET_ADDRESS: address,
    JOBYARD_TARGET_PORT: String(probe.port),
    JOBYARD_APPROVAL_REFERENCE: reference,
    JOBYARD_SITE_ID: String(refs.siteId),
    JOBYARD_RUN_ID: String(refs.runId),
    JOBYARD_JOB_ID: String(refs.jobId),
    ...env.credential.env,
  };
  const install = await runComponent(settings.install, {
    config: ctx.config,
    env: vars,
    target: { hostname: null, guid: null, siteId: refs.siteId, runId: refs.runId, jobId: refs.jobId, address, env: vars },
    signal: ctx.signal,
    logger: log,
    secrets: env.credential.secrets,
  });
  if (install.aborted || ctx.signal.aborted) return;
  const snippets = { stdout_snippet: install.stdout, stderr_snippet: install.stderr };
  if (!install.ok) {
    const detail = `install failed: ${install.detail}`;
    await finishTask(env, event, 'failed', detail, { stdout: install.stdout, stderr: install.stderr });
    await updateRow(env, row.id, { status: 'install_failed', detail, ...snippets }, true);
    log.info({ detail: install.detail }, 'onboarding install failed');
    return;
  }
  await finishTask(env, event, 'completed', `installed (${install.detail})`, { stdout: install.stdout, stderr: install.stderr });
  await updateRow(env, row.id, { status: 'awaiting_approval', detail: 'waiting for the agent to be approved', ...snippets });

  // await_approval
  event = await startTask(env, row.id, 'await_approval', `approval reference ${reference}`);
  const approval = await awaitApproval(env, reference, address, row.target_input);
  if (approval === 'aborted') return;
  const outcome = APPROVAL_OUTCOMES[approval.kind];
  const detail = approval.detail;
  await finishTask(env, event, outcome === 'enrolled' ? 'completed' : 'failed', detail);
  await updateRow(env, row.id, { status: outcome, detail, ...(approval.hostname ? { target_hostname: approval.hostname } : {}) }, true);
  log.info({ status: outcome }, 'onboarding target finished');
}

// ---------------------------------------------------------------------------------------------
// Probe

export interface ProbeResult {
  /** The first open port, or null. */
  port: number | null;
  detail: string;
}

/** Tries each port in order; the first that accepts a TCP connection wins. */
export async function probePorts(host: string, ports: readonly number[], timeoutMs: number, signal?: AbortSignal): Promise<ProbeResult> {
  const failures: string[] = [];
  for (const port of ports) {
    if (signal?.aborted) return { port: null, detail: 'aborted' };
    const error = await tcpConnect(host, port, timeoutMs, signal);
    if (error === null) return { port, detail: `port ${port} open` };
    failures.push(`${port}: ${error}`);
  }
  return { port: null, detail: `no open port (${failures.join('; ')})` };
}

/** null when a TCP connection to host:port succeeds within the timeout, else the reason. */
export function tcpConnect(host: string, port: number, timeoutMs: number, signal?: AbortSignal): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let done = false;
    const finish = (error: string | null) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(error);
    };
    const timer = setTimeout(() => finish(`timed out after ${timeoutMs} ms`), timeoutMs);
    const onAbort = () => finish('aborted');
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => finish(null));
    socket.once('error', (err: NodeJS.ErrnoException) => finish(err.code ?? err.message));
  });
}

// ---------------------------------------------------------------------------------------------
// Approval

type ApprovalKind = 'approved' | 'denied' | 'expired' | 'timeout';

const APPROVAL_OUTCOMES: Record<ApprovalKind, string> = {
  approved: 'enrolled',
  denied: 'denied',
  expired: 'approval_expired',
  timeout: 'approval_timeout',
};

const APPROVAL_STATUS: Record<string, ApprovalKind> = {
  approved: 'approved',
  completed: 'approved',
  denied: 'denied',
  expired: 'expired',
};

async function awaitApproval(
  env: Env,
  reference: string,
  address: string,
  targetInput: string | null,
): Promise<{ kind: ApprovalKind; detail: string; hostname: string | null } | 'aborted'> {
  const { ctx, refs, settings } = env;
  const deadline = performance.now() + settings.approvalTimeoutMs;
  for (;;) {
    if (ctx.signal.aborted) return 'aborted';
    const approval = await ctx.store.db
      .selectFrom('device_approvals')
      .select(['id', 'status', 'hostname_claimed'])
      .where((eb) =>
        eb.or([
          eb('approval_reference', '=', reference),
          eb.and([
            eb('onboarding_run_id', '=', refs.runId),
            eb('onboarding_target', 'in', targetInput ? [address, targetInput] : [address]),
          ]),
        ]),
      )
      // The reference match first, then the newest.
      .orderBy((eb) => eb.case().when('approval_reference', '=', reference).then(0).else(1).end())
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    const kind = approval ? APPROVAL_STATUS[approval.status.toLowerCase()] : undefined;
    if (approval && kind) {
      return { kind, detail: `approval ${approval.id} ${approval.status.toLowerCase()}`, hostname: approval.hostname_claimed };
    }
    const left = deadline - performance.now();
    if (left <= 0) {
      const seen = approval ? `approval ${approval.id} still ${approval.status.toLowerCase()}` : 'no approval request seen';
      return { kind: 'timeout', detail: `no decision within ${settings.approvalTimeoutMs / 1000} s (${seen})`, hostname: null };
    }
    await sleep(Math.min(APPROVAL_POLL_MS, left), ctx.signal);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * The ansible_playbook path of scheduled_run (jobs with execution_context `ssh` whose components
 * are ansible_playbook): each component runs ONCE for the occurrence, with an inventory of the
 * occurrence's frozen targets that are still going, and records:
 * - a shared run row per component (scheduled_job_runs: shared_execution, target_hostname NULL,
 *   component_index/kind/name), status Success/Partial/Failed from its hosts;
 * - one ansible_play_recaps row per host from the PLAY RECAP;
 * - per target: its inventory alias (scheduled_job_run_targets.inventory_hostname), an activity
 *   row with the masked, capped output, and its outcome (a failed or unreachable recap line fails
 *   the target with the reason of its `fatal:` line; later components skip it).
 *
 * Host keys are never trusted silently: known_hosts holds the pins of ssh_host_keys and OpenSSH
 * runs with StrictHostKeyChecking=yes; a target without a pin is first contacted through the ssh
 * path (ssh/connection.ts), which pins it (or fails it with the reason).
 *
 * A retried item (its worker died mid-playbook; the lease expired) runs each component again only
 * on the still-going targets without a successful recap on that component's row, and the row's
 * status then counts every recap it has; a row no attempt finishes is finalised Failed with the
 * occurrence by the rollup (schedule/rollup.ts).
 *
 * Secrets: the credential goes into vars.json / a key file, 0600 in a 0700 temp dir removed in
 * `finally`; sshpass reads the password from a pipe ansible opens (never argv). A passphrase-
 * protected private key is refused with a reason (no agent is started). Cancel kills the
 * ansible-playbook process group (TERM, then KILL) and records the remaining targets Cancelled.
 */
import type { Logger } from '../../log.js';
import { recordActivity } from '../activity.js';
import { secretValues } from '../credentials.js';
import { sanitizeOutput } from '../sanitize.js';
import { abortError, type ItemRefs, type JobRow } from '../run-context.js';
import type { ExecutorContext } from '../types.js';
import { openSsh, type SshAuth } from '../ssh/connection.js';
import { deviceAddresses, deviceEndpoint } from '../ssh/endpoint.js';
import { deviceSubject, loadPin } from '../ssh/host-keys.js';
import { sshAuth, type SshRunResult, type SshTarget } from '../ssh/run.js';
import { sshSettings } from '../ssh/settings.js';
import { inventoryAlias, type InventoryHost } from './inventory.js';
import { runPlaybook } from './process.js';
import { componentStatus, fatalReasons, hostOutcome, parseRecap, RECAP_FIELDS, type HostOutcome, type RecapCounts } from './recap.js';
import { findAnsiblePlaybook, NOT_INSTALLED } from './tool.js';
import { emptyTally, finishTarget } from '../target-outcome.js';

export const ANSIBLE_KIND = 'ansible_playbook';
const DEFAULT_TIMEOUT_MS = 30 * 60_000;

/** True when the job's components are ansible playbooks (validation keeps them unmixed). */
export function isAnsibleJob(components: readonly unknown[]): boolean {
  return components.some((c) => (c as { kind?: unknown } | null)?.kind === ANSIBLE_KIND);
}

export async function runAnsibleTargets(
  ctx: ExecutorContext,
  refs: ItemRefs,
  job: JobRow,
  run: { scheduled_ts: number },
  targets: readonly SshTarget[],
  components: readonly unknown[],
  concurrency: number,
  logger: Logger,
): Promise<SshRunResult> {
  const result = emptyTally();
  const open = new Map(targets.map((t) => [t.id, t]));
  const startedAt = ctx.now();
  const finish = async (target: SshTarget, status: 'Success' | 'Failed' | 'Cancelled', detail: string) => {
    open.delete(target.id);
    await finishTarget(ctx, result, target.id, { status, detail, startedAt });
    if (status !== 'Success') logger.info({ targetId: target.id, hostname: target.hostname, status, detail }, 'ansible target did not succeed');
  };
  const failAll = async (detail: string) => {
    for (const t of [...open.values()]) await finish(t, 'Failed', detail);
    return result;
  };

  const binary = findAnsiblePlaybook(process.env.PATH);
  if (!binary) {
    for (const [index, c] of components.entries()) await componentRow(ctx, refs, run, index, c, { status: 'Failed', error: NOT_INSTALLED });
    return failAll(NOT_INSTALLED);
  }
  const credential = job.credential_id === null ? undefined : await ctx.credentials.get(job.credential_id, { siteId: ctx.item.site_id });
  const auth = sshAuth(job, credential);
  const secrets = secretValues(credential);
  if (auth.privateKey !== undefined && auth.passphrase !== undefined && auth.password === undefined) {
    return failAll('ansible_playbook: the credential is a passphrase-protected private key, which ansible cannot use unattended; use a key without a passphrase or a password');
  }
  const settings = sshSettings(ctx.config.ssh);

  // Endpoints and pins: a target without a pin is contacted once through the ssh path, which pins it.
  const addresses = await deviceAddresses(ctx.store, targets.map((t) => t.device_guid).filter((g): g is string => g !== null));
  const hosts = new Map<number, InventoryHost>();
  const taken = new Set<string>();
  for (const target of targets) {
    if (ctx.signal.aborted) break;
    const device = target.device_guid ? addresses.get(target.device_guid) : undefined;
    if (!target.device_guid || !device) {
      await finish(target, 'Failed', 'the device no longer exists in the inventory');
      continue;
    }
    const endpoint = deviceEndpoint(device);
    if ('error' in endpoint) {
      await finish(target, 'Failed', endpoint.error);
      continue;
    }
    const subject = deviceSubject(target.device_guid);
    let pin = await loadPin(ctx.store.db, subject);
    if (!pin) {
      const conn = await openSsh({ ...endpoint, subject, hostname: target.hostname }, auth, { store: ctx.store, connectTimeoutMs: settings.connectTimeoutMs, signal: ctx.signal, now: ctx.now });
      if (conn.ok) conn.client.end();
      if (!conn.ok && conn.kind === 'aborted') break;
      // The key is pinned before authentication: a host refusing the credential has its pin now
      // and ansible reports the refusal in its recap.
      pin = await loadPin(ctx.store.db, subject);
      if (!pin) {
        await finish(target, 'Failed', `no pinned host key, and pinning it failed: ${conn.ok ? 'no key was presented' : conn.reason}`);
        continue;
      }
    }
    const alias = inventoryAlias(target.hostname, target.id, taken);
    taken.add(alias);
    hosts.set(target.id, { alias, host: endpoint.host, port: endpoint.port, keyType: pin.key_type, publicKey: pin.public_key });
    await ctx.store.db.updateTable('scheduled_job_run_targets').set({ inventory_hostname: alias }).where('id', '=', target.id).execute();
  }

  for (const [index, raw] of components.entries()) {
    if (ctx.signal.aborted) break;
    const c = raw as { kind: string; name?: string; playbook: string; timeout_seconds?: number; become?: boolean };
    const going = [...open.values()].filter((t) => hosts.has(t.id));
    if (going.length === 0) break;
    const ranAt = ctx.now();
    const row = await componentRow(ctx, refs, run, index, c, { status: 'Running' });
    // A retry (the worker died mid-run): hosts whose recap an earlier attempt recorded as a
    // success are not run again; the row's status counts every host it has a recap for.
    const earlier = await recapsOfRow(ctx, row);
    const todo = going.filter((t) => { const p = earlier.get(t.id); return !p || hostOutcome(p, undefined).status !== 'Success'; });
    const previous: HostOutcome[] = [...earlier].filter(([id]) => !todo.some((t) => t.id === id)).map(([, counts]) => hostOutcome(counts, undefined));
    if (todo.length === 0) {
      logger.info({ component: index }, 'ansible component already ran on every remaining host in an earlier attempt');
      await componentRow(ctx, refs, run, index, c, { status: componentStatus(previous), error: componentStatus(previous) === 'Success' ? null : `${previous.filter((o) => o.status === 'Failed').length} host(s) failed` });
      continue;
    }
    const run1 = await runPlaybook(binary, c, todo.map((t) => hosts.get(t.id)!), {
      username: auth.username,
      password: auth.password,
      // A key with a passphrase cannot be used unattended: with a password beside it, log in by password.
      privateKey: auth.passphrase === undefined ? auth.privateKey : undefined,
      becomePassword: credential?.secrets.become_password ?? auth.password,
      forks: concurrency,
      connectTimeoutSeconds: Math.max(1, Math.ceil(settings.connectTimeoutMs / 1000)),
      timeoutMs: typeof c.timeout_seconds === 'number' ? c.timeout_seconds * 1000 : DEFAULT_TIMEOUT_MS,
      killGraceMs: settings.killGraceMs,
      signal: ctx.signal,
    });
    const output = sanitizeOutput(run1.output, { secrets, cap: ctx.config.outputCapBytes }) ?? '';
    if (run1.cancelled) {
      await componentRow(ctx, refs, run, index, c, { status: 'Failed', error: 'cancelled' });
      for (const t of going) await finish(t, 'Cancelled', `${c.name ?? ANSIBLE_KIND}: cancelled`);
      break;
    }
    const recaps = parseRecap(run1.output);
    const reasons = fatalReasons(run1.output);
    const outcomes: HostOutcome[] = [];
    for (const target of todo) {
      const alias = hosts.get(target.id)!.alias;
      const counts = recaps.get(alias);
      const detailOf = (text: string) => sanitizeOutput(text, { secrets, cap: 1024 }) ?? '';
      let outcome = hostOutcome(counts, reasons.get(alias));
      if (!counts && run1.error) outcome = { status: 'Failed', detail: run1.error };
      if (counts && counts.unreachable > 0 && outcome.status === 'Failed' && !outcome.detail.startsWith('host key changed')) {
        // OpenSSH's "Host key verification failed" can be lost behind sshpass ("Broken pipe"):
        // ask the ssh path, which compares the presented key with the pin before authenticating.
        const changed = await hostKeyRefusal(ctx, target, hosts.get(target.id)!, auth, settings.connectTimeoutMs);
        if (changed) outcome = { status: 'Failed', detail: changed };
      }
      outcomes.push(outcome);
      if (counts) {
        await ctx.store.db.deleteFrom('ansible_play_recaps').where('run_id', '=', row).where('inventory_hostname', '=', alias).execute();
        await ctx.store.db.insertInto('ansible_play_recaps').values({ run_id: row, target_id: target.id, inventory_hostname: alias, ...counts, created_at: ctx.now() }).execute();
      }
      const name = c.name ?? null;
      await recordActivity(ctx, refs.runId, target, { ok: outcome.status === 'Success', kind: ANSIBLE_KIND, name, path: `ansible-playbook (component ${index})`, stdout: output, stderr: null, detail: outcome.status === 'Success' ? 'ok' : detailOf(outcome.detail), durationMs: ctx.now() - ranAt, aborted: false }, ranAt);
      if (outcome.status === 'Failed') await finish(target, 'Failed', `${name ?? ANSIBLE_KIND}: ${detailOf(outcome.detail)}`);
    }
    const all = [...previous, ...outcomes];
    const status = componentStatus(all);
    await componentRow(ctx, refs, run, index, c, { status, error: status === 'Success' ? null : (run1.error ?? `${all.filter((o) => o.status === 'Failed').length} host(s) failed`) });
  }
  if (ctx.signal.aborted) throw abortError(ctx.signal);
  for (const t of [...open.values()]) await finish(t, 'Success', `${components.length} playbook(s) ok`);
  logger.info(result, 'ansible targets finished');
  return result;
}

/** The ssh path's "host key changed" reason for a target, or null (reachable with the pinned key, or not at all). */
async function hostKeyRefusal(ctx: ExecutorContext, target: SshTarget, h: InventoryHost, auth: SshAuth, connectTimeoutMs: number): Promise<string | null> {
  if (!target.device_guid) return null;
  const conn = await openSsh({ host: h.host, port: h.port, subject: deviceSubject(target.device_guid), hostname: target.hostname }, auth, { store: ctx.store, connectTimeoutMs, signal: ctx.signal, now: ctx.now });
  if (conn.ok) {
    conn.client.end();
    return null;
  }
  return conn.kind === 'host_key_changed' ? conn.reason : null;
}

/** The PLAY RECAP counts recorded on a component row so far, by target id. */
async function recapsOfRow(ctx: ExecutorContext, rowId: number): Promise<Map<number, RecapCounts>> {
  const rows = await ctx.store.db.selectFrom('ansible_play_recaps').select(['target_id', ...RECAP_FIELDS]).where('run_id', '=', rowId).execute();
  const byTarget = new Map<number, RecapCounts>();
  for (const r of rows) {
    if (r.target_id === null) continue;
    byTarget.set(Number(r.target_id), Object.fromEntries(RECAP_FIELDS.map((f) => [f, Number(r[f])])) as RecapCounts);
  }
  return byTarget;
}

/** Inserts (first call) or updates the component's shared run row; returns its id. */
async function componentRow(
  ctx: ExecutorContext,
  refs: ItemRefs,
  run: { scheduled_ts: number },
  index: number,
  c: unknown,
  state: { status: string; error?: string | null },
): Promise<number> {
  const now = ctx.now();
  const final = state.status !== 'Running';
  const existing = await ctx.store.db
    .selectFrom('scheduled_job_runs')
    .select('id')
    .where('job_id', '=', refs.jobId)
    .where('scheduled_ts', '=', run.scheduled_ts)
    .where('component_index', '=', index)
    .executeTakeFirst();
  if (existing) {
    await ctx.store.db
      .updateTable('scheduled_job_runs')
      .set({ status: state.status, error: state.error ?? null, updated_at: now, ...(final ? { finished_ts: now } : {}) })
      .where('id', '=', existing.id)
      .execute();
    return existing.id;
  }
  const comp = c as { kind?: unknown; name?: unknown } | null;
  const inserted = await ctx.store.db
    .insertInto('scheduled_job_runs')
    .values({
      job_id: refs.jobId,
      scheduled_ts: run.scheduled_ts,
      status: state.status,
      error: state.error ?? null,
      started_ts: now,
      finished_ts: final ? now : null,
      target_hostname: null,
      shared_execution: true,
      component_index: index,
      component_kind: typeof comp?.kind === 'string' ? comp.kind : ANSIBLE_KIND,
      component_name: typeof comp?.name === 'string' ? comp.name : null,
      created_at: now,
      updated_at: now,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return inserted.id;
}

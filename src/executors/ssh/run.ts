/**
 * The `ssh` execution path of scheduled_run: a job whose execution_context is `ssh` runs its
 * command/script components ON each frozen target, over one SSH connection per target that every
 * component of the occurrence reuses (http and plug-in components still run in the worker).
 *
 * Per target: resolve the device's address (endpoint.ts), connect with the job's credential
 * (password, or private key + passphrase; host key pinned on first contact), run the components
 * in order up to the first failure, recording each as activity, then write the target's outcome:
 *   Success   every component exited 0
 *   Failed    with a one-line detail: unreachable, connect timeout, authentication refused, host
 *             key changed, become refused, exit code N, timed out
 *   Cancelled the item's signal aborted (item cancel, worker drain, lease lost): the remote
 *             command was signalled TERM then KILL and its channel closed; targets not started
 *             stay Pending (the rollup settles them from the item's outcome)
 * plus exit_code and duration_ms. A failure of one target never stops the others.
 *
 * Limits: a per-job p-limit (targetConcurrency of the components) inside a per-site limiter
 * shared by every job of this worker (SshSettings.siteConcurrency).
 *
 * Secrets: the credential is fetched once per item through the CredentialProvider; the become
 * password is written to sudo's stdin on its prompt only; no credential value reaches a command
 * line, the remote environment, a row or a log line (outputs are masked with its values).
 */
import { setMaxListeners } from 'node:events';
import pLimit from 'p-limit';
import type { Client as SshClient } from 'ssh2';
import { PermanentError } from '../../queue/runtime.js';
import type { Logger } from '../../log.js';
import { recordActivity } from '../activity.js';
import { runComponent, type ComponentOutcome } from '../components/index.js';
import { secretValues } from '../credentials.js';
import { abortError, type ItemRefs, type JobRow } from '../run-context.js';
import type { Credential, ExecutorContext } from '../types.js';
import { openSsh, type SshAuth } from './connection.js';
import { deviceAddresses, deviceEndpoint } from './endpoint.js';
import { deviceSubject } from './host-keys.js';
import { REMOTE_KINDS, runRemoteComponent } from './remote-component.js';
import { siteLimit, sshSettings } from './settings.js';
import { emptyTally, finishTarget as finishTargetOutcome, targetEnvironment, type TargetStatus, type TargetTally } from '../target-outcome.js';

export interface SshTarget {
  id: number;
  device_guid: string | null;
  hostname: string | null;
}

export type SshRunResult = TargetTally;

/** The credential's login for ssh2; PermanentError when it cannot log in at all. */
export function sshAuth(job: JobRow, credential: Credential | undefined): SshAuth {
  if (!credential) throw new PermanentError(`job ${job.id}: execution_context ssh needs a credential (credential_id is empty or unknown)`);
  if (!credential.username) throw new PermanentError(`job ${job.id}: credential ${credential.id} (${credential.name}) has no username for SSH`);
  const s = credential.secrets;
  if (s.password === undefined && s.private_key === undefined) {
    throw new PermanentError(`job ${job.id}: credential ${credential.id} (${credential.name}) has neither a password nor a private key`);
  }
  return {
    username: credential.username,
    ...(s.password !== undefined ? { password: s.password } : {}),
    ...(s.private_key !== undefined ? { privateKey: s.private_key } : {}),
    ...(s.private_key_passphrase !== undefined ? { passphrase: s.private_key_passphrase } : {}),
  };
}

export async function runSshTargets(
  ctx: ExecutorContext,
  refs: ItemRefs,
  job: JobRow,
  targets: readonly SshTarget[],
  components: readonly unknown[],
  concurrency: number,
  logger: Logger,
): Promise<SshRunResult> {
  const credential = job.credential_id === null ? undefined : await ctx.credentials.get(job.credential_id, { siteId: ctx.item.site_id });
  const auth = sshAuth(job, credential);
  const secrets = secretValues(credential);
  const becomePassword = credential?.secrets.become_password ?? credential?.secrets.password;
  const settings = sshSettings(ctx.config.ssh);
  const addresses = await deviceAddresses(ctx.store, targets.map((t) => t.device_guid).filter((g): g is string => g !== null));
  const jobLimit = pLimit(concurrency);
  // Every running target listens for the abort (connect, exec): lift the default warning at 10.
  setMaxListeners(Math.max(10, concurrency * 2 + 10), ctx.signal);
  const site = siteLimit(refs.siteId, settings.siteConcurrency);
  const result = emptyTally();
  let infraError: unknown;

  const finishTarget = async (target: SshTarget, status: TargetStatus, detail: string, exitCode: number | null, startedAt: number) => {
    await finishTargetOutcome(ctx, result, target.id, { status, detail, exitCode, startedAt });
    if (status !== 'Success') logger.info({ targetId: target.id, hostname: target.hostname, status, detail }, 'remote target did not succeed');
  };

  const runTarget = async (target: SshTarget) => {
    if (ctx.signal.aborted || infraError !== undefined) return;
    const startedAt = ctx.now();
    const device = target.device_guid ? addresses.get(target.device_guid) : undefined;
    if (!target.device_guid || !device) return finishTarget(target, 'Failed', 'the device no longer exists in the inventory', null, startedAt);
    const endpoint = deviceEndpoint(device);
    if ('error' in endpoint) return finishTarget(target, 'Failed', endpoint.error, null, startedAt);
    const conn = await openSsh(
      { ...endpoint, subject: deviceSubject(target.device_guid), hostname: target.hostname },
      auth,
      { store: ctx.store, connectTimeoutMs: settings.connectTimeoutMs, keepaliveIntervalMs: settings.keepaliveIntervalMs, signal: ctx.signal, now: ctx.now },
    );
    if (!conn.ok) {
      if (conn.kind === 'aborted') return; // nothing ran: left Pending
      return finishTarget(target, 'Failed', conn.reason, null, startedAt);
    }
    try {
      await runComponentsOn(conn.client, target, startedAt);
    } finally {
      conn.client.end();
    }
  };

  const runComponentsOn = async (client: SshClient, target: SshTarget, startedAt: number) => {
    const env = targetEnvironment(target, refs);
    let last: ComponentOutcome | undefined;
    let exitCode: number | null = null;
    for (const component of components) {
      if (ctx.signal.aborted) return finishTarget(target, 'Cancelled', 'cancelled before the next component', exitCode, startedAt);
      const ranAt = ctx.now();
      const c = component as Record<string, unknown>;
      if (typeof c === 'object' && c !== null && REMOTE_KINDS.has(String(c.kind))) {
        const outcome = await runRemoteComponent(client, c, {
          env,
          signal: ctx.signal,
          outputCapBytes: ctx.config.outputCapBytes,
          defaultTimeoutMs: ctx.config.defaultTimeoutMs,
          killGraceMs: settings.killGraceMs,
          secrets,
          ...(becomePassword !== undefined ? { becomePassword } : {}),
        });
        exitCode = outcome.exitCode;
        last = outcome;
        await recordActivity(ctx, refs.runId, target, outcome, ranAt, outcome.cancelled ? 'Cancelled' : undefined);
        if (outcome.cancelled) return finishTarget(target, 'Cancelled', `cancelled: ${outcome.detail}`, exitCode, startedAt);
      } else {
        // http and plug-in components run in the worker, as on any other job.
        const pluginTarget = { hostname: target.hostname, guid: target.device_guid, siteId: refs.siteId, runId: refs.runId, jobId: refs.jobId, env };
        last = await runComponent(component, { config: ctx.config, env, target: pluginTarget, signal: ctx.signal, logger: ctx.logger, secrets });
        if (last.aborted || ctx.signal.aborted) return finishTarget(target, 'Cancelled', 'cancelled', exitCode, startedAt);
        await recordActivity(ctx, refs.runId, target, last, ranAt);
      }
      if (!last.ok) return finishTarget(target, 'Failed', `${last.name ?? last.kind}: ${last.detail}`, exitCode, startedAt);
    }
    return finishTarget(target, 'Success', last ? `${last.name ?? last.kind}: ${last.detail}` : 'no components', exitCode, startedAt);
  };

  logger.info({ targets: targets.length, components: components.length, concurrency, siteConcurrency: settings.siteConcurrency }, 'running components on targets over SSH');
  await Promise.all(
    targets.map((target) =>
      jobLimit(() =>
        site(async () => {
          try {
            await runTarget(target);
          } catch (err) {
            infraError ??= err; // a database error: the item is retried, finished targets are kept
          }
        }),
      ),
    ),
  );
  if (infraError !== undefined) throw infraError;
  if (ctx.signal.aborted) throw abortError(ctx.signal);
  logger.info(result, 'remote targets finished');
  return result;
}

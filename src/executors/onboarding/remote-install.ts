/**
 * The install step over SSH, for onboarding jobs whose execution_context is `ssh`: the
 * discovered address is reached with the job's credential (host key pinned per address on first
 * contact, as `address:<host>:<port>`) and the install component (`command` or `script`) runs on
 * it. Timeline: an `ssh_connect` task (connected + the host key's fingerprint, or the reason it
 * failed: unreachable, refused auth, host key changed), then the `install` task the caller
 * finishes. JOBYARD_CREDENTIAL_* variables are never sent to the target.
 */
import type { ComponentOutcome } from '../components/index.js';
import { openSsh } from '../ssh/connection.js';
import { addressSubject } from '../ssh/host-keys.js';
import { REMOTE_KINDS, runRemoteComponent } from '../ssh/remote-component.js';
import { sshAuth } from '../ssh/run.js';
import { sshSettings } from '../ssh/settings.js';
import { finishTask, startTask } from './rows.js';
import type { Env } from './settings.js';

export type RemoteInstall = { event: number; install: ComponentOutcome } | { failure: string } | null;

export async function installOverSsh(env: Env, rowId: number, address: string, port: number, vars: Record<string, string>): Promise<RemoteInstall> {
  const { ctx, job, settings } = env;
  const ssh = sshSettings(ctx.config.ssh);
  const kind = String(settings.install.kind ?? 'command');
  let event = await startTask(env, rowId, 'ssh_connect', `${address}:${port}`);
  if (!REMOTE_KINDS.has(kind)) {
    const failure = `install over SSH needs a command or script component, not ${JSON.stringify(kind)}`;
    await finishTask(env, event, 'failed', failure);
    return { failure };
  }
  const credential = job.credential_id === null ? undefined : await ctx.credentials.get(job.credential_id, { siteId: ctx.item.site_id });
  const auth = sshAuth(job, credential);
  const conn = await openSsh({ host: address, port, subject: addressSubject(address, port), hostname: null }, auth, {
    store: ctx.store,
    connectTimeoutMs: ssh.connectTimeoutMs,
    keepaliveIntervalMs: ssh.keepaliveIntervalMs,
    signal: ctx.signal,
    now: ctx.now,
  });
  if (!conn.ok) {
    if (conn.kind === 'aborted') return null;
    await finishTask(env, event, 'failed', conn.reason);
    return { failure: `install failed: ${conn.reason}` };
  }
  try {
    await finishTask(env, event, 'completed', `connected as ${auth.username}; host key ${conn.fingerprint}${conn.pinned ? ' (pinned on first contact)' : ''}`);
    event = await startTask(env, rowId, 'install', `over SSH to ${address}:${port}`);
    const remoteEnv = Object.fromEntries(Object.entries(vars).filter(([k]) => !k.startsWith('JOBYARD_CREDENTIAL_')));
    const becomePassword = credential?.secrets.become_password ?? credential?.secrets.password;
    const install = await runRemoteComponent(conn.client, settings.install, {
      env: remoteEnv,
      signal: ctx.signal,
      outputCapBytes: ctx.config.outputCapBytes,
      defaultTimeoutMs: ctx.config.defaultTimeoutMs,
      killGraceMs: ssh.killGraceMs,
      secrets: env.credential.secrets,
      ...(becomePassword !== undefined ? { becomePassword } : {}),
    });
    return { event, install: { ...install, aborted: install.cancelled } };
  } finally {
    conn.client.end();
  }
}

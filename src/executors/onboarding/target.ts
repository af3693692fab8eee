/** Onboarding one address: probe, install, await approval, recording each task as it goes. */
import { randomUUID } from 'node:crypto';
import { runComponent, type ComponentOutcome } from '../components/index.js';
import { APPROVAL_OUTCOMES, awaitApproval } from './approval.js';
import { probePorts } from './probe.js';
import { installOverSsh } from './remote-install.js';
import { finishTask, startTask, updateRow } from './rows.js';
import type { Env, Row } from './settings.js';

export async function onboardTarget(env: Env, row: Row): Promise<void> {
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

  // install (over SSH for ssh jobs: remote-install.ts)
  const vars: Record<string, string> = {
    JOBYARD_TARGET_ADDRESS: address,
    JOBYARD_TARGET_PORT: String(probe.port),
    JOBYARD_APPROVAL_REFERENCE: reference,
    JOBYARD_SITE_ID: String(refs.siteId),
    JOBYARD_RUN_ID: String(refs.runId),
    JOBYARD_JOB_ID: String(refs.jobId),
    ...env.credential.env,
  };
  let install: ComponentOutcome;
  if (env.job.execution_context === 'ssh') {
    const remote = await installOverSsh(env, row.id, address, probe.port, vars);
    if (remote === null) return;
    if ('failure' in remote) {
      await updateRow(env, row.id, { status: 'install_failed', detail: remote.failure }, true);
      log.info({ detail: remote.failure }, 'onboarding install failed');
      return;
    }
    ({ event, install } = remote);
  } else {
    event = await startTask(env, row.id, 'install');
    install = await runComponent(settings.install, {
      config: ctx.config,
      env: vars,
      target: { hostname: null, guid: null, siteId: refs.siteId, runId: refs.runId, jobId: refs.jobId, address, env: vars },
      signal: ctx.signal,
      logger: log,
      secrets: env.credential.secrets,
    });
  }
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

/**
 * `scheduled_run` (and `agent_maintenance_run`, same logic): runs a job's components on the
 * frozen targets of one run at one site — the targets the tick wrote with status 'Pending'
 * (fire.ts). A retried item therefore picks up only the targets a previous attempt did not finish.
 *
 * Per target, the components run in order and stop at the first failure (later components get no
 * activity row). Each component run writes one `activity_history` row (script_path = argv joined
 * / URL / plug-in path, script_name = component name or kind, script_type = kind, status
 * Success|Failed, stdout/stderr masked and capped) and its `scheduled_job_run_activity` link, in
 * one small transaction. The target then becomes Success (every component succeeded) or Failed,
 * with finished_at; the update is fenced on status 'Pending', so a target finished elsewhere is
 * not overwritten. The run's own status is rolled up later by the scheduler (rollup.ts).
 *
 * Environment of every component (commands; plug-ins get it as `target.env`):
 * JOBYARD_TARGET_HOSTNAME, JOBYARD_TARGET_GUID, JOBYARD_SITE_ID, JOBYARD_RUN_ID, JOBYARD_JOB_ID,
 * and, when the job has a credential_id, JOBYARD_CREDENTIAL_<NAME> for each secret (plus
 * JOBYARD_CREDENTIAL_USERNAME) — fetched through ctx.credentials only now; its values are masked
 * in everything stored.
 *
 * Concurrency: targets run under a p-limit of the smallest positive integer `concurrency` any of
 * the job's components declares (the most restrictive component wins), DEFAULT_TARGET_CONCURRENCY
 * (5) when none does, at most MAX_TARGET_CONCURRENCY (50).
 *
 * Jobs whose execution_context is `ssh` run their command/script components on the targets
 * themselves, over SSH (ssh/run.ts: one connection per target, host keys pinned, per-target
 * detail, exit code and duration, Cancelled targets when stopped).
 *
 * Outcome: the item succeeds once every target has an outcome, even when targets failed (the run
 * rolls up to Failed/Partial). It throws a PermanentError when the job, run, components or
 * credential are missing, and rethrows database errors (retried; finished targets are not rerun).
 * When the signal aborts (lease lost, shutdown) running commands are killed, no new target or
 * component starts, nothing more is recorded for the interrupted targets (they stay Pending for
 * the next attempt), and the executor throws.
 */
import pLimit from 'p-limit';
import { PermanentError } from '../queue/runtime.js';
import { recordActivity } from './activity.js';
import { runComponent } from './components/index.js';
import { runSshTargets } from './ssh/run.js';
import { isAnsibleJob, runAnsibleTargets } from './ansible/run.js';
import { abortError, itemRefs, jobComponents, jobCredential, loadJobAndRun, type ItemRefs } from './run-context.js';
import type { Executor, ExecutorContext } from './types.js';
import { targetEnvironment } from './target-outcome.js';

export const DEFAULT_TARGET_CONCURRENCY = 5;
export const MAX_TARGET_CONCURRENCY = 50;

export interface ScheduledRunResult {
  targets: number;
  succeeded: number;
  failed: number;
}

interface Target {
  id: number;
  device_guid: string | null;
  hostname: string | null;
}

/** The per-job target concurrency (see the module comment). */
export function targetConcurrency(components: readonly unknown[]): number {
  const declared = components
    .map((c) => (typeof c === 'object' && c !== null ? (c as { concurrency?: unknown }).concurrency : undefined))
    .filter((v): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0);
  return declared.length > 0 ? Math.min(Math.min(...declared), MAX_TARGET_CONCURRENCY) : DEFAULT_TARGET_CONCURRENCY;
}

export function createScheduledRunExecutor(kind: string): Executor {
  return async (ctx: ExecutorContext): Promise<ScheduledRunResult> => {
    const refs = itemRefs(ctx);
    const logger = ctx.logger.child({ kind, itemId: ctx.item.id, jobId: refs.jobId, runId: refs.runId, siteId: refs.siteId });
    const { job, run } = await loadJobAndRun(ctx, refs);
    const components = jobComponents(job);
    if (components.length === 0) throw new PermanentError(`job ${job.id} has no components`);
    const targets: Target[] = await ctx.store.db
      .selectFrom('scheduled_job_run_targets')
      .select(['id', 'device_guid', 'hostname'])
      .where('run_id', '=', refs.runId)
      .where('site_id', '=', refs.siteId)
      .where('status', '=', 'Pending')
      .orderBy('id')
      .execute();
    const result: ScheduledRunResult = { targets: 0, succeeded: 0, failed: 0 };
    if (targets.length === 0) return result;
    const concurrency = targetConcurrency(components);
    if (job.execution_context === 'ssh' && isAnsibleJob(components)) {
      // Ansible playbooks: one ansible-playbook per component over all targets (ansible/run.ts).
      const r = await runAnsibleTargets(ctx, refs, job, run, targets, components, concurrency, logger);
      return { targets: r.targets, succeeded: r.succeeded, failed: r.failed + r.cancelled };
    }
    if (job.execution_context === 'ssh') {
      const r = await runSshTargets(ctx, refs, job, targets, components, concurrency, logger);
      return { targets: r.targets, succeeded: r.succeeded, failed: r.failed + r.cancelled };
    }
    const credential = await jobCredential(ctx, job);

    const limit = pLimit(concurrency);
    logger.info({ targets: targets.length, components: components.length, concurrency }, 'running components on targets');
    let infraError: unknown;
    const outcomes = await Promise.all(
      targets.map((target) =>
        limit(async () => {
          if (ctx.signal.aborted || infraError !== undefined) return 'skipped' as const;
          try {
            return await runTarget(ctx, refs, target, components, credential);
          } catch (err) {
            infraError ??= err;
            return 'skipped' as const;
          }
        }),
      ),
    );
    if (infraError !== undefined) throw infraError;
    if (ctx.signal.aborted) throw abortError(ctx.signal);
    for (const o of outcomes) {
      if (o === 'skipped') continue;
      result.targets++;
      if (o === 'Success') result.succeeded++;
      else result.failed++;
    }
    logger.info(result, 'targets finished');
    return result;
  };
}

async function runTarget(
  ctx: ExecutorContext,
  refs: ItemRefs,
  target: Target,
  components: readonly unknown[],
  credential: { env: Record<string, string>; secrets: string[] },
): Promise<'Success' | 'Failed' | 'skipped'> {
  const env: Record<string, string> = { ...targetEnvironment(target, refs), ...credential.env };
  const pluginTarget = { hostname: target.hostname, guid: target.device_guid, siteId: refs.siteId, runId: refs.runId, jobId: refs.jobId, env };
  let ok = true;
  for (const component of components) {
    if (ctx.signal.aborted) return 'skipped';
    const ranAt = ctx.now();
    const outcome = await runComponent(component, {
      config: ctx.config,
      env,
      target: pluginTarget,
      signal: ctx.signal,
      logger: ctx.logger,
      secrets: credential.secrets,
    });
    if (outcome.aborted || ctx.signal.aborted) return 'skipped';
    await recordActivity(ctx, refs.runId, target, outcome, ranAt);
    if (!outcome.ok) {
      ok = false;
      ctx.logger.info({ targetId: target.id, hostname: target.hostname, component: outcome.name ?? outcome.kind, detail: outcome.detail }, 'component failed');
      break;
    }
  }
  const status = ok ? 'Success' : 'Failed';
  await ctx.store.db
    .updateTable('scheduled_job_run_targets')
    .set({ status, finished_at: ctx.now() })
    .where('id', '=', target.id)
    .where('status', '=', 'Pending')
    .execute();
  return status;
}

export const executeScheduledRun: Executor = createScheduledRunExecutor('scheduled_run');

/**
 * `onboarding_run`: automatic local-network onboarding of the addresses in an onboarding job's
 * scope (../onboarding-scope.ts), for the site of the item.
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
 *   Jobs whose execution_context is `ssh` run it ON the address instead (remote-install.ts):
 *   an `ssh_connect` task (the job's credential; host key pinned per address), then `install`
 *   over that connection, without the JOBYARD_CREDENTIAL_* variables.
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
 *
 * Files: this one orchestrates; settings.ts (component settings, shared types), rows.ts (rows and
 * events), target.ts (one address's tasks), probe.ts (TCP probe), approval.ts (approval polling).
 */
import pLimit from 'p-limit';
import { PermanentError } from '../../queue/handler.js';
import { parseOnboardingScope, ScopeError, type OnboardingScope } from '../onboarding-scope.js';
import { abortError, itemRefs, jobCredential, loadJobAndRun } from '../run-context.js';
import type { Executor, ExecutorContext } from '../types.js';
import { ensureRows } from './rows.js';
import { FINAL_ONBOARDING_STATUSES, onboardingComponent, onboardingSettings, type Env, type OnboardingRunResult } from './settings.js';
import { onboardTarget } from './target.js';

export {
  APPROVAL_POLL_MS,
  DEFAULT_APPROVAL_TIMEOUT_SECONDS,
  DEFAULT_ONBOARDING_CONCURRENCY,
  DEFAULT_PROBE_TIMEOUT_MS,
  FINAL_ONBOARDING_STATUSES,
  MAX_ONBOARDING_CONCURRENCY,
  type OnboardingRunResult,
} from './settings.js';
export { probePorts, tcpConnect, type ProbeResult } from './probe.js';

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

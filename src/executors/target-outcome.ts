/**
 * What the run executors (local, SSH, Ansible) share about one frozen target: the environment a
 * component sees for it, and the one write of its outcome. The outcome is written only while the
 * target is still `Pending`, so a target is finished once, by whichever path got there first.
 */
import type { ExecutorContext } from './types.js';
import type { ItemRefs } from './run-context.js';

export type TargetStatus = 'Success' | 'Failed' | 'Cancelled';

export interface TargetTally {
  targets: number;
  succeeded: number;
  failed: number;
  cancelled: number;
}

export const emptyTally = (): TargetTally => ({ targets: 0, succeeded: 0, failed: 0, cancelled: 0 });

/** `JOBYARD_TARGET_*` and the item's ids, as every component on a target sees them. */
export function targetEnvironment(target: { hostname: string | null; device_guid: string | null }, refs: ItemRefs): Record<string, string> {
  return {
    JOBYARD_TARGET_HOSTNAME: target.hostname ?? '',
    JOBYARD_TARGET_GUID: target.device_guid ?? '',
    JOBYARD_SITE_ID: String(refs.siteId),
    JOBYARD_RUN_ID: String(refs.runId),
    JOBYARD_JOB_ID: String(refs.jobId),
  };
}

/** Records a target's outcome (once: only a Pending target changes) and counts it in `tally`. */
export async function finishTarget(
  ctx: ExecutorContext,
  tally: TargetTally,
  targetId: number,
  outcome: { status: TargetStatus; detail: string; exitCode?: number | null; startedAt: number },
): Promise<void> {
  const now = ctx.now();
  await ctx.store.db
    .updateTable('scheduled_job_run_targets')
    .set({
      status: outcome.status,
      detail: outcome.detail,
      ...(outcome.exitCode !== undefined ? { exit_code: outcome.exitCode } : {}),
      duration_ms: Math.max(0, now - outcome.startedAt),
      finished_at: now,
    })
    .where('id', '=', targetId)
    .where('status', '=', 'Pending')
    .execute();
  tally.targets++;
  if (outcome.status === 'Success') tally.succeeded++;
  else if (outcome.status === 'Cancelled') tally.cancelled++;
  else tally.failed++;
}

/**
 * One component run on one target, as history: an `activity_history` row and its
 * `scheduled_job_run_activity` link, in one small transaction (owner: the run executors).
 */
import type { ComponentOutcome } from './components/index.js';
import type { ExecutorContext } from './types.js';

export interface ActivityTarget {
  hostname: string | null;
}

/** `status` defaults to Success/Failed from the outcome; remote runs also record Cancelled. */
export async function recordActivity(ctx: ExecutorContext, runId: number, target: ActivityTarget, outcome: ComponentOutcome, ranAt: number, status?: string): Promise<void> {
  const now = ctx.now();
  await ctx.store.db.transaction().execute(async (trx) => {
    const activity = await trx
      .insertInto('activity_history')
      .values({
        hostname: target.hostname,
        script_path: outcome.path,
        script_name: outcome.name ?? outcome.kind,
        script_type: outcome.kind,
        ran_at: ranAt,
        status: status ?? (outcome.ok ? 'Success' : 'Failed'),
        stdout: outcome.stdout,
        stderr: outcome.stderr,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await trx
      .insertInto('scheduled_job_run_activity')
      .values({
        run_id: runId,
        activity_id: activity.id,
        component_kind: outcome.kind,
        script_type: outcome.kind,
        component_path: outcome.path,
        component_name: outcome.name,
        created_at: now,
        exit_code: outcome.exitCode ?? null,
        duration_ms: outcome.durationMs,
        detail: outcome.detail,
      })
      .execute();
  });
}

/**
 * Run outcome rollup. A run's work items (one per site) are executed by site workers; once none
 * of them is live any more, the run gets its final status from its targets' outcomes:
 * - every delivered target Success → Success;
 * - no target succeeded and some failed → Failed (error: the first failed item's last error);
 * - some succeeded and others failed or were offline (Expired) → Partial;
 * - only offline targets → Expired.
 * A Cancelled target (a remote command stopped by a cancel or drain) counts as failed.
 * A target an executor left Pending takes its site item's outcome (succeeded → Success, anything
 * else → Failed), so a run whose item went dead is Failed with that item's error.
 * While items run, a Pending run becomes Running with started_ts set.
 * Component rows (an Ansible playbook's shared row, component_index set) have no items of their
 * own: they are finalised with their occurrence. One its executor left Pending or Running (the
 * worker died mid-playbook and no retry finished it) becomes Failed with the item's error.
 */
import type { Store } from '../db/open.js';
import type { RunStatus } from './fire.js';

export interface RollupItem {
  site_id: number | null;
  status: string;
  error: string | null;
  started_at: number | null;
  finished_at: number | null;
}

export interface RollupTarget {
  id: number;
  site_id: number | null;
  resolution_status: string | null;
  status: string | null;
}

export interface RunOutcome {
  status: RunStatus;
  error: string | null;
  startedTs: number | null;
  finishedTs: number | null;
  /** Targets whose Pending status is settled from their item: id → status. */
  targetUpdates: Map<number, 'Success' | 'Failed'>;
}

const LIVE = new Set(['queued', 'running']);

/** The final outcome of a run, or null while any of its items is still live. Pure. */
export function rollUpRun(
  items: readonly RollupItem[],
  targets: readonly RollupTarget[],
  onboardingStatuses: readonly string[] = [],
): RunOutcome | null {
  if (items.some((i) => LIVE.has(i.status))) return null;
  const bySite = new Map(items.map((i) => [i.site_id, i]));
  const targetUpdates = new Map<number, 'Success' | 'Failed'>();
  const outcomes: string[] = [];
  for (const t of targets) {
    if (t.resolution_status !== 'resolved' && t.resolution_status !== 'offline') continue;
    let status = t.status ?? 'Pending';
    if (status === 'Pending') {
      status = bySite.get(t.site_id)?.status === 'succeeded' ? 'Success' : 'Failed';
      targetUpdates.set(t.id, status as 'Success' | 'Failed');
    }
    outcomes.push(status);
  }
  // Onboarding runs have no frozen device targets: their onboarding targets decide (an item that
  // ran to the end but enrolled nothing is not a success); without any, the items decide.
  if (outcomes.length === 0) {
    for (const s of onboardingStatuses) {
      const outcome = onboardingOutcome(s);
      if (outcome) outcomes.push(outcome);
    }
  }
  if (outcomes.length === 0) for (const i of items) outcomes.push(i.status === 'succeeded' ? 'Success' : 'Failed');

  const success = outcomes.filter((s) => s === 'Success').length;
  const failed = outcomes.filter((s) => s === 'Failed' || s === 'Cancelled').length;
  const expired = outcomes.filter((s) => s === 'Expired').length;
  const failedItem = items.find((i) => i.status !== 'succeeded');
  let status: RunStatus;
  if (success > 0 && failed === 0 && expired === 0) status = 'Success';
  else if (success > 0) status = 'Partial';
  else if (failed > 0) status = 'Failed';
  else if (expired > 0) status = 'Expired';
  else status = 'Skipped';
  const started = items.map((i) => i.started_at).filter((t): t is number => t !== null);
  const finished = items.map((i) => i.finished_at).filter((t): t is number => t !== null);
  return {
    status,
    error: status === 'Success' ? null : (failedItem?.error ?? (failed > 0 ? `${failed} target(s) failed` : null)),
    startedTs: started.length ? Math.min(...started) : null,
    finishedTs: finished.length ? Math.max(...finished) : null,
    targetUpdates,
  };
}

/**
 * An onboarding target's final status as a run outcome: enrolled → Success; excluded or
 * skipped entries do not count; anything else final (invalid, unreachable, install_failed,
 * denied, approval_expired, approval_timeout, interrupted) → Failed; still in progress → Failed
 * too, since its item has finished and nobody will move it on.
 */
function onboardingOutcome(status: string): 'Success' | 'Failed' | null {
  if (status === 'enrolled') return 'Success';
  if (status === 'excluded' || status === 'skipped') return null;
  return 'Failed';
}

/**
 * Finalises runs whose items are all finished and marks started ones Running. Short reads, then
 * one small transaction per finished run. Returns how many runs were finalised.
 */
export async function applyRunRollups(store: Store, options: { now?: number; limit?: number } = {}): Promise<number> {
  const now = options.now ?? Date.now();
  const open = await store.db
    .selectFrom('scheduled_job_runs')
    .select(['id', 'status', 'job_id', 'scheduled_ts'])
    .where('status', 'in', ['Pending', 'Running'])
    .where('component_index', 'is', null)
    .orderBy('id')
    .limit(options.limit ?? 500)
    .execute();
  if (open.length === 0) return 0;
  const runIds = open.map((r) => r.id);
  const items = await store.db
    .selectFrom('job_scheduler_work_items')
    .select(['run_id', 'site_id', 'status', 'error', 'started_at', 'finished_at'])
    .where('run_id', 'in', runIds)
    .execute();
  const targets = await store.db
    .selectFrom('scheduled_job_run_targets')
    .select(['id', 'run_id', 'site_id', 'resolution_status', 'status'])
    .where('run_id', 'in', runIds)
    .execute();
  const onboarding = await store.db
    .selectFrom('scheduled_job_onboarding_targets')
    .select(['run_id', 'status'])
    .where('run_id', 'in', runIds)
    .execute();

  let finalised = 0;
  for (const run of open) {
    const runItems = items.filter((i) => i.run_id === run.id);
    if (runItems.length === 0) continue; // items not written yet, or pruned: leave it
    const outcome = rollUpRun(
      runItems,
      targets.filter((t) => t.run_id === run.id),
      onboarding.filter((t) => t.run_id === run.id).map((t) => t.status),
    );
    if (outcome === null) {
      const started = runItems.map((i) => i.started_at).filter((t): t is number => t !== null);
      if (run.status === 'Pending' && started.length > 0) {
        await store.db
          .updateTable('scheduled_job_runs')
          .set({ status: 'Running', started_ts: Math.min(...started), updated_at: now })
          .where('id', '=', run.id)
          .where('status', '=', 'Pending')
          .execute();
      }
      continue;
    }
    // Counted only when this call wrote the outcome: with several replicas rolling up at once, the
    // compare-and-set on the run's status lets exactly one of them finalise it.
    const wrote = await store.db.transaction().execute(async (trx) => {
      for (const status of ['Success', 'Failed'] as const) {
        const ids = [...outcome.targetUpdates].filter(([, s]) => s === status).map(([id]) => id);
        if (ids.length > 0) {
          await trx.updateTable('scheduled_job_run_targets').set({ status, finished_at: outcome.finishedTs ?? now }).where('id', 'in', ids).execute();
        }
      }
      const r = await trx
        .updateTable('scheduled_job_runs')
        .set({ status: outcome.status, error: outcome.error, started_ts: outcome.startedTs, finished_ts: outcome.finishedTs ?? now, updated_at: now })
        .where('id', '=', run.id)
        .where('status', 'in', ['Pending', 'Running'])
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) === 0) return false;
      await trx
        .updateTable('scheduled_job_runs')
        .set({ status: 'Failed', error: unfinishedComponentError(runItems), finished_ts: outcome.finishedTs ?? now, updated_at: now })
        .where('job_id', '=', run.job_id)
        .where('scheduled_ts', '=', run.scheduled_ts)
        .where('component_index', 'is not', null)
        .where('status', 'in', ['Pending', 'Running'])
        .execute();
      return true;
    });
    if (wrote) finalised++;
  }
  return finalised;
}

/** Why a component row was left unfinished: its occurrence's items ended without finishing it. Pure. */
export function unfinishedComponentError(items: readonly Pick<RollupItem, 'status' | 'error'>[]): string {
  const failed = items.find((i) => i.status !== 'succeeded');
  return `the playbook did not finish: ${failed ? `its work item ended ${failed.status}${failed.error ? ` (${failed.error})` : ''}` : 'its work item ended without recording it'}`;
}

/**
 * `runs rerun`: a new occurrence of a run's job with the SAME frozen targets (copied from the
 * source run, never resolved again: the operator reruns what ran, even if the inventory changed),
 * written through the same path as a tick (fire.ts) with its audit row in the same transaction.
 *
 * Deduplicated: while a rerun of a run is still Pending or Running, asking again returns that
 * rerun instead of creating another. The partial unique index on
 * scheduled_job_runs(rerun_of_run_id) for unfinished runs decides between concurrent requests
 * (migration 20261202_0006), so no interleaving creates two. Onboarding runs have no frozen
 * targets: their rerun expands the same onboarding scope again, as run-now does.
 */
import type { Store } from '../db/open.js';
import { recordAudit, type Actor } from '../audit/audit-log.js';
import { ConflictError, NotFoundError } from '../errors.js';
import { signalLocalWork } from '../queue/wakeup.js';
import { writeOccurrencesIn } from './fire.js';
import type { FrozenTarget, ResolutionStatus } from './targets.js';

export interface RerunResult {
  run_id: number;
  /** False when an unfinished rerun of the same run already existed; its id is returned. */
  created: boolean;
  source_run_id: number;
  job_id: number;
}

export async function rerunRun(store: Store, runId: number, options: { actor: Actor; now: number }): Promise<RerunResult> {
  const { now } = options;
  let sites: Array<number | null> = [];
  let result: RerunResult;
  try {
    result = await store.db.transaction().execute(async (trx) => {
      const source = await trx.selectFrom('scheduled_job_runs').select(['id', 'job_id']).where('id', '=', runId).executeTakeFirst();
      if (!source) throw new NotFoundError(`no run with id ${runId} (a deleted job's runs are deleted with it)`);
      const job = await trx.selectFrom('scheduled_jobs').selectAll().where('id', '=', source.job_id).executeTakeFirst();
      if (!job) throw new ConflictError(`run ${runId}: its job ${source.job_id} was deleted; there is nothing to rerun`);
      const pending = await unfinishedRerun(trx, runId);
      if (pending !== undefined) return { run_id: pending, created: false, source_run_id: runId, job_id: job.id };

      const rows = await trx.selectFrom('scheduled_job_run_targets').selectAll().where('run_id', '=', runId).orderBy('id').execute();
      const frozen: FrozenTarget[] | null = job.job_kind === 'onboarding' ? null : rows.map((t) => ({
        deviceGuid: t.device_guid,
        hostname: t.hostname,
        siteId: t.site_id,
        resolvedFromFilterId: t.resolved_from_filter_id,
        resolvedFromFilterIds: Array.isArray(t.resolved_from_filter_ids_json) ? t.resolved_from_filter_ids_json : [],
        resolutionStatus: (t.resolution_status ?? 'resolved') as ResolutionStatus,
        resolutionReason: t.resolution_reason,
      }));
      const written = await writeOccurrencesIn(
        store,
        trx,
        [{ job, expectedDue: null, nextRunAt: job.next_run_at, fire: [now], targets: { frozen }, missed: null, expiredAt: null, rerunOf: runId }],
        { now },
      );
      const newRunId = written.runIds[0]!;
      sites = written.items > 0 ? written.sites : [];
      await recordAudit(trx, {
        actor: options.actor,
        action: 'run.rerun',
        objectType: 'run',
        objectId: newRunId,
        summary: { source_run_id: runId, job_id: job.id, targets: frozen?.length ?? null, work_items: written.items },
        at: now,
      });
      return { run_id: newRunId, created: true, source_run_id: runId, job_id: job.id };
    });
  } catch (err) {
    // Another request created the rerun between our check and our insert: return it.
    if (!store.dialect.isUniqueViolation(err)) throw err;
    const pending = await unfinishedRerun(store.db, runId);
    // Otherwise another occurrence of the job took the same millisecond (unique job_id, scheduled_ts).
    if (pending === undefined) throw new ConflictError(`run ${runId}: another occurrence of its job was written at the same instant; try again`);
    const source = await store.db.selectFrom('scheduled_job_runs').select('job_id').where('id', '=', runId).executeTakeFirstOrThrow();
    return { run_id: pending, created: false, source_run_id: runId, job_id: source.job_id };
  }
  if (sites.length > 0) signalLocalWork(store, sites);
  return result;
}

async function unfinishedRerun(db: Store['db'], runId: number): Promise<number | undefined> {
  const row = await db
    .selectFrom('scheduled_job_runs')
    .select('id')
    .where('rerun_of_run_id', '=', runId)
    .where('status', 'in', ['Pending', 'Running'])
    .orderBy('id')
    .executeTakeFirst();
  return row?.id;
}

/**
 * Operator actions on scheduled jobs that the CLI and the API share (`jobs run-now|enable|disable`
 * and their POST routes). Each records an audit row in the same transaction as its change.
 */
import { recordAudit, type Actor } from '../audit/audit-log.js';
import type { Store } from '../db/open.js';
import type { ScheduledJob } from '../db/schema.js';
import { NotFoundError } from '../errors.js';
import { getScheduledJob, setJobEnabled } from './jobs.js';
import { runJobNow } from './ticker.js';

/** One occurrence now (the schedule unchanged); audited as `job.run_now`. Returns the run id. */
export async function runNowAsOperator(store: Store, id: number, actor: Actor, options: { now?: number; offlineAfterMs?: number } = {}): Promise<number> {
  const now = options.now ?? Date.now();
  const job = await getScheduledJob(store, id);
  if (!job) throw new NotFoundError(`no job with id ${id}`);
  return runJobNow(store, job, {
    now,
    ...(options.offlineAfterMs !== undefined ? { offlineAfterMs: options.offlineAfterMs } : {}),
    beforeCommit: (trx, runId) =>
      recordAudit(trx, { actor, action: 'job.run_now', objectType: 'job', objectId: id, summary: { name: job.name, run_id: runId }, at: now }),
  });
}

/** Enables or disables a job (see setJobEnabled); audited as `job.enable` / `job.disable` when it changed. */
export async function setEnabledAsOperator(store: Store, id: number, enabled: boolean, actor: Actor, options: { now?: number } = {}): Promise<ScheduledJob> {
  const now = options.now ?? Date.now();
  const job = await setJobEnabled(store, id, enabled, {
    now,
    beforeCommit: (trx, row) =>
      recordAudit(trx, {
        actor,
        action: enabled ? 'job.enable' : 'job.disable',
        objectType: 'job',
        objectId: id,
        summary: { name: row.name, next_run_at: row.next_run_at === null ? null : Number(row.next_run_at) },
        at: now,
      }),
  });
  if (!job) throw new NotFoundError(`no job with id ${id}`);
  return job;
}

/**
 * What the run executors share: which job/run/site an item is for, loading the job and the run
 * (missing → PermanentError: a retry cannot bring them back), and the job's credential (fetched
 * by id only now, turned into JOBYARD_CREDENTIAL_* variables and the list of values to mask).
 */
import type { Selectable } from 'kysely';
import { InvalidJson } from '../db/dialect.js';
import type { ScheduledJobRunsTable, ScheduledJobsTable } from '../db/schema.js';
import { PermanentError } from '../queue/runtime.js';
import { credentialEnvironment, secretValues } from './credentials.js';
import type { ExecutorContext } from './types.js';

export interface ItemRefs {
  jobId: number;
  runId: number;
  siteId: number;
}

export type JobRow = Pick<Selectable<ScheduledJobsTable>, 'id' | 'name' | 'job_kind' | 'components_json' | 'targets_json' | 'credential_id' | 'execution_context'>;
export type RunRow = Pick<Selectable<ScheduledJobRunsTable>, 'id' | 'job_id' | 'scheduled_ts' | 'status'>;

/** The item's job, run and site: its columns first, the payload as a fallback. */
export function itemRefs(ctx: ExecutorContext): ItemRefs {
  const pick = (column: number | null, key: string): number => {
    const value = column ?? ctx.payload[key];
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      throw new PermanentError(`work item ${ctx.item.id} (${ctx.item.kind}) has no ${key}`);
    }
    return value;
  };
  return { jobId: pick(ctx.item.job_id, 'job_id'), runId: pick(ctx.item.run_id, 'run_id'), siteId: pick(ctx.item.site_id, 'site_id') };
}

export async function loadJobAndRun(ctx: ExecutorContext, refs: ItemRefs): Promise<{ job: JobRow; run: RunRow }> {
  const job = await ctx.store.db
    .selectFrom('scheduled_jobs')
    .select(['id', 'name', 'job_kind', 'components_json', 'targets_json', 'credential_id', 'execution_context'])
    .where('id', '=', refs.jobId)
    .executeTakeFirst();
  if (!job) throw new PermanentError(`scheduled job ${refs.jobId} no longer exists`);
  const run = await ctx.store.db
    .selectFrom('scheduled_job_runs')
    .select(['id', 'job_id', 'scheduled_ts', 'status'])
    .where('id', '=', refs.runId)
    .executeTakeFirst();
  if (!run) throw new PermanentError(`run ${refs.runId} of job ${refs.jobId} no longer exists`);
  if (run.job_id !== job.id) throw new PermanentError(`run ${run.id} belongs to job ${run.job_id}, not job ${job.id}`);
  return { job, run };
}

/** The job's components; anything but an array is a PermanentError. */
export function jobComponents(job: JobRow): unknown[] {
  const components = job.components_json;
  if (!Array.isArray(components)) {
    const why = components instanceof InvalidJson ? String(components) : 'components_json is not an array';
    throw new PermanentError(`job ${job.id}: ${why}`);
  }
  return components;
}

export interface CredentialMaterial {
  env: Record<string, string>;
  secrets: string[];
}

/** The job's credential as variables and mask values; a credential_id that resolves to nothing is a PermanentError. */
export async function jobCredential(ctx: ExecutorContext, job: JobRow): Promise<CredentialMaterial> {
  if (job.credential_id === null) return { env: {}, secrets: [] };
  const credential = await ctx.credentials.get(job.credential_id, { siteId: ctx.item.site_id });
  if (!credential) throw new PermanentError(`job ${job.id}: credential ${job.credential_id} not found`);
  return { env: credentialEnvironment(credential), secrets: secretValues(credential) };
}

/** A positive integer option of a component, or the fallback. */
export function positiveInt(value: unknown, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? Math.min(value, max) : fallback;
}

/** The error thrown when the item's signal ended the work early (the runtime discards the outcome). */
export function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return new Error(`execution stopped: ${reason instanceof Error ? reason.message : reason !== undefined ? String(reason) : 'aborted'}`);
}

/**
 * The onboarding timelines an operator reads: a job's onboarding targets (newest run first, then in
 * target order), each with its `events` (oldest first) and `approval`: the device_approvals row
 * whose approval_reference the target carries, or null. Only non-secret approval fields are read
 * (no nonces, public key or enrollment code).
 */
import type { Store } from '../../db/open.js';

const APPROVAL_FIELDS = [
  'approval_reference',
  'status',
  'guid',
  'hostname_claimed',
  'site_id',
  'approved_by_user_id',
  'onboarding_run_id',
  'onboarding_target',
  'created_at',
  'updated_at',
] as const;
/** Ids per IN list: far inside both backends' bound-parameter limits. */
const CHUNK = 500;

/** Undefined when the job does not exist. */
export async function readOnboardingTimelines(store: Store, jobId: number, options: { runId?: number | undefined; limit: number }) {
  const { runId, limit } = options;
  const job = await store.db.selectFrom('scheduled_jobs').select(['id', 'name', 'job_kind']).where('id', '=', jobId).executeTakeFirst();
  if (!job) return undefined;

  let query = store.db.selectFrom('scheduled_job_onboarding_targets').selectAll().where('job_id', '=', jobId);
  if (runId !== undefined) query = query.where('run_id', '=', runId);
  const targets = await query.orderBy('run_id', 'desc').orderBy('id').limit(limit).execute();

  const ids = targets.map((t) => t.id);
  const events = new Map<number, unknown[]>();
  for (let i = 0; i < ids.length; i += CHUNK) {
    const rows = await store.db
      .selectFrom('scheduled_job_onboarding_target_events')
      .selectAll()
      .where('target_row_id', 'in', ids.slice(i, i + CHUNK))
      .orderBy('target_row_id')
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    for (const e of rows) {
      const list = events.get(e.target_row_id);
      if (list) list.push(e);
      else events.set(e.target_row_id, [e]);
    }
  }

  const refs = [...new Set(targets.map((t) => t.approval_reference).filter((r): r is string => r !== null && r !== ''))];
  const approvals = new Map<string, unknown>();
  for (let i = 0; i < refs.length; i += CHUNK) {
    const rows = await store.db
      .selectFrom('device_approvals')
      .select(APPROVAL_FIELDS)
      .where('approval_reference', 'in', refs.slice(i, i + CHUNK))
      .execute();
    for (const a of rows) approvals.set(a.approval_reference, a);
  }

  return {
    job,
    truncated: targets.length === limit,
    targets: targets.map((t) => ({
      ...t,
      approval_status: t.approval_reference ? ((approvals.get(t.approval_reference) as { status?: string } | undefined)?.status ?? null) : null,
      approval: t.approval_reference ? (approvals.get(t.approval_reference) ?? null) : null,
      events: events.get(t.id) ?? [],
    })),
  };
}

/**
 * The scheduler's read model for `jobyard status` and the metrics scrape: when an occurrence was
 * last written and which enabled jobs are due but not yet ticked.
 */
import type { Store } from '../db/open.js';

export interface SchedulerStats {
  /**
   * The newest scheduled_job_runs row's created_at: when a tick (or run-now) last wrote an
   * occurrence. No tick time is stored (an empty tick writes nothing), so read it with
   * `due_jobs`: enabled jobs whose next_run_at has passed and that no scheduler has advanced.
   */
  last_run_created_at: number | null;
  last_run_age_ms: number | null;
  due_jobs: number;
  oldest_due_at: number | null;
  oldest_due_age_ms: number | null;
}

export async function readSchedulerStats(store: Store, now: number): Promise<SchedulerStats> {
  const { db } = store;
  // Ids grow with time, so the newest run is found on the primary key, not by scanning created_at.
  const lastRun = await db.selectFrom('scheduled_job_runs').select('created_at').orderBy('id', 'desc').limit(1).executeTakeFirst();
  const due = await db
    .selectFrom('scheduled_jobs')
    .select((eb) => [eb.fn.countAll().as('n'), eb.fn.min('next_run_at').as('first')])
    .where('enabled', '=', true)
    .where('next_run_at', 'is not', null)
    .where('next_run_at', '<=', now)
    .executeTakeFirst();
  const dueCount = Number(due?.n ?? 0);
  const oldestDue = dueCount > 0 && due?.first != null ? Number(due.first) : null;
  const age = (ts: number | null | undefined) => (ts == null ? null : Math.max(0, now - ts));
  return {
    last_run_created_at: lastRun?.created_at ?? null,
    last_run_age_ms: age(lastRun?.created_at),
    due_jobs: dueCount,
    oldest_due_at: oldestDue,
    oldest_due_age_ms: age(oldestDue),
  };
}

/** Status of the newest runs (id → status), newest first, from the primary key. */
export async function recentRunStatuses(store: Store, limit: number): Promise<Record<string, string>> {
  const rows = await store.db.selectFrom('scheduled_job_runs').select(['id', 'status']).orderBy('id', 'desc').limit(limit).execute();
  return Object.fromEntries(rows.map((r) => [String(r.id), r.status]));
}

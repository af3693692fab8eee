/**
 * Which scheduled jobs name a site or a device filter in their targets, asked before the site or
 * filter is deleted. targets_json is JSON, so the check reads every job's targets and looks in
 * them (jobs number in the hundreds, not millions); a job whose targets cannot be read names
 * nothing. An onboarding job's scope names its site too.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

export type JobReference = { siteId: number } | { filterId: number };

/** Ids of the jobs whose targets name the site or filter, ascending. */
export async function jobsReferencing(db: Kysely<Database>, ref: JobReference): Promise<number[]> {
  const rows = await db.selectFrom('scheduled_jobs').select(['id', 'targets_json']).orderBy('id').execute();
  return rows.filter((r) => targetsName(r.targets_json, ref)).map((r) => r.id);
}

/** True when a job's targets_json names the site or filter (pure). */
export function targetsName(targets: unknown, ref: JobReference): boolean {
  if (targets === null || typeof targets !== 'object' || Array.isArray(targets)) return false;
  const t = targets as Record<string, unknown>;
  const has = (list: unknown, id: number): boolean => Array.isArray(list) && list.some((v) => v === id || v === String(id));
  if ('filterId' in ref) return has(t.filters, ref.filterId);
  if (has(t.sites, ref.siteId)) return true;
  const scope = t.onboarding_scope;
  return scope !== null && typeof scope === 'object' && (scope as Record<string, unknown>).site_id === ref.siteId;
}

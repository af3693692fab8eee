/**
 * How much unfinished work a site still has (queued or running items), asked before a site is
 * deleted. Takes a Kysely handle so the caller can ask inside its own transaction.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { FINISHED_STATUSES } from './kinds.js';

export async function countUnfinishedItemsOfSite(db: Kysely<Database>, siteId: number): Promise<number> {
  const row = await db
    .selectFrom('job_scheduler_work_items')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('site_id', '=', siteId)
    .where('status', 'not in', FINISHED_STATUSES)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

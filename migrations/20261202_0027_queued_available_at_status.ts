/**
 * `ix_work_items_queued_available_at` becomes `(status, available_at)` over queued items (it was
 * `(available_at)`). The overview's ready and delayed counts and oldest ready item ask for
 * `status = ? and available_at <=/> ?`. SQLite, which runs without planner statistics, read them
 * through the claim index, which led with `status` and covered `available_at`; since migration
 * 0026 that index holds sited items only, and SQLite then picked `(status, site_id, id)` — an
 * equality it rates above the range on this index — and fetched every queued row (10× slower at
 * a million items). With `status` in front, this index offers both the equality and the range
 * and covers the reads. PostgreSQL read this index already; the entry grows by the status text.
 */
import type { Kysely } from 'kysely';
import { sql } from '../src/db/kysely.js';

const TABLE = 'job_scheduler_work_items';
const INDEX = 'ix_work_items_queued_available_at';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex(INDEX).execute();
  await db.schema.createIndex(INDEX).on(TABLE).columns(['status', 'available_at']).where(sql.ref('status'), '=', 'queued').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex(INDEX).execute();
  await db.schema.createIndex(INDEX).on(TABLE).column('available_at').where(sql.ref('status'), '=', 'queued').execute();
}

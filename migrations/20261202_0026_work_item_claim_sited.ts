/**
 * `ix_work_items_claim` holds sited queued items only. Site-less items are claimed through
 * `ix_work_items_claim_siteless` (a `site_id IS NULL` claim cannot read the general index in
 * order, see migration 0001), so their entries here were written on every enqueue and never read
 * by a claim: about a ninth of a site-less enqueue's index work and WAL. Every claim that reads
 * this index binds `site_id = ?`, which implies `site_id IS NOT NULL` on both backends (SQLite
 * matches a comparison on z against `z IS NOT NULL`); the any-site claim and the overview's
 * per-site counts never read it in order. The leading `status` column went too: the predicate
 * fixes it.
 */
import type { Kysely } from 'kysely';
import { sql } from '../src/db/kysely.js';

const TABLE = 'job_scheduler_work_items';
const INDEX = 'ix_work_items_claim';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex(INDEX).execute();
  await db.schema
    .createIndex(INDEX)
    .on(TABLE)
    .columns(['site_id', 'lane', 'priority desc', 'available_at', 'id'])
    .where((eb) => eb.and([eb(sql.ref('status'), '=', 'queued'), eb(sql.ref('site_id'), 'is not', null)]))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex(INDEX).execute();
  await db.schema
    .createIndex(INDEX)
    .on(TABLE)
    .columns(['status', 'site_id', 'lane', 'priority desc', 'available_at', 'id'])
    .where(sql.ref('status'), '=', 'queued')
    .execute();
}

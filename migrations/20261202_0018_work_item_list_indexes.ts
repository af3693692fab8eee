/**
 * Indexes for the work-item lists and their capped counts (dashboard and API), so a filtered page
 * at a million items reads an index range newest-first instead of scanning:
 * - (status, id): one status, newest first;
 * - (status, site_id, id): one status on one site (and per-site counts of any status);
 * - (available_at) over queued items only: the overview's ready and delayed counts and the
 *   oldest ready item (the claim index leads with site and lane, so it cannot range on time);
 * - (lease_owner, id) and (worker_guid, id), non-null only: the worker filter, one lookup each
 *   (finished items keep both columns, so the running-only lease-owner index cannot serve it);
 * - PostgreSQL: a GIN (jsonb_path_ops) index on payload_json for payload path searches; SQLite
 *   has no JSON index, so its search is bounded instead (see src/queue/work-item-list.ts).
 */
import { sql } from '../src/db/kysely.js';
import type { Kysely } from 'kysely';
import type { Dialect } from '../src/db/dialect.js';

const TABLE = 'job_scheduler_work_items';

export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  const s = db.schema;
  await s.createIndex('ix_work_items_status_id').on(TABLE).columns(['status', 'id']).execute();
  await s.createIndex('ix_work_items_status_site_id').on(TABLE).columns(['status', 'site_id', 'id']).execute();
  await s.createIndex('ix_work_items_queued_available_at').on(TABLE).column('available_at').where(sql.ref('status'), '=', 'queued').execute();
  await s.createIndex('ix_work_items_lease_owner_id').on(TABLE).columns(['lease_owner', 'id']).where(sql.ref('lease_owner'), 'is not', null).execute();
  await s.createIndex('ix_work_items_worker_guid_id').on(TABLE).columns(['worker_guid', 'id']).where(sql.ref('worker_guid'), 'is not', null).execute();
  await dialect.jsonSearch.createIndex(db, 'ix_work_items_payload_search', TABLE, 'payload_json');
}

export async function down(db: Kysely<any>, dialect: Dialect): Promise<void> {
  await dialect.jsonSearch.dropIndex(db, 'ix_work_items_payload_search');
  for (const name of ['ix_work_items_worker_guid_id', 'ix_work_items_lease_owner_id', 'ix_work_items_queued_available_at', 'ix_work_items_status_site_id', 'ix_work_items_status_id']) {
    await db.schema.dropIndex(name).execute();
  }
}

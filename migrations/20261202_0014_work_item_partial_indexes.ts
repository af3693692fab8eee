/**
 * The two unconditional work-item indexes become partial, so the hot path (enqueue, claim,
 * completion) maintains fewer index entries:
 * - `ix_work_items_status_kind (status, kind)` changed on every claim and every completion (both
 *   change `status`; PostgreSQL cannot update these rows in place either). It becomes one
 *   `(kind)` index per finished status, `WHERE status = '<status>'`: an item enters one of them
 *   once, when it finishes. Queued and running items are found through the claim and lease
 *   indexes (partial on `status = 'queued'` / `'running'`). One index per status rather than one
 *   with `status IN (…)`: SQLite uses a partial index only when the query's terms match its
 *   WHERE, and it matches `status = ?` against `status = 'failed'` (comparing the bound value),
 *   never against an IN list.
 * - `ix_work_items_finished_at` held a NULL entry for every unfinished item; pruning, metrics and
 *   the minute rollup only ever ask for `finished_at` ranges, which imply `IS NOT NULL`.
 */
import { sql } from '../src/db/kysely.js';
import type { Kysely } from 'kysely';

const FINISHED = ['succeeded', 'failed', 'dead', 'cancelled'] as const;

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('ix_work_items_status_kind').execute();
  for (const status of FINISHED) {
    await db.schema
      .createIndex(`ix_work_items_${status}_kind`)
      .on('job_scheduler_work_items')
      .column('kind')
      .where(sql.ref('status'), '=', status)
      .execute();
  }
  await db.schema.dropIndex('ix_work_items_finished_at').execute();
  await db.schema
    .createIndex('ix_work_items_finished_at')
    .on('job_scheduler_work_items')
    .column('finished_at')
    .where(sql.ref('finished_at'), 'is not', null)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('ix_work_items_finished_at').execute();
  await db.schema.createIndex('ix_work_items_finished_at').on('job_scheduler_work_items').column('finished_at').execute();
  for (const status of FINISHED) await db.schema.dropIndex(`ix_work_items_${status}_kind`).execute();
  await db.schema.createIndex('ix_work_items_status_kind').on('job_scheduler_work_items').columns(['status', 'kind']).execute();
}

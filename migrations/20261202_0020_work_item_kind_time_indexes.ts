/**
 * Indexes for the work-item list's kind filter and creation-time range, partial per status, so
 * none costs a PostgreSQL claim anything and a completion one entry more: on PostgreSQL a status
 * change is a non-HOT update that writes every index whose predicate the new row satisfies, so
 * an unconditional index would cost every claim and every completion, while an item enters a
 * finished status's pair once, when it finishes.
 * - `ix_work_items_<status>_kind (kind)` becomes `(kind, id)`: a kind's newest items of one
 *   finished status in id order, so a page reads 50 entries instead of sorting all of the kind's;
 * - `ix_work_items_<status>_created (created_at, id)`: a time range of one finished status, in
 *   creation order (a time-filtered page is ordered by created_at, see src/queue/work-item-list.ts).
 * - the same two over queued items: an item enters them when it is enqueued (or queued again by
 *   a retry); a claim moves it out, which PostgreSQL's claim UPDATE writes nothing for (the new
 *   row version is not queued) and SQLite's deletes the entries. A backlog of tens of thousands
 *   of queued items is otherwise walked row by row for every page.
 * Running items (as many as the fleet runs at once) are walked through `(status, id)`. One index
 * per status, as in migration 0014: SQLite matches `status = ?` against `status = 'failed'` but
 * never against an IN list.
 */
import type { Kysely } from 'kysely';
import { sql } from '../src/db/kysely.js';

const FINISHED = ['succeeded', 'failed', 'dead', 'cancelled'] as const;
const INDEXED = [...FINISHED, 'queued'] as const;
const TABLE = 'job_scheduler_work_items';

export async function up(db: Kysely<any>): Promise<void> {
  for (const status of FINISHED) await db.schema.dropIndex(`ix_work_items_${status}_kind`).execute();
  for (const status of INDEXED) {
    await db.schema.createIndex(`ix_work_items_${status}_kind_id`).on(TABLE).columns(['kind', 'id']).where(sql.ref('status'), '=', status).execute();
    await db.schema.createIndex(`ix_work_items_${status}_created`).on(TABLE).columns(['created_at', 'id']).where(sql.ref('status'), '=', status).execute();
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const status of INDEXED) {
    await db.schema.dropIndex(`ix_work_items_${status}_created`).execute();
    await db.schema.dropIndex(`ix_work_items_${status}_kind_id`).execute();
  }
  for (const status of FINISHED) {
    await db.schema.createIndex(`ix_work_items_${status}_kind`).on(TABLE).column('kind').where(sql.ref('status'), '=', status).execute();
  }
}

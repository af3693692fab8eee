/**
 * Drops the PostgreSQL GIN index on work-item payloads (migration 0018). A status change on
 * PostgreSQL is never an in-place (HOT) update, so every enqueue, claim and completion added the
 * row's payload to the GIN index again: about a fifth of the WAL each of those statements wrote
 * (EXPLAIN (ANALYZE, WAL) of a 1,000-row claim: 952 kB with it, 778 kB without), on the queue's
 * hottest path, for a search operators run by hand. The payload search now runs on both backends
 * as it always did on SQLite: over a bounded window of the newest items matching the other
 * filters, which the page reports (src/queue/work-item-list.ts, src/db/json-search.ts).
 */
import type { Kysely } from 'kysely';
import type { Dialect } from '../src/db/dialect.js';

const INDEX = 'ix_work_items_payload_search';

export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  await dialect.jsonSearch.dropIndex(db, INDEX);
}

export async function down(db: Kysely<any>, dialect: Dialect): Promise<void> {
  await dialect.jsonSearch.createIndex(db, INDEX, 'job_scheduler_work_items', 'payload_json');
}

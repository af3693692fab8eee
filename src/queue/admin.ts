/** Operator reads and actions on items: list, show, cancel, retry now, and pruning of old finished items. */
import type { Kysely } from 'kysely';
import { clockNow } from '../db/clock.js';
import type { Store } from '../db/open.js';
import type { Database, WorkItem } from '../db/schema.js';
import { FINISHED_STATUSES } from './kinds.js';
import { signalLocalRevocation, signalLocalWork } from './wakeup.js';
import { listItems } from './work-item-list.js';

export interface WorkItemFilter {
  /** Only items in one of these statuses (default: every status). */
  statuses?: readonly string[];
  /** Only items of one of these kinds (default: every kind). */
  kinds?: readonly string[];
  /** Only this site's items; null for site-less items (default: every site). */
  siteId?: number | null;
  /** Only items with a smaller id (keyset pagination: the last id of the previous page). */
  beforeId?: number;
  limit: number;
}

/** Items matching the filter, newest first (by id), at most `limit`: the dashboard's list query, without its count. */
export async function listWorkItems(store: Store, filter: WorkItemFilter): Promise<WorkItem[]> {
  const page = await listItems(
    store,
    { ...(filter.statuses ? { status: filter.statuses } : {}), ...(filter.kinds ? { kind: filter.kinds } : {}), ...(filter.siteId !== undefined ? { site: filter.siteId } : {}) },
    { ...(filter.beforeId !== undefined ? { before: filter.beforeId } : {}), limit: filter.limit, count: false },
  );
  return page.items;
}

export async function getWorkItem(store: Store, id: number): Promise<WorkItem | undefined> {
  return store.db.selectFrom('job_scheduler_work_items').selectAll().where('id', '=', id).executeTakeFirst();
}

/**
 * Cancels a queued or running item. A running item's worker is told at once (a lease revocation
 * notice, see wakeup.ts), checks its lease, aborts the handler and discards its result; its next
 * heartbeat or completion (lease_lost) would find out too, should the notice be lost.
 */
export async function cancelWorkItem(store: Store, id: number, options: ItemActionOptions = {}): Promise<WorkItem | undefined> {
  const now = options.now ?? (await clockNow(store.clock));
  const cancelled = await writeItem(store, options, (db) =>
    db
      .updateTable('job_scheduler_work_items')
      .set({ status: 'cancelled', finished_at: now, updated_at: now, lease_owner: null, lease_expires_at: null, error: 'cancelled by operator' })
      .where('id', '=', id)
      .where('status', 'in', ['queued', 'running'])
      .returningAll()
      .executeTakeFirst(),
  );
  if (cancelled) {
    signalLocalRevocation(store, [id]);
    await store.dialect.notifyLeasesRevoked(store.db, [id]);
  }
  return cancelled;
}

/**
 * Makes an item claimable now: a queued item skips its delay; a finished one (failed, dead,
 * cancelled, succeeded) gets one more attempt beyond those it used.
 */
export async function retryWorkItemNow(store: Store, id: number, options: ItemActionOptions = {}): Promise<WorkItem | undefined> {
  const now = options.now ?? (await clockNow(store.clock));
  const item = await writeItem(store, options, (db) =>
    db
      .updateTable('job_scheduler_work_items')
      .set((eb) => ({
        status: 'queued',
        available_at: now,
        updated_at: now,
        finished_at: null,
        max_attempts: eb.case().when('attempt_count', '>=', eb.ref('max_attempts')).then(eb('attempt_count', '+', 1)).else(eb.ref('max_attempts')).end(),
      }))
      .where('id', '=', id)
      .where('status', '!=', 'running')
      .returningAll()
      .executeTakeFirst(),
  );
  if (item) {
    signalLocalWork(store, [item.site_id]);
    await store.dialect.notifyWork(store.db, [item.site_id]);
  }
  return item;
}

export interface ItemActionOptions {
  now?: number;
  /** Runs inside the update's transaction with the changed row (an operator action records its audit row here). */
  beforeCommit?: (trx: Kysely<Database>, item: WorkItem) => Promise<void>;
}

/** One update statement, in a transaction with the hook when there is one; wake-ups follow the commit. */
async function writeItem(
  store: Store,
  options: ItemActionOptions,
  update: (db: Kysely<Database>) => Promise<WorkItem | undefined>,
): Promise<WorkItem | undefined> {
  const hook = options.beforeCommit;
  if (!hook) return update(store.db);
  return store.db.transaction().execute(async (trx) => {
    const item = await update(trx);
    if (item) await hook(trx, item);
    return item;
  });
}

export const DEFAULT_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;

/**
 * Deletes finished items older than the retention in batches of `batchSize`, each its own short
 * statement, so a large prune never holds a long lock. Returns how many were deleted.
 */
export async function pruneFinishedWorkItems(
  store: Store,
  options: { retentionMs?: number; batchSize?: number; now?: number } = {},
): Promise<number> {
  const cutoff = (options.now ?? (await clockNow(store.clock))) - (options.retentionMs ?? DEFAULT_RETENTION_MS);
  const batchSize = options.batchSize ?? 1000;
  let total = 0;
  for (;;) {
    const deleted = await store.db
      .deleteFrom('job_scheduler_work_items')
      .where('id', 'in', (db) =>
        db
          .selectFrom('job_scheduler_work_items')
          .select('id')
          .where('status', 'in', FINISHED_STATUSES)
          .where('finished_at', '<', cutoff)
          .orderBy('finished_at')
          .limit(batchSize),
      )
      .executeTakeFirst();
    const n = Number(deleted.numDeletedRows);
    total += n;
    if (n < batchSize) return total;
  }
}

/**
 * Cancels every queued or running item of a job inside the caller's transaction (a forced job
 * delete) and returns their ids. PostgreSQL delivers the revocation NOTIFY at commit; the caller
 * calls `announceCancelled` after its commit for this process's own consumers.
 */
export async function cancelJobItemsIn(
  trx: Kysely<Database>,
  store: Store,
  jobId: number,
  options: { now: number; reason: string },
): Promise<number[]> {
  const rows = await trx
    .updateTable('job_scheduler_work_items')
    .set({ status: 'cancelled', finished_at: options.now, updated_at: options.now, lease_owner: null, lease_expires_at: null, error: options.reason })
    .where('job_id', '=', jobId)
    .where('status', 'in', ['queued', 'running'])
    .returning('id')
    .execute();
  const ids = rows.map((r) => r.id);
  if (ids.length > 0) await store.dialect.notifyLeasesRevoked(trx, ids);
  return ids;
}

/** Tells this process's lease holders that these items were cancelled (after the commit). */
export function announceCancelled(store: Store, ids: readonly number[]): void {
  if (ids.length > 0) signalLocalRevocation(store, [...ids]);
}

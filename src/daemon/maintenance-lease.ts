/**
 * Maintenance without a herd: every scheduler replica runs the same maintenance loops, but a
 * shared task (reclaim, prune, run rollup, minute rollup, service snapshots) is done by one
 * replica per interval. Before running it, a replica moves the task's row forward with a
 * compare-and-set (`next_due_at <= now` → `now + turn`); only the replica whose UPDATE changed
 * the row runs it. One single-row statement: on PostgreSQL concurrent updaters queue on the row
 * lock and re-check the condition (READ COMMITTED), so exactly one wins and none deadlocks; on
 * SQLite the single writer serialises them.
 * Times are the store's clock (the server's on PostgreSQL), so replicas agree on what is due.
 *
 * The turn is shorter than the interval by the loops' jitter, so a lone replica whose jittered
 * loop comes back a little early still gets every turn: a task runs at most once per
 * `interval × (1 − jitter)` and, while any replica lives, at least once per `interval × (1 + jitter)`.
 * A replica that dies mid-task leaves the turn taken: that one pass is skipped, not repeated.
 */
import { clockNow } from '../db/clock.js';
import type { Store } from '../db/open.js';

export type MaintenanceTask = 'reclaim' | 'prune' | 'rollup' | 'minute-rollup' | 'service-snapshots';

/** The turn a task's interval leaves after jitter (pure). */
export function turnLengthMs(intervalMs: number, jitter: number): number {
  return Math.max(1, Math.floor(intervalMs * (1 - jitter)));
}

/** A loop's next delay: the interval times a random factor in [1 − jitter, 1 + jitter) (pure). */
export function jittered(intervalMs: number, jitter: number, random: () => number = Math.random): number {
  return intervalMs * (1 - jitter + 2 * jitter * random());
}

/**
 * True when this replica (`holder`) took the task's turn and should run it now; false when
 * another replica ran it less than `turnMs` ago.
 */
export async function takeMaintenanceTurn(
  store: Store,
  task: MaintenanceTask,
  turnMs: number,
  holder: string,
  options: { now?: number } = {},
): Promise<boolean> {
  const now = options.now ?? (await clockNow(store.clock));
  const taken = await store.db
    .updateTable('maintenance_leases')
    .set({ next_due_at: now + turnMs, holder, ran_at: now })
    .where('task', '=', task)
    .where('next_due_at', '<=', now)
    .returning('task')
    .executeTakeFirst();
  if (taken) return true;
  // No row yet (first run after the migration), or another replica holds the turn.
  const inserted = await store.db
    .insertInto('maintenance_leases')
    .values({ task, next_due_at: now + turnMs, holder, ran_at: now })
    .onConflict((oc) => oc.column('task').doNothing())
    .returning('task')
    .executeTakeFirst();
  return inserted !== undefined;
}

/**
 * maintenance_leases: one row per shared maintenance task (reclaim, prune, rollup, worker
 * reconciliation). A scheduler replica runs a task only after moving its `next_due_at` forward
 * with a compare-and-set, so N replicas do each task once per interval between them
 * (src/daemon/maintenance-lease.ts).
 */
import type { Kysely } from 'kysely';
import type { Dialect } from '../src/db/dialect.js';

export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  const t = dialect.types;
  await db.schema
    .createTable('maintenance_leases')
    .addColumn('task', 'text', (c) => c.notNull().primaryKey())
    .addColumn('next_due_at', t.timestamp, (c) => c.notNull())
    .addColumn('holder', 'text')
    .addColumn('ran_at', t.timestamp)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('maintenance_leases').execute();
}

/**
 * work_item_minute_rollup: per minute and kind, how many items finished (succeeded, failed or
 * dead) and how long they waited from available to claimed, so the dashboard's charts read a few
 * hundred small rows instead of scanning work items (and work without Prometheus). Written by the
 * scheduler once a minute (idempotently: a replica recomputing a minute writes the same row),
 * pruned after UI_ROLLUP_RETENTION_DAYS.
 */
import type { Kysely } from 'kysely';
import type { Dialect } from '../src/db/dialect.js';

export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  const t = dialect.types;
  await db.schema
    .createTable('work_item_minute_rollup')
    .addColumn('minute_ts', t.timestamp, (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('succeeded', 'integer', (c) => c.notNull())
    .addColumn('failed', 'integer', (c) => c.notNull())
    .addColumn('wait_ms_sum', t.bigint, (c) => c.notNull())
    .addColumn('wait_count', 'integer', (c) => c.notNull())
    .addColumn('run_ms_sum', t.bigint, (c) => c.notNull())
    .addPrimaryKeyConstraint('pk_work_item_minute_rollup', ['minute_ts', 'kind'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('work_item_minute_rollup').execute();
}

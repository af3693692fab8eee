/**
 * audit_log: one row per write an operator made through the CLI or the HTTP API: who (a token's
 * name or `cli:<os user>`), what (action, object type and id), when, and a summary of the change
 * that never holds a secret. Rows are pruned after AUDIT_RETENTION_DAYS by the scheduler.
 */
import type { Kysely } from 'kysely';
import type { Dialect } from '../src/db/dialect.js';

export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  const t = dialect.types;
  await dialect
    .addIdColumn(db.schema.createTable('audit_log'), 'id', 'big')
    .addColumn('at', t.timestamp, (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('object_type', 'text', (c) => c.notNull())
    .addColumn('object_id', 'text')
    .addColumn('summary_json', t.json, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('ix_audit_log_at').on('audit_log').columns(['at', 'id']).execute();
  await db.schema.createIndex('ix_audit_log_object').on('audit_log').columns(['object_type', 'object_id', 'id']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('audit_log').execute();
}

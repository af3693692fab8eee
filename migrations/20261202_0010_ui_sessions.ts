/**
 * ui_sessions: dashboard sign-ins. The cookie holds a random session id; only its SHA-256 is
 * stored, so a database reader cannot sign in with a row. Kept in the database (not in memory)
 * so that every scheduler replica behind a load balancer accepts the same cookie.
 */
import type { Kysely } from 'kysely';
import type { Dialect } from '../src/db/dialect.js';

export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  const t = dialect.types;
  await db.schema
    .createTable('ui_sessions')
    .addColumn('id_hash', 'text', (c) => c.primaryKey().notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('csrf_token', 'text', (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('expires_at', t.timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('ix_ui_sessions_expires').on('ui_sessions').column('expires_at').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('ui_sessions').execute();
}

/**
 * api_tokens: bearer tokens of the HTTP API, each with a role (viewer < operator < admin). Only a
 * SHA-256 hash of the token is stored (the token is 256 random bits, so a fast hash is enough);
 * the plaintext is shown once, at creation. A revoked token keeps its row (revoked_at) so the
 * audit log's `token:<name>` actors stay meaningful; names are unique across live and revoked.
 */
import type { Kysely } from 'kysely';
import type { Dialect } from '../src/db/dialect.js';

export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  const t = dialect.types;
  await dialect
    .addIdColumn(db.schema.createTable('api_tokens'), 'id', 'int')
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('last_used_at', t.timestamp)
    .addColumn('revoked_at', t.timestamp)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('api_tokens').execute();
}

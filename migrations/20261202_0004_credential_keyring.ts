/**
 * credential_keyring: the one row that says how the credentials key is derived (scrypt and its
 * parameters) and a verification token (an envelope of a known constant) that tells a right
 * unlock secret from a wrong one before anything is decrypted. The key itself is never stored.
 * No row until the first unlock, which also encrypts the plaintext left in `credentials`.
 */
import { sql } from '../src/db/kysely.js';
import type { Kysely } from 'kysely';
import type { Dialect } from '../src/db/dialect.js';

export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  const t = dialect.types;
  // An identity key like every table's (one row: id 1, held by the check).
  await dialect
    .addIdColumn(db.schema.createTable('credential_keyring'), 'id', 'int')
    .addColumn('kdf_name', 'text', (c) => c.notNull())
    .addColumn('kdf_params_json', t.json, (c) => c.notNull())
    .addColumn('verification_token', 'text', (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .addCheckConstraint('ck_credential_keyring_singleton', sql`id = 1`)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('credential_keyring').execute();
}

/**
 * ui_sessions gains what it takes to end a session when its credential goes away, and an idle
 * timeout:
 * - credential_mac: HMAC-SHA256 keyed with the session id (which only the cookie holds) over the
 *   token that signed in. A changed HTTP_TOKEN no longer reproduces it, so those sessions end; a
 *   database reader learns nothing about the token from it.
 * - last_active_at: when the session last made a request (written at most once a minute).
 * Existing sessions have neither, so they are removed: their users sign in again once.
 */
import type { Kysely } from 'kysely';
import type { Dialect } from '../src/db/dialect.js';

export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  const t = dialect.types;
  await db.deleteFrom('ui_sessions').execute();
  await db.schema.alterTable('ui_sessions').addColumn('credential_mac', 'text', (c) => c.notNull().defaultTo('')).execute();
  await db.schema.alterTable('ui_sessions').addColumn('last_active_at', t.timestamp, (c) => c.notNull().defaultTo(0)).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('ui_sessions').dropColumn('last_active_at').execute();
  await db.schema.alterTable('ui_sessions').dropColumn('credential_mac').execute();
}

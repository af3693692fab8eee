/**
 * Wake-ups for idle consumers: on PostgreSQL a statement-level trigger NOTIFYs the inserted
 * items' site ids (see Dialect.installWorkNotify); on SQLite there is nothing to install.
 */
import type { Kysely } from 'kysely';
import type { Dialect } from '../src/db/dialect.js';

export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  await dialect.installWorkNotify(db);
}

export async function down(db: Kysely<any>, dialect: Dialect): Promise<void> {
  await dialect.removeWorkNotify(db);
}

/**
 * The tables of a test database, read from the database itself: a table a new migration adds is
 * included without anyone editing a list. The catalogue queries are per backend (as in
 * src/db/dialect.ts); both look only where unqualified names resolve (the test's own schema on
 * PostgreSQL) and are cheap enough to run before every test.
 */
import { sql } from 'kysely';
import { MIGRATION_LOCK_TABLE, MIGRATION_TABLE } from '../../src/db/migrate.js';
import type { Store } from '../../src/db/open.js';

interface Catalogue {
  tables: string[];
  /** One entry per foreign key: `child` has a column referencing `parent`. */
  references: Array<{ child: string; parent: string }>;
}

async function readCatalogue(store: Store): Promise<Catalogue> {
  if (store.dialect.backend === 'sqlite') {
    const tables = await sql<{ name: string }>`
      select name from sqlite_master where type = 'table' and name not like 'sqlite_%'`.execute(store.db);
    const references = await sql<{ child: string; parent: string }>`
      select m.name as child, f."table" as parent
        from sqlite_master m join pragma_foreign_key_list(m.name) f
       where m.type = 'table'`.execute(store.db);
    return { tables: tables.rows.map((r) => r.name), references: references.rows };
  }
  const tables = await sql<{ name: string }>`
    select tablename as name from pg_catalog.pg_tables where schemaname = current_schema()`.execute(store.db);
  const references = await sql<{ child: string; parent: string }>`
    select c.relname as child, p.relname as parent
      from pg_catalog.pg_constraint k
      join pg_catalog.pg_class c on c.oid = k.conrelid
      join pg_catalog.pg_class p on p.oid = k.confrelid
     where k.contype = 'f' and k.connamespace = current_schema()::regnamespace`.execute(store.db);
  return { tables: tables.rows.map((r) => r.name), references: references.rows };
}

/** Every table the migrations created (all tables but the migration bookkeeping), by name. */
export async function migratedTables(store: Store): Promise<string[]> {
  const { tables } = await readCatalogue(store);
  return tables.filter((t) => t !== MIGRATION_TABLE && t !== MIGRATION_LOCK_TABLE).sort();
}

/**
 * Those tables in an order that deletes every referencing table before the tables it
 * references, so each DELETE passes the foreign keys whatever their ON DELETE rule (SQLite
 * checks them too: foreign_keys is ON).
 */
export async function tablesInDeleteOrder(store: Store): Promise<string[]> {
  const { tables, references } = await readCatalogue(store);
  const pending = new Set(tables.filter((t) => t !== MIGRATION_TABLE && t !== MIGRATION_LOCK_TABLE));
  const order: string[] = [];
  while (pending.size > 0) {
    // A table is next once nothing still pending references it (a self-reference does not count).
    const next = [...pending]
      .filter((t) => !references.some((r) => r.parent === t && r.child !== t && pending.has(r.child)))
      .sort();
    if (next.length === 0) throw new Error(`foreign keys form a cycle among: ${[...pending].sort().join(', ')}`);
    for (const t of next) {
      order.push(t);
      pending.delete(t);
    }
  }
  return order;
}

/**
 * Applies a list of migrations (the entry points pass migrations/index.ts's) through Kysely's Migrator, which records them in
 * `jobyard_migrations` and runs each batch in one transaction on both backends (on SQLite the
 * transaction is BEGIN IMMEDIATE, which also serialises replicas migrating at the same moment;
 * on PostgreSQL the migrator takes its lock row).
 *
 * A database that records a migration this build does not know was migrated by a newer jobyard:
 * every entry point refuses it instead of running old code on a newer schema.
 *
 * The list is an argument, not an import: the database layer sits below the migrations (they use
 * its dialect), so the code that opens a database hands the list over.
 */
import { Migrator, NO_MIGRATIONS, sql } from './kysely.js';
import type { Kysely, Migration, MigrationResultSet } from 'kysely';
import { UserError } from '../errors.js';
import type { Dialect } from './dialect.js';
import type { Store } from './open.js';

/** One schema change; it asks the dialect for column types and backend-specific DDL. */
export interface JobyardMigration {
  up(db: Kysely<any>, dialect: Dialect): Promise<void>;
  down(db: Kysely<any>, dialect: Dialect): Promise<void>;
}

/** Every migration a build knows, by name, in the order they apply. */
export type MigrationList = ReadonlyArray<readonly [name: string, migration: JobyardMigration]>;

export const MIGRATION_TABLE = 'jobyard_migrations';
export const MIGRATION_LOCK_TABLE = 'jobyard_migrations_lock';

export interface MigrationState {
  name: string;
  /** Epoch ms when applied, or null while pending. */
  appliedAt: number | null;
  /** Recorded in the database but absent from this build. */
  unknown: boolean;
}

/** Every known migration with its state, followed by any the database has and this build lacks. */
export async function migrationStatus(store: Store, migrations: MigrationList): Promise<MigrationState[]> {
  const applied = await appliedMigrations(store);
  const knownNames = migrations.map(([name]) => name);
  const known = knownNames.map((name) => ({
    name,
    appliedAt: applied.get(name) ?? null,
    unknown: false,
  }));
  const unknown = [...applied.keys()]
    .filter((name) => !knownNames.includes(name))
    .sort()
    .map((name) => ({ name, appliedAt: applied.get(name) ?? null, unknown: true }));
  return [...known, ...unknown];
}

/** Throws a UserError when the database holds migrations this build does not know. */
export async function assertKnownSchema(store: Store, migrations: MigrationList): Promise<void> {
  const unknown = (await migrationStatus(store, migrations)).filter((m) => m.unknown).map((m) => m.name);
  if (unknown.length > 0) {
    throw new UserError(
      `database ${store.description} has migration(s) this jobyard build does not know ` +
        `(${unknown.join(', ')}): it was migrated by a newer version; upgrade jobyard instead of running this one`,
    );
  }
}

/** Applies every pending migration. Returns the names applied. */
export async function migrateToLatest(store: Store, migrations: MigrationList): Promise<string[]> {
  await assertKnownSchema(store, migrations);
  return applied(await (await createMigrator(store, migrations)).migrateToLatest());
}

/** Applies the next pending migration, if any. */
export async function migrateUp(store: Store, migrations: MigrationList): Promise<string[]> {
  await assertKnownSchema(store, migrations);
  return applied(await (await createMigrator(store, migrations)).migrateUp());
}

/**
 * Reverts the last applied migration (or all of them with `all`). Reverting the last one also
 * drops the bookkeeping tables, so a database migrated down to zero holds no jobyard table.
 */
export async function migrateDown(
  store: Store,
  migrations: MigrationList,
  options: { all?: boolean } = {},
): Promise<string[]> {
  await assertKnownSchema(store, migrations);
  const migrator = await createMigrator(store, migrations);
  const reverted = applied(options.all ? await migrator.migrateTo(NO_MIGRATIONS) : await migrator.migrateDown());
  if ((await appliedMigrations(store)).size === 0) await dropBookkeeping(store);
  return reverted;
}

async function createMigrator(store: Store, list: MigrationList): Promise<Migrator> {
  const migrations: Record<string, Migration> = {};
  for (const [name, m] of list) {
    migrations[name] = { up: (db) => m.up(db, store.dialect), down: (db) => m.down(db, store.dialect) };
  }
  const schema = await store.dialect.currentSchema(store.db);
  return new Migrator({
    db: store.db,
    provider: { getMigrations: async () => migrations },
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: MIGRATION_LOCK_TABLE,
    // Kysely looks the bookkeeping table up by name across every schema; pin it to ours so a
    // table of the same name in another schema (another tenant, another test) is not mistaken for it.
    ...(schema ? { migrationTableSchema: schema } : {}),
  });
}

function applied(result: MigrationResultSet): string[] {
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error')?.migrationName;
    const reason = result.error instanceof Error ? result.error.message : String(result.error);
    throw new Error(failed ? `migration ${failed} failed: ${reason}` : `migration failed: ${reason}`, {
      cause: result.error,
    });
  }
  return (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** Applied migration names → applied time (epoch ms); empty when the table does not exist yet. */
async function appliedMigrations(store: Store): Promise<Map<string, number>> {
  if (!(await store.dialect.tableExists(store.db, MIGRATION_TABLE))) return new Map();
  const rows = await sql<{ name: string; timestamp: string }>`select name, timestamp from ${sql.table(
    MIGRATION_TABLE,
  )}`.execute(store.db);
  return new Map(rows.rows.map((r) => [r.name, Date.parse(r.timestamp)]));
}

async function dropBookkeeping(store: Store): Promise<void> {
  await store.db.schema.dropTable(MIGRATION_LOCK_TABLE).ifExists().execute();
  await store.db.schema.dropTable(MIGRATION_TABLE).ifExists().execute();
}

import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../migrations/index.js';
import {
  MIGRATION_TABLE,
  assertKnownSchema,
  migrateDown,
  migrateToLatest,
  migrationStatus,
} from '../../src/db/migrate.js';
import type { Store } from '../../src/db/open.js';
import { describeBackends } from '../helpers/backends.js';

const MIGRATIONS_DIR = join(import.meta.dirname, '..', '..', 'migrations');
const KNOWN_MIGRATIONS = MIGRATIONS.map(([name]) => name);

async function userTables(store: Store): Promise<string[]> {
  const tables = await store.db.introspection.getTables({ withInternalKyselyTables: true });
  const schema = await store.dialect.currentSchema(store.db);
  return tables.filter((t) => !schema || t.schema === schema).map((t) => t.name).sort();
}

describe('migration files', () => {
  const files = readdirSync(MIGRATIONS_DIR).filter((f) => f !== 'index.ts');

  it('are named YYYYMMDD_NNNN_description and listed in order in migrations/index.ts', () => {
    for (const f of files) expect(f).toMatch(/^\d{8}_\d{4}_[a-z0-9_]+\.ts$/);
    expect(files.map((f) => f.replace(/\.ts$/, '')).sort()).toEqual([...KNOWN_MIGRATIONS]);
    expect([...KNOWN_MIGRATIONS]).toEqual([...KNOWN_MIGRATIONS].sort());
  });

  it('each has an up and a down', () => {
    for (const [, m] of MIGRATIONS) {
      expect(typeof m.up).toBe('function');
      expect(typeof m.down).toBe('function');
    }
  });
});

describeBackends(
  'migrations',
  (ctx) => {
    it('go latest → all the way down → latest again, leaving no table at zero', async () => {
      const applied = await migrateToLatest(ctx.store, MIGRATIONS);
      expect(applied).toEqual([...KNOWN_MIGRATIONS]);
      expect(await userTables(ctx.store)).toContain('job_scheduler_work_items');
      expect((await migrationStatus(ctx.store, MIGRATIONS)).every((m) => m.appliedAt !== null)).toBe(true);
      expect(await migrateToLatest(ctx.store, MIGRATIONS)).toEqual([]); // idempotent

      const reverted = await migrateDown(ctx.store, MIGRATIONS, { all: true });
      expect(reverted).toEqual([...KNOWN_MIGRATIONS].reverse());
      expect(await userTables(ctx.store)).toEqual([]);
      expect((await migrationStatus(ctx.store, MIGRATIONS)).every((m) => m.appliedAt === null)).toBe(true);

      expect(await migrateToLatest(ctx.store, MIGRATIONS)).toEqual([...KNOWN_MIGRATIONS]);
      expect(await userTables(ctx.store)).toContain('scheduled_jobs');
    });

    it('refuses a database that holds a migration this build does not know', async () => {
      await migrateToLatest(ctx.store, MIGRATIONS);
      await sql`insert into ${sql.table(MIGRATION_TABLE)} (name, timestamp) values (${'29990101_0001_from_the_future'}, ${new Date().toISOString()})`.execute(
        ctx.db,
      );
      const status = await migrationStatus(ctx.store, MIGRATIONS);
      expect(status.at(-1)).toMatchObject({ name: '29990101_0001_from_the_future', unknown: true });
      await expect(assertKnownSchema(ctx.store, MIGRATIONS)).rejects.toThrow(/29990101_0001_from_the_future.*newer version/);
      await expect(migrateToLatest(ctx.store, MIGRATIONS)).rejects.toThrow(/does not know/);
      await sql`delete from ${sql.table(MIGRATION_TABLE)} where name = ${'29990101_0001_from_the_future'}`.execute(ctx.db);
      await expect(assertKnownSchema(ctx.store, MIGRATIONS)).resolves.toBeUndefined();
    });
  },
  { migrate: false },
);

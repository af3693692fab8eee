/**
 * One test body, both backends (River's conformance-suite idea): `describeBackends` runs the
 * body once for SQLite and once for PostgreSQL, each against a database of its own so parallel
 * test files never collide — a fresh SQLite file, and a fresh PostgreSQL schema (or, on request,
 * a whole database) that is dropped afterwards.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe } from 'vitest';
import { MIGRATIONS } from '../../migrations/index.js';
import type { Backend } from '../../src/db/dialect.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { openDatabase, type OpenOptions, type Store } from '../../src/db/open.js';
import { TEST_POSTGRES_URL } from './env.js';
import { tablesInDeleteOrder } from './tables.js';

export const BACKENDS: readonly Backend[] = ['sqlite', 'postgres'];

export interface BackendOptions {
  /** Migrate to latest before the tests (default true). */
  migrate?: boolean;
  /** PostgreSQL isolation: a schema (default) or a whole database (for pg_stat_activity checks). */
  isolation?: 'schema' | 'database';
  /** Options for the store the context opens. */
  open?: OpenOptions;
}

export class BackendContext {
  /** The DATABASE_URL of this isolated database; child processes use it too. */
  url = '';
  /** PostgreSQL: the isolated database's name (database isolation) or the shared one. */
  databaseName = '';
  #store: Store | undefined;
  #cleanup: (() => Promise<void>) | undefined;
  readonly #extraStores: Store[] = [];

  constructor(
    readonly backend: Backend,
    readonly options: BackendOptions = {},
  ) {}

  get store(): Store {
    if (!this.#store) throw new Error('BackendContext.store used outside a test (before beforeAll ran)');
    return this.#store;
  }

  get db(): Store['db'] {
    return this.store.db;
  }

  async setup(): Promise<void> {
    const id = `jy_${process.pid}_${randomBytes(4).toString('hex')}`;
    if (this.backend === 'sqlite') {
      const dir = mkdtempSync(join(tmpdir(), 'jobyard-test-'));
      this.url = `sqlite:${join(dir, 'test.db')}`;
      this.#cleanup = async () => rmSync(dir, { recursive: true, force: true });
    } else if (this.options.isolation === 'database') {
      await adminQuery(`create database ${id}`);
      const u = new URL(TEST_POSTGRES_URL);
      u.pathname = `/${id}`;
      this.url = u.toString();
      this.databaseName = id;
      this.#cleanup = () => adminQuery(`drop database if exists ${id} with (force)`);
    } else {
      await adminQuery(`create schema ${id}`);
      const u = new URL(TEST_POSTGRES_URL);
      u.searchParams.set('options', `-c search_path=${id}`);
      this.url = u.toString();
      this.databaseName = u.pathname.slice(1);
      this.#cleanup = () => adminQuery(`drop schema if exists ${id} cascade`);
    }
    this.#store = openDatabase(this.url, this.options.open);
    if (this.options.migrate !== false) await migrateToLatest(this.#store, MIGRATIONS);
  }

  /** Another store on the same isolated database (closed at teardown). */
  open(options?: OpenOptions): Store {
    const store = openDatabase(this.url, options ?? this.options.open);
    this.#extraStores.push(store);
    return store;
  }

  /**
   * Empties every table the migrations created, a newly added one included (the list is read
   * from the database), for tests that need a clean slate inside one file.
   */
  async truncateAll(): Promise<void> {
    for (const table of await tablesInDeleteOrder(this.store)) await this.db.deleteFrom(table as never).execute();
  }

  async teardown(): Promise<void> {
    for (const s of this.#extraStores) await s.close();
    await this.#store?.close();
    await this.#cleanup?.();
  }
}

/** Runs `body` once per backend; the title gets " [sqlite]" / " [postgres]". */
export function describeBackends(
  title: string,
  body: (ctx: BackendContext) => void,
  options: BackendOptions = {},
): void {
  for (const backend of BACKENDS) {
    describe(`${title} [${backend}]`, () => {
      const ctx = new BackendContext(backend, options);
      beforeAll(() => ctx.setup());
      afterAll(() => ctx.teardown());
      body(ctx);
    });
  }
}

async function adminQuery(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL, application_name: 'jobyard-test-admin' });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/**
 * better-sqlite3 behind Kysely, with the SQLite side of the dialect rules applied at the driver
 * boundary: pragmas, BEGIN IMMEDIATE transactions, boolean/JSON conversion, a statement cache.
 */
import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';
import { CompiledQuery, SqliteAdapter, SqliteDialect, SqliteDriver } from './kysely.js';
import type { DatabaseConnection, Driver, DialectAdapter, SqliteDatabase, SqliteDialectConfig, SqliteStatement } from 'kysely';
import { describeError, UserError } from '../errors.js';
import { BOOLEAN_COLUMNS, InvalidJson, isJsonColumn } from './dialect.js';
import { prepareSqlitePath } from './sqlite-path.js';

/** How long a writer waits for another process's write lock before SQLITE_BUSY: long enough to outlast any
 * write transaction jobyard runs, short enough that a stuck lock surfaces as an error. */
export const SQLITE_BUSY_TIMEOUT_MS = 15_000;

/** Loaded on first use: a PostgreSQL-only process never loads the native addon. */
export function loadBetterSqlite3(): typeof BetterSqlite3 {
  return createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3;
}

/** Opens the file (creating its folder) with the pragmas jobyard relies on. */
export function openSqliteFile(path: string): BetterSqlite3.Database {
  prepareSqlitePath(path);
  const Database = loadBetterSqlite3();
  let db: BetterSqlite3.Database;
  try {
    db = new Database(path);
    // WAL: readers never block the writer and vice versa; several processes share one file.
    db.pragma('journal_mode = WAL');
  } catch (err) {
    // Unreadable, not a database, a read-only folder: the setting is wrong, not the program.
    throw new UserError(`DATABASE_URL sqlite:${path}: cannot open the database file: ${describeError(err)}`);
  }
  db.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
  db.pragma('foreign_keys = ON');
  // NORMAL is durable across application crashes in WAL mode; only an OS crash can lose the
  // last commits, which is the usual trade for queue throughput.
  db.pragma('synchronous = NORMAL');
  return db;
}

/**
 * Every transaction starts with BEGIN IMMEDIATE: it takes the write lock up front, so a
 * transaction that reads and then writes can never fail half-way with SQLITE_BUSY the way a
 * deferred BEGIN does when another process wrote in between (a lock upgrade that cannot wait).
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

/** SQLite does support transactional DDL; saying so makes Kysely's migrator run in a transaction. */
class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

export class JobyardSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;

  constructor(config: SqliteDialectConfig) {
    super(config);
    this.#config = config;
  }

  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config);
  }

  override createAdapter(): DialectAdapter {
    return new TransactionalDdlSqliteAdapter();
  }
}

const STATEMENT_CACHE_SIZE = 256;

/**
 * Wraps a better-sqlite3 database for Kysely: converts parameters (booleans → 0/1), converts
 * result rows (0/1 → booleans for BOOLEAN_COLUMNS, JSON text → values for `*_json` columns), and
 * caches prepared statements, since the queue runs the same few statements thousands of times.
 */
export function wrapSqliteDatabase(db: BetterSqlite3.Database): SqliteDatabase {
  const cache = new Map<string, Prepared>();
  const prepare = (text: string): Prepared => {
    let prepared = cache.get(text);
    if (prepared === undefined) {
      const stmt = db.prepare(text);
      // Rows come back as arrays and one compiled function per statement makes the objects:
      // better-sqlite3 sets each named column of each row through the V8 API, which costs a
      // claim of 18 columns about 2 us per row (a seventh of its statement time).
      if (stmt.reader) stmt.raw(true);
      prepared = { stmt, convert: stmt.reader ? rowBuilder(stmt.columns().map((c) => c.name)) : undefined };
      if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
      cache.set(text, prepared);
    }
    return prepared;
  };
  return {
    close: () => db.close(),
    prepare(text: string): SqliteStatement {
      const { stmt, convert } = prepare(text);
      const map = convert ?? ((row: unknown) => row);
      return {
        reader: stmt.reader,
        all: (params) => (stmt.all(...toSqliteParams(params)) as unknown[][]).map(map),
        run: (params) => stmt.run(...toSqliteParams(params)),
        iterate: (params) => mapIterator(stmt.iterate(...toSqliteParams(params)) as IterableIterator<unknown[]>, map),
      };
    },
  };
}

interface Prepared {
  stmt: BetterSqlite3.Statement;
  /** Makes a result row's object from its array; undefined for statements that return none. */
  convert: ((row: unknown[]) => unknown) | undefined;
}

function toSqliteParams(params: ReadonlyArray<unknown>): unknown[] {
  return params.map((p) => (typeof p === 'boolean' ? (p ? 1 : 0) : p));
}

/**
 * The row builder of one statement: an object literal with its columns in order (one hidden
 * class for every row), booleans and JSON converted where the column's name says so (decided once
 * when the statement is prepared). A repeated name keeps its last value, as better-sqlite3's own
 * objects do.
 */
export function rowBuilder(columns: readonly string[]): (row: unknown[]) => Record<string, unknown> {
  const fields = columns.map((name, i) => {
    // A computed key, so a column named __proto__ is a property and not the prototype.
    const key = name === '__proto__' ? `[${JSON.stringify(name)}]` : JSON.stringify(name);
    if (BOOLEAN_COLUMNS.has(name)) return `${key}: toBoolean(row[${i}])`;
    if (isJsonColumn(name)) return `${key}: fromJson(${JSON.stringify(name)}, row[${i}])`;
    return `${key}: row[${i}]`;
  });
  // Generated from column names only (quoted by JSON.stringify): no value ever becomes code.
  const build = new Function('toBoolean', 'fromJson', `return (row) => ({ ${fields.join(', ')} });`);
  return build(toBoolean, fromJsonColumn) as (row: unknown[]) => Record<string, unknown>;
}

function toBoolean(value: unknown): unknown {
  return typeof value === 'number' ? value !== 0 : value;
}

function fromJsonColumn(key: string, value: unknown): unknown {
  return typeof value === 'string' ? parseJsonColumn(key, value) : value;
}

/** A corrupt JSON cell must not make a whole query throw; callers see the raw text and decide. */
function parseJsonColumn(key: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return new InvalidJson(key, text);
  }
}

function* mapIterator<T, U>(it: IterableIterator<T>, fn: (value: T) => U): IterableIterator<U> {
  for (const value of it) yield fn(value);
}

/**
 * The single place where SQLite and PostgreSQL differ (the rule: nothing outside src/db
 * knows which backend it talks to). Queries and migrations
 * ask the dialect for a column type, a capability or a backend-specific clause; they never test
 * the backend name themselves. The connection factories that apply these rules at the driver
 * boundary are `sqlite-driver.ts` and `postgres-pool.ts` beside this file.
 *
 * Representations shared by both backends:
 * - Timestamps are integer epoch milliseconds (BIGINT on PostgreSQL, INTEGER on SQLite, which is
 *   64-bit). Numbers sort and compare identically on both engines, need no time-zone parsing,
 *   survive both drivers unchanged (PostgreSQL's int8 is parsed to a JS number in postgres-pool.ts)
 *   and make lease arithmetic (`now + leaseMs`) plain addition with the clock passed in from JS,
 *   so tests control time. Calendar maths happens in JS, never in SQL.
 * - JSON columns are named `*_json`: JSONB on PostgreSQL, TEXT on SQLite. Writers pass
 *   `toJson(value)`; readers get parsed values on both (pg parses JSONB; the SQLite driver parses
 *   `*_json` columns), so callers only ever see objects.
 * - Booleans are BOOLEAN on PostgreSQL, INTEGER 0/1 on SQLite; the SQLite driver binds JS
 *   booleans as 0/1 and turns the columns in BOOLEAN_COLUMNS back into booleans.
 * - Case-insensitive lookups compare a pre-lowercased column (`hostname_lower`) with a
 *   lowercased value (`lowerEq`): no ILIKE, no LOWER() that would bypass an index.
 * - Upserts use Kysely's `onConflict(...)`, which compiles to the same
 *   `INSERT … ON CONFLICT … DO UPDATE/NOTHING` on SQLite (3.24+) and PostgreSQL.
 */
import { sql } from './kysely.js';
import type { AliasedRawBuilder, ColumnDataType, ColumnDefinitionBuilder, CreateTableBuilder, Expression, ExpressionBuilder } from 'kysely';
import type { Kysely, RawBuilder, ReferenceExpression, SelectQueryBuilder, SqlBool } from 'kysely';
import { postgresJsonSearch, sqliteJsonSearch, type JsonSearch } from './json-search.js';

export type Backend = 'sqlite' | 'postgres';

/** The LISTEN/NOTIFY channel for work-item wake-ups (PostgreSQL). */
export const WORK_CHANNEL = 'jobyard_work_items';

/** The LISTEN/NOTIFY channel that tells lease holders some of their items were taken away (PostgreSQL). */
export const LEASE_CHANNEL = 'jobyard_leases';

/** What a backend can do. Code checks these flags, never the backend's name. */
export interface Capabilities {
  /** Row locks that concurrent claimers skip (FOR UPDATE SKIP LOCKED). */
  skipLocked: boolean;
  /** Cross-process wake-ups through LISTEN/NOTIFY. */
  listenNotify: boolean;
  /** More than one connection at a time (SQLite has one writer and one connection per process). */
  multipleConnections: boolean;
  /** A server-wide connection limit the fleet must budget for (PostgreSQL max_connections). */
  connectionBudget: boolean;
}

export interface Dialect {
  readonly backend: Backend;
  readonly capabilities: Capabilities;
  /** Column types for migrations. */
  readonly types: {
    /** Foreign key to a `bigId` key, and any other 64-bit integer. */
    bigint: ColumnDataType;
    /** Epoch milliseconds. */
    timestamp: ColumnDataType;
    json: ColumnDataType;
    boolean: ColumnDataType;
    blob: ColumnDataType;
  };
  /** Adds an autoincrement primary key: INTEGER on SQLite; INTEGER or BIGINT identity on PostgreSQL. */
  addIdColumn<T extends string>(
    table: CreateTableBuilder<T, never>,
    name: string,
    size: 'int' | 'big',
  ): CreateTableBuilder<T, never>;
  /**
   * Locks the rows a select returns until the transaction ends, passing over rows another
   * transaction holds (a work-item claim, a site a replica is deciding for). PostgreSQL: FOR
   * UPDATE SKIP LOCKED, so concurrent transactions never wait on each other's rows. SQLite:
   * unchanged, because its single writer already serialises these immediate transactions.
   */
  lockRowsSkipLocked<DB, TB extends keyof DB, O>(query: SelectQueryBuilder<DB, TB, O>): SelectQueryBuilder<DB, TB, O>;
  /**
   * Waits for, then holds until the transaction ends, one lock named `name` for this deployment:
   * decisions that read a fleet-wide count and write on it (a launch against MAX_WORKERS) run one
   * at a time across every replica. PostgreSQL: pg_advisory_xact_lock on a hash of the name and the
   * current schema (deployments in other schemas of the database do not wait on each other).
   * SQLite: nothing, its single writer (BEGIN IMMEDIATE) already serialises these transactions.
   */
  lockNamed(trx: Kysely<any>, name: string): Promise<void>;
  /**
   * `id` is one of the ids selected by the CTE `cte` — how the claim's UPDATE picks its rows.
   * PostgreSQL: `id = ANY(ARRAY(SELECT id FROM cte))`, evaluated once and probed on the primary
   * key (`id IN (SELECT …)` plans as a hash semi-join over the whole table). SQLite: `IN`.
   */
  idInCte(cte: string): RawBuilder<SqlBool>;
  /**
   * `column = value` kept for a partial index's WHERE but not to be chosen as the index: SQLite
   * without statistics rates any equality above a range (`likelihood` says it keeps most rows).
   */
  broadEquality(column: string, value: string): RawBuilder<SqlBool>;
  /** `column`, never read through an index: it filters rows another index yields in order (a claim's due-by; SQLite `+column`). */
  filterOnly(column: string): RawBuilder<unknown>;
  /** JSON text as a value for a `*_json` column where the type cannot be inferred (inside CASE). */
  jsonExpression(json: string | null): RawBuilder<unknown>;
  /**
   * A derived table `alias(item_id, claim, result)`, one row per (item id, claim_count) pair, that a
   * batched fenced statement joins on, so a batch stays one statement with one primary-key probe
   * per row. `results` (JSON text or null, one per pair) fills `result` (null without it).
   */
  claimsTable<A extends string>(
    alias: A,
    ids: readonly number[],
    claims: readonly number[],
    results?: ReadonlyArray<string | null>,
  ): AliasedRawBuilder<ClaimsRow, A>;
  /**
   * The parameters that carry a claims table, a fixed number (`claimsParamCount`) whatever the
   * batch size, so the statement's text is the same for every batch and can be compiled once
   * (compiled-query.ts). PostgreSQL: three arrays for unnest(). SQLite: one JSON array of
   * [id, claim, result] triples read by json_each() (a VALUES list would change the text, and the
   * prepared statement, with every batch size).
   */
  claimsParams(ids: readonly number[], claims: readonly number[], results?: ReadonlyArray<string | null>): unknown[];
  readonly claimsParamCount: number;
  /** claimsTable over parameters from claimsParams (or template slots standing for them). */
  claimsTableOf<A extends string>(alias: A, params: readonly unknown[]): AliasedRawBuilder<ClaimsRow, A>;
  /**
   * Installs (or removes) what tells listeners that work items were inserted. PostgreSQL: a
   * statement-level trigger that NOTIFYs WORK_CHANNEL with the inserted site ids. SQLite: nothing;
   * consumers there watch `PRAGMA data_version` (see wakeup-sqlite.ts).
   */
  installWorkNotify(db: Kysely<any>): Promise<void>;
  removeWorkNotify(db: Kysely<any>): Promise<void>;
  /** Tells listeners in other processes that items of these sites became claimable. */
  notifyWork(db: Kysely<any>, siteIds: ReadonlyArray<number | null>): Promise<void>;
  /**
   * Tells lease holders in other processes that these items' leases were revoked (an operator
   * cancelled them), so their handlers stop now rather than at the next heartbeat. PostgreSQL: a
   * NOTIFY on LEASE_CHANNEL listing the ids. SQLite: nothing; holders watch `PRAGMA data_version`.
   */
  notifyLeasesRevoked(db: Kysely<any>, ids: readonly number[]): Promise<void>;
  /** True when a table of that name exists where unqualified names resolve (search_path on PostgreSQL). */
  tableExists(db: Kysely<any>, table: string): Promise<boolean>;
  /** The schema unqualified names resolve to (PostgreSQL), or undefined where schemas do not exist. */
  currentSchema(db: Kysely<any>): Promise<string | undefined>;
  /** True when an error is a unique-constraint violation. */
  isUniqueViolation(err: unknown): boolean;
  /** True when an error means the connection or server went away and a retry may succeed. */
  isTransientError(err: unknown): boolean;
  /** Payload path search: an index on PostgreSQL, a bounded row-by-row test on SQLite (json-search.ts). */
  readonly jsonSearch: JsonSearch;
}

/** A row of Dialect.claimsTable. */
export interface ClaimsRow {
  /** Not `id`: the work-items table's own `id` stays unambiguous (SQLite's RETURNING takes no qualified names). */
  item_id: number;
  claim: number;
  result: string | null;
}

const sqliteDialect: Dialect = {
  backend: 'sqlite',
  jsonSearch: sqliteJsonSearch,
  capabilities: { skipLocked: false, listenNotify: false, multipleConnections: false, connectionBudget: false },
  types: { bigint: 'integer', timestamp: 'integer', json: 'text', boolean: 'integer', blob: 'blob' },
  addIdColumn(table, name) {
    // Only INTEGER PRIMARY KEY is a rowid alias in SQLite, and it is already 64-bit.
    return table.addColumn(name, 'integer', (c) => c.notNull().primaryKey().autoIncrement());
  },
  lockRowsSkipLocked: (query) => query,
  lockNamed: async () => {},
  idInCte: (cte) => sql<SqlBool>`id in (select id from ${sql.table(cte)})`,
  broadEquality: (column, value) => sql<SqlBool>`likelihood(${sql.ref(column)} = ${value}, 0.9)`,
  filterOnly: (column) => sql`+${sql.ref(column)}`,
  jsonExpression: (json) => sql`${json}`,
  claimsTable(alias, ids, claims, results) {
    return sqliteDialect.claimsTableOf(alias, sqliteDialect.claimsParams(ids, claims, results));
  },
  claimsParams: (ids, claims, results) => [JSON.stringify(ids.map((id, i) => [id, claims[i], results?.[i] ?? null]))],
  claimsParamCount: 1,
  claimsTableOf(alias, [triples]) {
    // `limit -1` (no limit) keeps SQLite from flattening the subquery: materialised first, it is
    // the outer loop and each row probes the primary key. Flattened, the planner knows nothing of
    // json_each's size and may scan it once per row of another index (the lease owner's): n².
    return sql<ClaimsRow>`(select json_extract(value, '$[0]') as item_id, json_extract(value, '$[1]') as claim, json_extract(value, '$[2]') as result from json_each(${triples}) limit -1)`.as<typeof alias>(alias);
  },
  installWorkNotify: async () => {},
  removeWorkNotify: async () => {},
  notifyWork: async () => {},
  notifyLeasesRevoked: async () => {},
  async tableExists(db, table) {
    const r = await sql<{ n: number }>`select count(*) as n from sqlite_master where type = 'table' and name = ${table}`.execute(db);
    return (r.rows[0]?.n ?? 0) > 0;
  },
  currentSchema: async () => undefined,
  isUniqueViolation(err) {
    const code = errorCode(err);
    return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
  },
  isTransientError(err) {
    const code = errorCode(err);
    return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED' || code === 'SQLITE_BUSY_SNAPSHOT';
  },
};

/** PostgreSQL error classes and socket errors after which a new connection may succeed. */
const PG_TRANSIENT = new Set([
  '57P01', // admin_shutdown (pg_terminate_backend, server stop)
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up)
  '08000', '08003', '08006', '08001', '08004', // connection exceptions
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN',
]);

const postgresDialect: Dialect = {
  backend: 'postgres',
  jsonSearch: postgresJsonSearch,
  capabilities: { skipLocked: true, listenNotify: true, multipleConnections: true, connectionBudget: true },
  types: { bigint: 'bigint', timestamp: 'bigint', json: 'jsonb', boolean: 'boolean', blob: 'bytea' },
  addIdColumn(table, name, size) {
    return table.addColumn(name, size === 'big' ? 'bigint' : 'integer', (c: ColumnDefinitionBuilder) =>
      c.notNull().primaryKey().generatedByDefaultAsIdentity(),
    );
  },
  lockRowsSkipLocked: (query) => query.forUpdate().skipLocked(),
  lockNamed: async (trx, name) => {
    await sql`select pg_advisory_xact_lock(hashtext(current_schema() || ':' || ${name}))`.execute(trx);
  },
  idInCte: (cte) => sql<SqlBool>`id = any(array(select id from ${sql.table(cte)}))`,
  broadEquality: (column, value) => sql<SqlBool>`${sql.ref(column)} = ${value}`,
  filterOnly: (column) => sql.ref(column),
  jsonExpression: (json) => sql`cast(${json} as jsonb)`,
  claimsTable(alias, ids, claims, results) {
    return postgresDialect.claimsTableOf(alias, postgresDialect.claimsParams(ids, claims, results));
  },
  claimsParams: (ids, claims, results) => [ids, claims, results ?? ids.map(() => null)],
  claimsParamCount: 3,
  claimsTableOf(alias, [ids, claims, results]) {
    return sql<ClaimsRow>`unnest(cast(${ids} as bigint[]), cast(${claims} as integer[]), cast(${results} as jsonb[]))`.as<typeof alias>(
      sql`${sql.id(alias)}(item_id, claim, result)`,
    );
  },
  async installWorkNotify(db) {
    // Statement-level with a transition table: one NOTIFY per INSERT statement however many rows
    // it adds; the payload lists the distinct site ids ("-" for none, "*" when too long to list).
    await sql`
      create or replace function jobyard_notify_work_items() returns trigger language plpgsql as $fn$
      declare sites text;
      begin
        select string_agg(distinct coalesce(site_id::text, '-'), ',') into sites from new_items;
        if sites is not null then
          perform pg_notify(${sql.lit(WORK_CHANNEL)}, case when length(sites) > 7000 then '*' else sites end);
        end if;
        return null;
      end
      $fn$`.execute(db);
    await sql`
      create trigger jobyard_work_items_notify after insert on job_scheduler_work_items
      referencing new table as new_items for each statement execute function jobyard_notify_work_items()`.execute(db);
  },
  async removeWorkNotify(db) {
    await sql`drop trigger if exists jobyard_work_items_notify on job_scheduler_work_items`.execute(db);
    await sql`drop function if exists jobyard_notify_work_items()`.execute(db);
  },
  async notifyWork(db, siteIds) {
    if (siteIds.length === 0) return;
    const payload = [...new Set(siteIds.map((s) => (s === null ? '-' : String(s))))].join(',');
    await sql`select pg_notify(${WORK_CHANNEL}, ${payload.length > 7000 ? '*' : payload})`.execute(db);
  },
  async notifyLeasesRevoked(db, ids) {
    if (ids.length === 0) return;
    const payload = [...new Set(ids)].join(',');
    await sql`select pg_notify(${LEASE_CHANNEL}, ${payload.length > 7000 ? '*' : payload})`.execute(db);
  },
  async tableExists(db, table) {
    const r = await sql<{ found: string | null }>`select to_regclass(${table})::text as found`.execute(db);
    return r.rows[0]?.found != null;
  },
  async currentSchema(db) {
    const r = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db);
    return r.rows[0]?.schema ?? undefined;
  },
  isUniqueViolation: (err) => errorCode(err) === '23505',
  isTransientError(err) {
    const code = errorCode(err);
    if (code !== undefined && PG_TRANSIENT.has(code)) return true;
    const message = err instanceof Error ? err.message : '';
    return /Connection terminated|connection timeout|Client has encountered a connection error|not queryable/i.test(
      message,
    );
  },
};

export function dialectFor(backend: Backend): Dialect {
  return backend === 'sqlite' ? sqliteDialect : postgresDialect;
}

/** Serialises a value for a `*_json` column (both backends accept JSON text). */
export function toJson(value: unknown): string {
  return JSON.stringify(value ?? null);
}

/** `column = lower(value)` against a pre-lowercased column; index-friendly on both backends. */
export function lowerEq<DB, TB extends keyof DB>(
  eb: ExpressionBuilder<DB, TB>,
  lowercasedColumn: ReferenceExpression<DB, TB>,
  value: string,
): Expression<SqlBool> {
  return eb(lowercasedColumn, '=', value.toLowerCase() as never);
}

/** Column names holding booleans; the SQLite driver converts 0/1 back to booleans for these. */
export const BOOLEAN_COLUMNS: ReadonlySet<string> = new Set([
  'archived',
  'duration_stop_enabled',
  'enabled',
  'shared_execution',
  'use_service_account',
]);

/** True for a column that holds JSON by the `*_json` naming rule. */
export function isJsonColumn(name: string): boolean {
  return name.endsWith('_json');
}

/**
 * Stands in for a `*_json` cell whose text is not valid JSON, so the one bad row can be failed
 * with a readable error while the rest of the result is used. PostgreSQL's JSONB cannot hold
 * invalid JSON, so only SQLite produces these.
 */
export class InvalidJson {
  constructor(
    readonly column: string,
    readonly text: string,
  ) {}

  toString(): string {
    return `invalid JSON in ${this.column}: ${JSON.stringify(this.text.slice(0, 80))}`;
  }
}

function errorCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = (err as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

/**
 * Set-based writes of many rows in ONE statement with ONE bound parameter: the rows as a JSON
 * array, expanded by the database (PostgreSQL: json_populate_recordset, typed by the table's own
 * row type; SQLite: json_each). A multi-row VALUES list costs a bound parameter per cell and, in
 * Kysely, parsing every row's values on each call; that was most of a bulk enqueue's and a
 * tick's client time.
 *
 * Rows are inserted in array order (ORDER BY the ordinal), so identity values grow with it.
 */
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Backend } from './dialect.js';
import { isJsonColumn } from './dialect.js';

export type Cell = string | number | boolean | null;

export interface BulkInsert {
  table: string;
  columns: readonly string[];
  /** One array of cells per row, in `columns` order. `*_json` columns hold JSON text (or null). */
  rows: ReadonlyArray<readonly Cell[]>;
  /** An upsert clause such as `on conflict (dedupe_key) where dedupe_key is not null do nothing`. */
  onConflict?: string;
  /** Columns to return (plain names). */
  returning?: readonly string[];
}

export async function bulkInsert<R = Record<string, unknown>>(db: Kysely<any>, backend: Backend, spec: BulkInsert): Promise<R[]> {
  if (spec.rows.length === 0) return [];
  const query = backend === 'postgres' ? postgresInsert(spec) : sqliteInsert(spec);
  const result = await query.execute(db);
  return result.rows as R[];
}

/** The rows as one JSON array of objects; JSON columns embedded as JSON (PostgreSQL) or as text (SQLite). */
export function rowsAsJson(columns: readonly string[], rows: ReadonlyArray<readonly Cell[]>, embedJson: boolean): string {
  const keys = columns.map((c) => `${JSON.stringify(c)}:`);
  const json = columns.map((c) => embedJson && isJsonColumn(c));
  const out: string[] = [];
  for (const row of rows) {
    let text = '{';
    for (let i = 0; i < keys.length; i++) {
      const v = row[i] ?? null;
      text += (i > 0 ? ',' : '') + keys[i] + (json[i] && v !== null ? String(v) : JSON.stringify(v));
    }
    out.push(`${text}}`);
  }
  return `[${out.join(',')}]`;
}

function tail(spec: BulkInsert): RawBuilder<unknown> {
  const conflict = spec.onConflict ? sql.raw(` ${spec.onConflict}`) : sql``;
  const returning = spec.returning?.length ? sql.raw(` returning ${spec.returning.map(quote).join(', ')}`) : sql``;
  return sql`${conflict}${returning}`;
}

function postgresInsert(spec: BulkInsert): RawBuilder<unknown> {
  const cols = sql.raw(spec.columns.map(quote).join(', '));
  const picked = sql.raw(spec.columns.map((c) => `r.${quote(c)}`).join(', '));
  const doc = rowsAsJson(spec.columns, spec.rows, true);
  return sql`insert into ${sql.table(spec.table)} (${cols}) select ${picked} from json_populate_recordset(null::${sql.table(spec.table)}, ${doc}::json) with ordinality as r order by r.ordinality${tail(spec)}`;
}

function sqliteInsert(spec: BulkInsert): RawBuilder<unknown> {
  const cols = sql.raw(spec.columns.map(quote).join(', '));
  const picked = sql.raw(spec.columns.map((c) => `json_extract(value, '$.${c}')`).join(', '));
  const doc = rowsAsJson(spec.columns, spec.rows, false);
  // `where true`: SQLite's parser needs a WHERE before an upsert clause after INSERT … SELECT.
  return sql`insert into ${sql.table(spec.table)} (${cols}) select ${picked} from json_each(${doc}) where true order by key${tail(spec)}`;
}

function quote(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bulkInsert: unexpected column name ${name}`);
  return `"${name}"`;
}

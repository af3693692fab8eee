/**
 * Set-based inserts of many rows, without Kysely building and parsing a multi-row VALUES list on
 * every call (that was most of a bulk enqueue's client time). The statement text depends only on
 * the table, the columns and the row count, so it is built once and kept.
 * - PostgreSQL: ONE bound parameter, the rows as a JSON array, expanded by
 *   json_populate_recordset (typed by the table's own row type) — not a parameter per cell.
 * - SQLite: a multi-row VALUES list of bound parameters: in-process binding is cheap, and the
 *   statement is prepared once (the driver caches statements by text).
 * Rows are inserted in array order, so identity values grow with it.
 */
import { CompiledQuery } from './kysely.js';
import type { Kysely } from 'kysely';
import type { Backend } from './dialect.js';
import { isJsonColumn } from './dialect.js';

/** SQLite's bound-parameter limit is 32,766; callers keep rows × columns under this. */
export const SQLITE_MAX_PARAMS = 32_000;

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
  if (backend === 'sqlite' && spec.rows.length * spec.columns.length > SQLITE_MAX_PARAMS) {
    throw new Error(`bulkInsert: ${spec.rows.length} rows of ${spec.columns.length} columns exceed SQLite's parameter limit`);
  }
  const query =
    backend === 'postgres'
      ? CompiledQuery.raw(statementText(spec, 'postgres'), [rowsAsJson(spec.columns, spec.rows, true)])
      : CompiledQuery.raw(statementText(spec, 'sqlite'), spec.rows.flat());
  const result = await db.executeQuery<R>(query);
  return result.rows as R[];
}

const texts = new Map<string, string>();

function statementText(spec: BulkInsert, backend: Backend): string {
  const rows = backend === 'sqlite' ? spec.rows.length : 0;
  const key = `${backend}|${spec.table}|${spec.columns.join(',')}|${rows}|${spec.onConflict ?? ''}|${spec.returning?.join(',') ?? ''}`;
  let text = texts.get(key);
  if (text === undefined) {
    text = backend === 'postgres' ? postgresText(spec) : sqliteText(spec, rows);
    if (texts.size >= 1000) texts.clear();
    texts.set(key, text);
  }
  return text;
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

function tail(spec: BulkInsert): string {
  const conflict = spec.onConflict ? ` ${spec.onConflict}` : '';
  const returning = spec.returning?.length ? ` returning ${spec.returning.map(quote).join(', ')}` : '';
  return `${conflict}${returning}`;
}

function postgresText(spec: BulkInsert): string {
  const table = quote(spec.table);
  const cols = spec.columns.map(quote).join(', ');
  const picked = spec.columns.map((c) => `r.${quote(c)}`).join(', ');
  return `insert into ${table} (${cols}) select ${picked} from json_populate_recordset(null::${table}, $1::json) with ordinality as r order by r.ordinality${tail(spec)}`;
}

function sqliteText(spec: BulkInsert, rows: number): string {
  const one = `(${spec.columns.map(() => '?').join(', ')})`;
  return `insert into ${quote(spec.table)} (${spec.columns.map(quote).join(', ')}) values ${Array(rows).fill(one).join(', ')}${tail(spec)}`;
}

function quote(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bulkInsert: unexpected column name ${name}`);
  return `"${name}"`;
}

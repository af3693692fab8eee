/**
 * Set-based inserts of many rows, without Kysely building and parsing a multi-row VALUES list on
 * every call (that was most of a bulk enqueue's client time). The statement text depends only on
 * the table, the columns and the row count, so it is built once and kept.
 * - PostgreSQL: the rows as ONE JSON array parameter, expanded by json_populate_recordset (typed
 *   by the table's own row type) — not a parameter per cell. A column whose value is the same in
 *   every row (a batch is usually one kind, lane, time…) is sent once, in a second JSON object
 *   read with json_populate_record: most of a row's text was such values, and building, sending
 *   and parsing that text was most of a bulk enqueue's client CPU. One row: a plain VALUES list.
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
  let query: CompiledQuery;
  if (backend === 'postgres' && spec.rows.length === 1) {
    // One row (a single enqueue): a plain VALUES list plans and runs in less server time than
    // expanding a one-element JSON array, and a single enqueue waits for every bit of it.
    query = CompiledQuery.raw(statementText(spec, 'postgres-one', []), spec.rows[0]!.map((v) => v ?? null));
  } else if (backend === 'postgres') {
    const same = constantColumns(spec.rows, spec.columns.length);
    const params = [rowsAsJson(spec.columns, spec.rows, true, same)];
    if (same.includes(true)) params.push(rowAsJson(spec.columns, spec.rows[0]!, same));
    query = CompiledQuery.raw(statementText(spec, 'postgres', same), params);
  } else {
    query = CompiledQuery.raw(statementText(spec, 'sqlite', []), spec.rows.flat());
  }
  const result = await db.executeQuery<R>(query);
  return result.rows as R[];
}

/** Pure: per column, whether every row holds the same cell (then it is sent once). */
export function constantColumns(rows: ReadonlyArray<readonly Cell[]>, width: number): boolean[] {
  const first = rows[0]!;
  const same: boolean[] = [];
  for (let c = 0; c < width; c++) {
    const v = first[c] ?? null;
    let all = true;
    for (let r = 1; r < rows.length && all; r++) all = (rows[r]![c] ?? null) === v;
    same.push(all);
  }
  return same;
}

const texts = new Map<string, string>();

function statementText(spec: BulkInsert, backend: Backend | 'postgres-one', same: readonly boolean[]): string {
  const rows = backend === 'sqlite' ? spec.rows.length : 0;
  const mask = same.map((b) => (b ? 1 : 0)).join('');
  const key = `${backend}|${spec.table}|${spec.columns.join(',')}|${rows}|${mask}|${spec.onConflict ?? ''}|${spec.returning?.join(',') ?? ''}`;
  let text = texts.get(key);
  if (text === undefined) {
    text = backend === 'postgres' ? postgresText(spec, same) : backend === 'postgres-one' ? postgresOneText(spec) : sqliteText(spec, rows);
    if (texts.size >= 1000) texts.clear();
    texts.set(key, text);
  }
  return text;
}

/**
 * The rows as one JSON array of objects; JSON columns embedded as JSON (PostgreSQL) or as text
 * (SQLite). Columns marked in `skip` are left out (sent once instead, see `rowAsJson`).
 */
export function rowsAsJson(
  columns: readonly string[],
  rows: ReadonlyArray<readonly Cell[]>,
  embedJson: boolean,
  skip: readonly boolean[] = [],
): string {
  const picked: number[] = [];
  for (let i = 0; i < columns.length; i++) if (!skip[i]) picked.push(i);
  const keys = picked.map((i, n) => `${n > 0 ? ',' : ''}${JSON.stringify(columns[i])}:`);
  const json = picked.map((i) => embedJson && isJsonColumn(columns[i]!));
  const out: string[] = new Array(rows.length);
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!;
    let text = '{';
    for (let k = 0; k < picked.length; k++) text += keys[k] + cellJson(row[picked[k]!], json[k]!);
    out[r] = `${text}}`;
  }
  // join builds one flat string; the driver would otherwise flatten a rope of pieces to send it.
  return `[${out.join(',')}]`;
}

/** One row's columns marked in `only`, as one JSON object (JSON columns embedded). */
export function rowAsJson(columns: readonly string[], row: readonly Cell[], only: readonly boolean[]): string {
  const parts: string[] = [];
  for (let i = 0; i < columns.length; i++) {
    if (only[i]) parts.push(`${JSON.stringify(columns[i])}:${cellJson(row[i], isJsonColumn(columns[i]!))}`);
  }
  return `{${parts.join(',')}}`;
}

function cellJson(v: Cell | undefined, embed: boolean): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null';
  return embed ? String(v) : JSON.stringify(v);
}

function tail(spec: BulkInsert): string {
  const conflict = spec.onConflict ? ` ${spec.onConflict}` : '';
  const returning = spec.returning?.length ? ` returning ${spec.returning.map(quote).join(', ')}` : '';
  return `${conflict}${returning}`;
}

function postgresText(spec: BulkInsert, same: readonly boolean[]): string {
  const table = quote(spec.table);
  const cols = spec.columns.map(quote).join(', ');
  const picked = spec.columns.map((c, i) => `${same[i] ? 'c' : 'r'}.${quote(c)}`).join(', ');
  const constants = same.includes(true) ? ` cross join json_populate_record(null::${table}, $2::json) as c` : '';
  return `insert into ${table} (${cols}) select ${picked} from json_populate_recordset(null::${table}, $1::json) with ordinality as r${constants} order by r.ordinality${tail(spec)}`;
}

function postgresOneText(spec: BulkInsert): string {
  const values = spec.columns.map((_, i) => `$${i + 1}`).join(', ');
  return `insert into ${quote(spec.table)} (${spec.columns.map(quote).join(', ')}) values (${values})${tail(spec)}`;
}

function sqliteText(spec: BulkInsert, rows: number): string {
  const one = `(${spec.columns.map(() => '?').join(', ')})`;
  return `insert into ${quote(spec.table)} (${spec.columns.map(quote).join(', ')}) values ${Array(rows).fill(one).join(', ')}${tail(spec)}`;
}

function quote(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bulkInsert: unexpected column name ${name}`);
  return `"${name}"`;
}

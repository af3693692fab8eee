/**
 * Set-based inserts of many rows, without Kysely building and parsing a multi-row VALUES list on
 * every call (that was most of a bulk enqueue's client time). The statement text depends only on
 * the table, the columns and the row count, so it is built once and kept.
 * - PostgreSQL: one array parameter per column that varies, read back as rows by unnest() — not
 *   a parameter per cell — and one plain parameter per column whose value is the same in every
 *   row (a batch is usually one kind, lane, time…): most of a row's cells were such values. Arrays
 *   are cast to the columns' own types, read once per table from the catalog. (The rows used to
 *   go as one JSON array through json_populate_recordset, which builds a record of every column
 *   of the table for each row: a quarter of the server's CPU in a bulk enqueue.) One row: a plain
 *   VALUES list.
 * - SQLite: a multi-row VALUES list of bound parameters: in-process binding is cheap, and the
 *   statement is prepared once (the driver caches statements by text).
 * Rows are inserted in array order, so identity values grow with it.
 */
import { CompiledQuery } from './kysely.js';
import type { Kysely } from 'kysely';
import type { Backend } from './dialect.js';

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
    // unnest() needs one array to say how many rows there are.
    if (!same.includes(false)) same[0] = false;
    const types = await columnTypes(db, spec.table);
    query = CompiledQuery.raw(statementText(spec, 'postgres', same, types), columnParams(spec.rows, same));
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

/** Pure: one parameter per column, in column order: the shared value of a constant column, the array of a varying one. */
export function columnParams(rows: ReadonlyArray<readonly Cell[]>, same: readonly boolean[]): unknown[] {
  return same.map((constant, c) => (constant ? (rows[0]![c] ?? null) : rows.map((row) => row[c] ?? null)));
}

/** Column types by table, read once per process (a table's types are fixed by its migrations). */
const typesByTable = new Map<string, ReadonlyMap<string, string>>();

async function columnTypes(db: Kysely<any>, table: string): Promise<ReadonlyMap<string, string>> {
  let types = typesByTable.get(table);
  if (types === undefined) {
    const { rows } = await db.executeQuery<{ name: string; type: string }>(
      CompiledQuery.raw(
        'select attname as name, format_type(atttypid, atttypmod) as type from pg_attribute where attrelid = cast($1 as regclass) and attnum > 0 and not attisdropped',
        [table],
      ),
    );
    types = new Map(rows.map((r) => [r.name, r.type]));
    typesByTable.set(table, types);
  }
  return types;
}

const texts = new Map<string, string>();

function statementText(spec: BulkInsert, backend: Backend | 'postgres-one', same: readonly boolean[], types?: ReadonlyMap<string, string>): string {
  const rows = backend === 'sqlite' ? spec.rows.length : 0;
  const mask = same.map((b) => (b ? 1 : 0)).join('');
  const key = `${backend}|${spec.table}|${spec.columns.join(',')}|${rows}|${mask}|${spec.onConflict ?? ''}|${spec.returning?.join(',') ?? ''}`;
  let text = texts.get(key);
  if (text === undefined) {
    text = backend === 'postgres' ? postgresText(spec, same, types!) : backend === 'postgres-one' ? postgresOneText(spec) : sqliteText(spec, rows);
    if (texts.size >= 1000) texts.clear();
    texts.set(key, text);
  }
  return text;
}

function tail(spec: BulkInsert): string {
  const conflict = spec.onConflict ? ` ${spec.onConflict}` : '';
  const returning = spec.returning?.length ? ` returning ${spec.returning.map(quote).join(', ')}` : '';
  return `${conflict}${returning}`;
}

function postgresText(spec: BulkInsert, same: readonly boolean[], types: ReadonlyMap<string, string>): string {
  const typeOf = (c: string): string => {
    const type = types.get(c);
    if (type === undefined) throw new Error(`bulkInsert: ${spec.table} has no column ${c}`);
    return type;
  };
  // Parameter i + 1 is column i's (columnParams); `with ordinality` keeps the array order.
  const picked = spec.columns.map((c, i) => (same[i] ? `cast($${i + 1} as ${typeOf(c)})` : `r.${quote(c)}`)).join(', ');
  const varying = spec.columns.flatMap((c, i) => (same[i] ? [] : [i]));
  const arrays = varying.map((i) => `cast($${i + 1} as ${typeOf(spec.columns[i]!)}[])`).join(', ');
  const names = varying.map((i) => quote(spec.columns[i]!)).join(', ');
  const cols = spec.columns.map(quote).join(', ');
  return `insert into ${quote(spec.table)} (${cols}) select ${picked} from unnest(${arrays}) with ordinality as r(${names}, "row_position") order by r."row_position"${tail(spec)}`;
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

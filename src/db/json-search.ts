/**
 * Payload path search, the one place its backend difference lives: the predicate's spelling.
 * Neither backend indexes payloads (PostgreSQL's GIN index cost every enqueue, claim and
 * completion a fifth of its WAL; migration 20261202_0023), so the predicate is evaluated row by
 * row and callers bound the rows it runs over (`indexed` is false on both). PostgreSQL: a
 * containment test, then an exact `#>` comparison; SQLite: `->`, the value's JSON text.
 *
 * Matching compares as text, as an operator types it: a string value equals the typed text; any
 * other value (number, boolean, null, object, array) equals it when its JSON spelling does.
 */
import { sql } from './kysely.js';
import type { Kysely, RawBuilder, SqlBool } from 'kysely';

export interface JsonSearch {
  /** True when an index answers a search over the whole table; false: callers bound the rows searched. */
  // createIndex/dropIndex stay for migrations 0018 (which created the GIN index) and 0023 (which drops it).
  readonly indexed: boolean;
  createIndex(db: Kysely<any>, name: string, table: string, column: string): Promise<void>;
  dropIndex(db: Kysely<any>, name: string): Promise<void>;
  /** `column` holds, at the path (object keys), a value whose text is `value`. */
  valueAt(column: string, path: readonly string[], value: string): RawBuilder<SqlBool>;
}

/** The JSON spellings that match `value`: the string itself, and the value as JSON when it is JSON but not a string. Pure. */
export function jsonCandidates(value: string): string[] {
  const out = [JSON.stringify(value)];
  try {
    if (typeof JSON.parse(value) !== 'string') out.push(value);
  } catch {
    // Not JSON: only a string can match.
  }
  return out;
}

/** The nested object `{a: {b: value}}` for path [a, b], as a containment probe. Pure. */
function nest(path: readonly string[], value: unknown): unknown {
  return path.reduceRight<unknown>((inner, key) => ({ [key]: inner }), value);
}

export const sqliteJsonSearch: JsonSearch = {
  indexed: false,
  createIndex: async () => {},
  dropIndex: async () => {},
  valueAt(column, path, value) {
    const jsonPath = '$' + path.map((k) => `."${k}"`).join('');
    const candidates = jsonCandidates(value).map((c) => sql`${c}`);
    return sql<SqlBool>`(${sql.ref(column)} -> ${jsonPath}) in (${sql.join(candidates)})`;
  },
};

export const postgresJsonSearch: JsonSearch = {
  indexed: false,
  async createIndex(db, name, table, column) {
    await sql`create index ${sql.id(name)} on ${sql.table(table)} using gin (${sql.ref(column)} jsonb_path_ops)`.execute(db);
  },
  async dropIndex(db, name) {
    await sql`drop index if exists ${sql.id(name)}`.execute(db);
  },
  valueAt(column, path, value) {
    const col = sql.ref(column);
    const arms = jsonCandidates(value).map((c) => {
      const probe = JSON.stringify(nest(path, JSON.parse(c)));
      return sql`(${col} @> cast(${probe} as jsonb) and ${col} #> cast(${[...path]} as text[]) = cast(${c} as jsonb))`;
    });
    return sql<SqlBool>`(${sql.join(arms, sql` or `)})`;
  },
};

/**
 * One compare-and-set statement for many rows: set `column` to a per-row value where the row's
 * current value of `column` is still the expected one, and return the ids it changed. A replica
 * that lost a race on a row changes nothing there (the row's value moved on). Values may be null.
 * - PostgreSQL: UPDATE … FROM unnest() of three array parameters (a concurrent update makes the
 *   row re-checked against the join's conditions on its newest version: EvalPlanQual).
 * - SQLite: UPDATE … FROM a VALUES list (its single writer serialises the statement).
 */
import { CompiledQuery } from './kysely.js';
import type { Kysely } from 'kysely';
import type { Backend } from './dialect.js';

export interface CompareAndSet {
  table: string;
  column: string;
  rows: ReadonlyArray<{ id: number; expected: number; next: number | null }>;
  /** Also set `updated_at` to this. */
  updatedAt: number;
}

export async function compareAndSetMany(db: Kysely<any>, backend: Backend, spec: CompareAndSet): Promise<number[]> {
  if (spec.rows.length === 0) return [];
  const t = name(spec.table);
  const c = name(spec.column);
  const query =
    backend === 'postgres'
      ? CompiledQuery.raw(
          `update ${t} as t set ${c} = v.next, updated_at = $4 from unnest($1::bigint[], $2::bigint[], $3::bigint[]) as v(id, expected, next)` +
            ` where t.id = v.id and t.${c} = v.expected returning t.id`,
          [spec.rows.map((r) => r.id), spec.rows.map((r) => r.expected), spec.rows.map((r) => r.next), spec.updatedAt],
        )
      : CompiledQuery.raw(
          `update ${t} set ${c} = v.column3, updated_at = ? from (values ${spec.rows.map(() => '(?, ?, ?)').join(', ')}) as v` +
            ` where ${t}.id = v.column1 and ${t}.${c} = v.column2 returning ${t}.id`,
          [spec.updatedAt, ...spec.rows.flatMap((r) => [r.id, r.expected, r.next])],
        );
  const result = await db.executeQuery<{ id: number }>(query);
  return result.rows.map((r) => Number(r.id));
}

function name(identifier: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(identifier)) throw new Error(`compareAndSetMany: unexpected name ${identifier}`);
  return `"${identifier}"`;
}

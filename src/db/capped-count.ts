/** Capped counts: count at most `cap + 1` rows, so a count at a million rows costs what one at ten thousand does. */
import { sql } from './kysely.js';
import type { Kysely, SelectQueryBuilder } from 'kysely';
import type { Database } from './schema.js';

/** Where counts stop; shown as "10,000+". */
export const COUNT_CAP = 10_000;

/** Rows the query selects, stopping at cap + 1 (shown as "10,000+"). */
export async function countCapped<TB extends keyof Database, O>(
  db: Kysely<Database>,
  query: SelectQueryBuilder<Database, TB, O>,
  cap: number = COUNT_CAP,
): Promise<number> {
  const limited = query.clearSelect().select(sql<number>`1`.as('one')).clearOrderBy().limit(cap + 1);
  const row = await db
    .selectFrom(limited.as('capped'))
    .select((eb) => eb.fn.countAll().as('n'))
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

/**
 * Planner statistics kept fresh by the writer that grows a table quickly (PostgreSQL only).
 *
 * Why: PostgreSQL plans each foreign-key check (`select 1 from runs where id = $1 for key share`)
 * once per connection and keeps that plan until the referenced table's statistics change. A plan
 * made while the table was small (a new install, or statistics taken while it was empty) is a
 * sequential scan, and every later check then reads the whole table: each scheduler tick cost in
 * proportion to the runs earlier ticks wrote. Autovacuum re-analyzes only after 10% growth and at
 * its own pace (a minute or more), too late for a backlog of ticks.
 *
 * So the writer counts what it wrote and analyzes a table itself once that is at least as much as
 * the table held at its last analysis (doubling: a few analyses in a table's life, each cheap
 * while it is small, none once autovacuum keeps up). ANALYZE rewrites the table's pg_class row,
 * which invalidates every connection's cached plans on it, so the checks are re-planned from the
 * table's real size (an index lookup). SKIP_LOCKED: never wait behind autovacuum or another
 * replica's ANALYZE; a skipped one is retried at the next threshold.
 */
import { CompiledQuery } from './kysely.js';
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Store } from './open.js';

/** Below this many rows written since the last analysis, a sequential scan costs next to nothing. */
export const MIN_ROWS_BEFORE_ANALYZE = 500;

interface TableState {
  /** Rows the table held at its last analysis (pg_class.reltuples; unknown counts as 0). */
  analyzedRows: number | null;
  written: number;
  /** An ANALYZE in flight: others wait for it rather than start their own. */
  running: Promise<void> | null;
}

const states = new WeakMap<Store, Map<string, TableState>>();

/** Pure: does this much writing since the last analysis call for a new one? */
export function needsAnalyze(analyzedRows: number, written: number, minRows = MIN_ROWS_BEFORE_ANALYZE): boolean {
  return written >= Math.max(minRows, analyzedRows);
}

/**
 * Records `rows` rows committed to `table` and analyzes it when they cross the threshold. Call it
 * after the commit, outside any transaction. Never throws: stale statistics cost time, not
 * correctness.
 */
export async function noteRowsWritten(store: Store, table: string, rows: number, logger?: Logger): Promise<void> {
  if (store.dialect.backend !== 'postgres' || rows <= 0) return;
  let tables = states.get(store);
  if (!tables) states.set(store, (tables = new Map()));
  let state = tables.get(table);
  if (!state) tables.set(table, (state = { analyzedRows: null, written: 0, running: null }));
  state.written += rows;
  if (state.running) return state.running;
  const current = state;
  // Never rejects (errors are logged here), so every caller may await it.
  current.running = refresh(store, table, current, logger).finally(() => {
    current.running = null;
  });
  return current.running;
}

async function refresh(store: Store, table: string, state: TableState, logger: Logger | undefined): Promise<void> {
  try {
    if (state.analyzedRows === null) state.analyzedRows = await reltuples(store, table);
    if (!needsAnalyze(state.analyzedRows, state.written)) return;
    const counted = state.written;
    await analyze(store, table);
    state.written -= counted; // rows noted during the ANALYZE count towards the next one
    state.analyzedRows = await reltuples(store, table);
  } catch (err) {
    logger?.debug({ err: describeError(err), table }, 'planner statistics not refreshed');
  }
}

async function analyze(store: Store, table: string): Promise<void> {
  await store.db.executeQuery(CompiledQuery.raw(`analyze (skip_locked) ${quote(table)}`));
}

async function reltuples(store: Store, table: string): Promise<number> {
  const result = await store.db.executeQuery<{ n: number | string }>(
    CompiledQuery.raw('select reltuples as n from pg_class where oid = to_regclass($1)', [table]),
  );
  // -1 (never analyzed) and a missing table both count as empty.
  return Math.max(0, Number(result.rows[0]?.n ?? 0));
}

function quote(identifier: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(identifier)) throw new Error(`planner statistics: unexpected table name ${identifier}`);
  return `"${identifier}"`;
}

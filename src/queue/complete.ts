/**
 * Fenced completion: a row changes only while it is still `running` under the very claim the
 * caller holds — same lease_owner and same claim_count. A slow worker whose item was reclaimed,
 * released or cancelled gets `lease_lost` and changes nothing, so it can never overwrite the new
 * attempt, not even when the new attempt is its own. Many items complete in one statement: the
 * batch is a table of (id, claim, result) rows joined on the primary key.
 */
import { sql } from '../db/kysely.js';
import type { CompiledQuery } from 'kysely';
import { bind, slot, slots } from '../db/compiled-query.js';
import { toJson } from '../db/dialect.js';
import { clockNow } from '../db/clock.js';
import type { Store } from '../db/open.js';
import type { Lease } from './claim.js';

export type CompletionOutcome = 'completed' | 'lease_lost';

export interface Completion {
  /** The claim being completed (the claimed WorkItem will do). */
  item: Lease;
  /** Stored in result_json when not undefined. */
  result?: unknown;
}

/** Outcomes in the order of `completions`. */
export async function completeWorkItems(
  store: Store,
  owner: string,
  completions: readonly Completion[],
  options: { now?: number } = {},
): Promise<CompletionOutcome[]> {
  if (completions.length === 0) return [];
  const now = options.now ?? (await clockNow(store.clock));
  const { dialect } = store;
  const { rows } = await store.db.executeQuery(
    bind<Lease>(completionStatement(store), {
      claims: dialect.claimsParams(
        completions.map((c) => c.item.id),
        completions.map((c) => c.item.claim_count),
        completions.map((c) => (c.result === undefined ? null : toJson(c.result))),
      ),
      now,
      owner,
    }),
  );
  const done = new Set(rows.map((r) => `${r.id}:${r.claim_count}`));
  return completions.map((c) => (done.has(`${c.item.id}:${c.item.claim_count}`) ? 'completed' : 'lease_lost'));
}

/** The completion statement, compiled once per database (one shape: see Dialect.claimsParams). */
const templates = new WeakMap<Store['db'], CompiledQuery>();

/** The compiled completion statement; slots `claims` (Dialect.claimsParams), `now`, `owner`. */
export function completionStatement(store: Store): CompiledQuery {
  let template = templates.get(store.db);
  if (template === undefined) templates.set(store.db, (template = buildCompletion(store).compile()));
  return template;
}

function buildCompletion(store: Store) {
  const claims = store.dialect.claimsTableOf('v', slots('claims', store.dialect.claimsParamCount));
  return store.db
    .updateTable('job_scheduler_work_items as w')
    .from(claims)
    .set({
      status: 'succeeded',
      finished_at: slot<number>('now'),
      updated_at: slot<number>('now'),
      lease_expires_at: null,
      error: null,
      result_json: sql<string | null>`v.result`,
    })
    .whereRef('w.id', '=', 'v.item_id')
    .whereRef('w.claim_count', '=', 'v.claim')
    .where('w.lease_owner', '=', slot<string>('owner'))
    .where('w.status', '=', 'running')
    .returning(['id', 'claim_count']);
}

export async function completeWorkItem(
  store: Store,
  owner: string,
  item: Lease,
  result?: unknown,
  options: { now?: number } = {},
): Promise<CompletionOutcome> {
  return (await completeWorkItems(store, owner, [{ item, result }], options))[0]!;
}

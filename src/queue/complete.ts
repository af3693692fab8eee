/**
 * Fenced completion: a row changes only while its lease_owner is still the caller and it is still
 * `running`. A slow worker whose item was reclaimed, released or cancelled gets `lease_lost` and
 * changes nothing, so it can never overwrite the new attempt. Many items complete in one statement.
 */
import { toJson } from '../db/dialect.js';
import type { Store } from '../db/open.js';

export type CompletionOutcome = 'completed' | 'lease_lost';

export interface Completion {
  id: number;
  /** Stored in result_json when not undefined. */
  result?: unknown;
}

export async function completeWorkItems(
  store: Store,
  owner: string,
  completions: readonly Completion[],
  options: { now?: number } = {},
): Promise<Map<number, CompletionOutcome>> {
  const outcomes = new Map<number, CompletionOutcome>();
  if (completions.length === 0) return outcomes;
  const now = options.now ?? Date.now();
  const ids = completions.map((c) => c.id);
  const withResult = completions.filter((c) => c.result !== undefined);
  const rows = await store.db
    .updateTable('job_scheduler_work_items')
    .set((eb) => ({
      status: 'succeeded',
      finished_at: now,
      updated_at: now,
      lease_expires_at: null,
      error: null,
      // One CASE over the batch; items without a result keep NULL.
      result_json:
        withResult.length === 0
          ? null
          : withResult
              .reduce(
                (c, { id, result }) =>
                  c.when('id', '=', id).then(store.dialect.jsonExpression(toJson(result)) as never),
                eb.case() as any,
              )
              .else(null)
              .end(),
    }))
    .where('id', 'in', ids)
    .where('lease_owner', '=', owner)
    .where('status', '=', 'running')
    .returning('id')
    .execute();
  const done = new Set(rows.map((r) => r.id));
  for (const id of ids) outcomes.set(id, done.has(id) ? 'completed' : 'lease_lost');
  return outcomes;
}

export async function completeWorkItem(
  store: Store,
  owner: string,
  id: number,
  result?: unknown,
  options: { now?: number } = {},
): Promise<CompletionOutcome> {
  return (await completeWorkItems(store, owner, [{ id, result }], options)).get(id)!;
}

/**
 * Fenced failure: like completion, only the claim that holds a running item (same lease_owner,
 * same claim_count) may fail it.
 * Retryable failures go back to `queued` after an exponential, jittered delay until the item's
 * max_attempts is used up, then `dead`; non-retryable ones go `failed` at once. The last error
 * and the attempt count stay on the row.
 */
import { describeError } from '../errors.js';
import { clockNow } from '../db/clock.js';
import type { Store } from '../db/open.js';
import { retryDelayMs } from './backoff.js';
import type { Lease } from './claim.js';
import { retryPolicyFor, type RetryPolicy } from './kinds.js';
import { signalLocalWork } from './wakeup.js';

export type FailOutcome = 'retry_scheduled' | 'dead' | 'failed' | 'lease_lost';

export interface FailOptions {
  /** False for errors a retry cannot fix (unknown kind, invalid payload, refused action). */
  retryable?: boolean;
  now?: number;
  random?: () => number;
  /** Per-kind retry policy overrides (base and cap; max attempts is the item's max_attempts). */
  policies?: Partial<Record<string, Partial<RetryPolicy>>>;
}

/** Longest error text kept on a row. */
const MAX_ERROR_LENGTH = 4000;

export function errorText(error: unknown): string {
  const text = describeError(error);
  return text.length > MAX_ERROR_LENGTH ? `${text.slice(0, MAX_ERROR_LENGTH)}…` : text;
}

export async function failWorkItem(
  store: Store,
  owner: string,
  item: Lease,
  error: unknown,
  options: FailOptions = {},
): Promise<{ outcome: FailOutcome; availableAt?: number }> {
  const now = options.now ?? (await clockNow(store.clock));
  const { id, claim_count: claim } = item;
  const current = await store.db
    .selectFrom('job_scheduler_work_items')
    .select(['kind', 'attempt_count', 'max_attempts', 'site_id'])
    .where('id', '=', id)
    .where('claim_count', '=', claim)
    .where('lease_owner', '=', owner)
    .where('status', '=', 'running')
    .executeTakeFirst();
  if (!current) return { outcome: 'lease_lost' };

  const retryable = options.retryable ?? true;
  const exhausted = current.attempt_count >= current.max_attempts;
  const outcome: FailOutcome = !retryable ? 'failed' : exhausted ? 'dead' : 'retry_scheduled';
  const policy = retryPolicyFor(current.kind, options.policies);
  const availableAt =
    outcome === 'retry_scheduled' ? now + retryDelayMs(current.attempt_count, policy, options.random) : undefined;
  const message = errorText(error);
  const updated = await store.db
    .updateTable('job_scheduler_work_items')
    .set({
      status: outcome === 'retry_scheduled' ? 'queued' : outcome,
      error:
        outcome === 'dead'
          ? `${message} (attempt ${current.attempt_count} of ${current.max_attempts}; no attempts left)`
          : message,
      lease_owner: null,
      lease_expires_at: null,
      updated_at: now,
      ...(availableAt !== undefined ? { available_at: availableAt } : { finished_at: now }),
    })
    // Still the same claim: a reclaim between the read and this write makes it lease_lost.
    .where('id', '=', id)
    .where('claim_count', '=', claim)
    .where('lease_owner', '=', owner)
    .where('status', '=', 'running')
    .returning('id')
    .executeTakeFirst();
  if (!updated) return { outcome: 'lease_lost' };
  if (availableAt !== undefined && availableAt <= now) signalLocalWork(store, [current.site_id]);
  return availableAt !== undefined ? { outcome, availableAt } : { outcome };
}

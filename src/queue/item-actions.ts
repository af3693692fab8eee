/**
 * Operator actions on work items from the dashboard: retry (a finished item gets another
 * attempt), requeue (a delayed queued item becomes claimable now), cancel (queued or running).
 * Each runs in one transaction with its audit row; an item in the wrong state is a conflict
 * reported in words, never an error page.
 */
import { recordAudit, type Actor } from '../audit/audit-log.js';
import type { Store } from '../db/open.js';
import { cancelWorkItem, retryWorkItemNow } from './admin.js';
import { FINISHED_STATUSES } from './kinds.js';
import { signalLocalRevocation, signalLocalWork } from './wakeup.js';

export const ITEM_ACTIONS = ['retry', 'requeue', 'cancel'] as const;
export type ItemAction = (typeof ITEM_ACTIONS)[number];

export type ActionOutcome = { ok: true } | { ok: false; conflict: string };

const ALLOWED: Record<ItemAction, readonly string[]> = {
  retry: FINISHED_STATUSES,
  requeue: ['queued'],
  cancel: ['queued', 'running'],
};

export async function applyItemAction(store: Store, id: number, action: ItemAction, actor: Actor, now: number): Promise<ActionOutcome> {
  const outcome = await store.db.transaction().execute(async (trx): Promise<ActionOutcome & { siteId?: number | null }> => {
    const scoped: Store = { ...store, db: trx };
    const current = await trx.selectFrom('job_scheduler_work_items').select(['status', 'site_id']).where('id', '=', id).executeTakeFirst();
    if (!current) return { ok: false, conflict: `item ${id} no longer exists` };
    if (!ALLOWED[action].includes(current.status)) {
      return { ok: false, conflict: `item ${id} is ${current.status}; ${action} applies to ${ALLOWED[action].join(', ')} items` };
    }
    const changed = action === 'cancel' ? await cancelWorkItem(scoped, id, { now }) : await retryWorkItemNow(scoped, id, { now });
    if (!changed) return { ok: false, conflict: `item ${id} changed state while the action ran; nothing was done` };
    await recordAudit(trx, { actor, action: `work_item.${action}`, objectType: 'work_item', objectId: id, summary: { from: current.status, to: changed.status }, at: now });
    return { ok: true, siteId: changed.site_id };
  });
  // The in-process wake-ups are keyed by the store, not the transaction: send them after the commit.
  if (outcome.ok) {
    if (action === 'cancel') signalLocalRevocation(store, [id]);
    else signalLocalWork(store, [outcome.siteId ?? null]);
  }
  return outcome.ok ? { ok: true } : outcome;
}

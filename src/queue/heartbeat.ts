/**
 * Heartbeats extend the leases an owner still holds and report the ones it lost (reclaimed,
 * cancelled, released, or claimed again since), so the worker can abandon them. Fenced like
 * completion, on the owner and the claim (id, claim_count). One statement for any number of items.
 */
import { clockNow } from '../db/clock.js';
import type { Store } from '../db/open.js';
import type { Lease } from './claim.js';

export interface HeartbeatResult {
  held: number[];
  lost: number[];
}

/** `items`: the claims to extend, one per item (the claimed WorkItems will do). */
export async function heartbeatWorkItems(
  store: Store,
  owner: string,
  items: readonly Lease[],
  options: { leaseSeconds: number; now?: number },
): Promise<HeartbeatResult> {
  if (items.length === 0) return { held: [], lost: [] };
  const now = options.now ?? (await clockNow(store.clock));
  const claims = store.dialect.claimsTable(
    'v',
    items.map((i) => i.id),
    items.map((i) => i.claim_count),
  );
  const rows = await store.db
    .updateTable('job_scheduler_work_items as w')
    .from(claims)
    .set({ lease_expires_at: now + options.leaseSeconds * 1000, heartbeat_at: now, updated_at: now })
    .whereRef('w.id', '=', 'v.item_id')
    .whereRef('w.claim_count', '=', 'v.claim')
    .where('w.lease_owner', '=', owner)
    .where('w.status', '=', 'running')
    .returning('id')
    .execute();
  const held = new Set(rows.map((r) => r.id));
  return { held: [...held], lost: items.filter((i) => !held.has(i.id)).map((i) => i.id) };
}

/**
 * Which of these claims this owner no longer holds, by a read alone (no lease is extended): the
 * cheap early check a consumer runs when told a lease may have been revoked.
 */
export async function findLostLeases(store: Store, owner: string, items: readonly Lease[]): Promise<number[]> {
  if (items.length === 0) return [];
  const rows = await store.db
    .selectFrom('job_scheduler_work_items')
    .select(['id', 'status', 'lease_owner', 'claim_count'])
    .where('id', 'in', items.map((i) => i.id))
    .execute();
  const byId = new Map(rows.map((r) => [r.id, r]));
  return items
    .filter((i) => {
      const row = byId.get(i.id);
      return !row || row.status !== 'running' || row.lease_owner !== owner || row.claim_count !== i.claim_count;
    })
    .map((i) => i.id);
}

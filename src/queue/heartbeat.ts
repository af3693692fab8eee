/**
 * Heartbeats extend the leases an owner still holds and report the ones it lost (reclaimed,
 * cancelled, released, or claimed again since), so the worker can abandon them. Fenced like
 * completion, on the owner and the claim (id, claim_count). One statement for any number of items.
 */
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
  const now = options.now ?? Date.now();
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

/**
 * Heartbeats extend the leases an owner still holds and report the ones it lost (reclaimed,
 * cancelled, released), so the worker can abandon them. One statement for any number of items.
 */
import type { Store } from '../db/open.js';

export interface HeartbeatResult {
  held: number[];
  lost: number[];
}

export async function heartbeatWorkItems(
  store: Store,
  owner: string,
  ids: readonly number[],
  options: { leaseSeconds: number; now?: number },
): Promise<HeartbeatResult> {
  if (ids.length === 0) return { held: [], lost: [] };
  const now = options.now ?? Date.now();
  const rows = await store.db
    .updateTable('job_scheduler_work_items')
    .set({ lease_expires_at: now + options.leaseSeconds * 1000, heartbeat_at: now, updated_at: now })
    .where('id', 'in', ids)
    .where('lease_owner', '=', owner)
    .where('status', '=', 'running')
    .returning('id')
    .execute();
  const held = new Set(rows.map((r) => r.id));
  return { held: [...held], lost: ids.filter((id) => !held.has(id)) };
}

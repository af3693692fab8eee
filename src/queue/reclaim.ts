/**
 * Getting work back from owners that stopped: expired leases (a crashed or partitioned worker)
 * and lost owners (a worker the fleet saw die, released at once instead of after lease expiry).
 * An item whose attempts are used up goes `dead`; the rest are `queued` and available now, with
 * `error` saying whose lease ended.
 */
import { sql } from '../db/kysely.js';
import { clockNow } from '../db/clock.js';
import type { Store } from '../db/open.js';
import type { Lease } from './claim.js';
import { signalLocalWork } from './wakeup.js';

export interface ReclaimResult {
  requeued: number[];
  dead: number[];
  /** Set when this process may not judge other leases expired now (see src/db/clock.ts). */
  refused?: string;
}

/** Which items a reclaim may touch (a consumer's claim filter); every field absent: all. */
export interface ReclaimScope {
  /** A site id; null for items without a site; undefined for any site. */
  siteId?: number | null;
  kinds?: readonly string[];
  lanes?: readonly string[];
}

/** Returns items whose lease expired before `now` to the queue (or to `dead`). */
export async function reclaimExpiredLeases(
  store: Store,
  options: { now?: number; scope?: ReclaimScope } = {},
): Promise<ReclaimResult> {
  const now = options.now ?? (await clockNow(store.clock));
  if (options.scope?.kinds?.length === 0 || options.scope?.lanes?.length === 0) return { requeued: [], dead: [] };
  // Expiry is judged against other processes' leases: only on a clock known to be right.
  if (!store.clock.synced()) await store.clock.sync();
  const refused = store.clock.reclaimRefusal();
  if (refused) return { requeued: [], dead: [], refused };
  return returnToQueue(store, now, 'lease expired', (q) => inScope(q.where('lease_expires_at', '<', now), options.scope), false);
}

/**
 * Whether any item in `scope` has an expired lease: one read through the partial lease index,
 * so consumers can look often without taking the write lock (SQLite) or row locks.
 */
export async function hasExpiredLeases(store: Store, options: { now?: number; scope?: ReclaimScope } = {}): Promise<boolean> {
  const now = options.now ?? (await clockNow(store.clock));
  if (options.scope?.kinds?.length === 0 || options.scope?.lanes?.length === 0) return false;
  if (!store.clock.synced()) await store.clock.sync();
  if (store.clock.reclaimRefusal()) return false;
  const row = await inScope(
    store.db.selectFrom('job_scheduler_work_items').select('id').where('status', '=', 'running').where('lease_expires_at', '<', now),
    options.scope,
  )
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/** Returns every running item of `owner` at once — a worker known to be gone. */
export async function releaseOwner(
  store: Store,
  owner: string,
  options: { now?: number; reason?: string } = {},
): Promise<ReclaimResult> {
  const now = options.now ?? (await clockNow(store.clock));
  return returnToQueue(store, now, options.reason ?? 'worker lost', (q) => q.where('lease_owner', '=', owner), false);
}

/**
 * An owner hands items back on graceful shutdown. The interrupted attempt is not the item's
 * fault, so it is not counted: attempt_count goes back down by one. Fenced on the claims
 * (id, claim_count), so a stale claim never releases a later one.
 */
export async function releaseWorkItems(
  store: Store,
  owner: string,
  items: readonly Lease[],
  options: { now?: number; reason?: string } = {},
): Promise<ReclaimResult> {
  if (items.length === 0) return { requeued: [], dead: [] };
  const now = options.now ?? (await clockNow(store.clock));
  const ids = items.map((i) => i.id);
  const claims = store.dialect.claimsTable('v', ids, items.map((i) => i.claim_count));
  return returnToQueue(
    store,
    now,
    options.reason ?? 'released on shutdown',
    (q) => q.where('lease_owner', '=', owner).where('id', 'in', ids).where(sql<boolean>`(id, claim_count) in (select item_id, claim from ${claims})`),
    true,
  );
}

type Filter = <Q extends { where: (...args: any[]) => any }>(q: Q) => Q;

function inScope<Q extends { where: (...args: any[]) => any }>(q: Q, scope: ReclaimScope | undefined): Q {
  if (!scope) return q;
  let r = q;
  if (scope.siteId === null) r = r.where('site_id', 'is', null);
  else if (scope.siteId !== undefined) r = r.where('site_id', '=', scope.siteId);
  if (scope.kinds) r = r.where('kind', 'in', scope.kinds);
  if (scope.lanes) r = r.where('lane', 'in', scope.lanes);
  return r;
}

async function returnToQueue(
  store: Store,
  now: number,
  reason: string,
  filter: Filter,
  refundAttempt: boolean,
): Promise<ReclaimResult> {
  const note = sql<string>`${reason + ' (owner '} || coalesce(lease_owner, '?') || ${')'}`;
  // Attempts used up: dead, keeping the count. (A refunded attempt never exhausts.)
  const dead = refundAttempt
    ? []
    : await filter(
        store.db
          .updateTable('job_scheduler_work_items')
          .set({ status: 'dead', error: sql<string>`${note} || ${'; no attempts left'}`, finished_at: now, updated_at: now, lease_owner: null, lease_expires_at: null })
          .where('status', '=', 'running')
          .whereRef('attempt_count', '>=', 'max_attempts'),
      )
        .returning('id')
        .execute();
  const requeued = await filter(
    store.db
      .updateTable('job_scheduler_work_items')
      .set((eb) => ({
        status: 'queued',
        error: note,
        available_at: now,
        updated_at: now,
        lease_owner: null,
        lease_expires_at: null,
        ...(refundAttempt ? { attempt_count: eb('attempt_count', '-', 1) } : {}),
      }))
      .where('status', '=', 'running'),
  )
    .returning(['id', 'site_id'])
    .execute();
  if (requeued.length > 0) {
    const sites = requeued.map((r) => r.site_id);
    signalLocalWork(store, sites);
    await store.dialect.notifyWork(store.db, sites);
  }
  return { requeued: requeued.map((r) => r.id), dead: dead.map((r) => r.id) };
}

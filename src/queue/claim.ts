/**
 * Claiming: one atomic `WITH candidates … UPDATE … RETURNING` statement on both backends. On
 * PostgreSQL the candidate rows are row-locked with skipping (dialect.lockRowsSkipLocked), so
 * concurrent claimers pass over each other's rows; on SQLite the statement runs under the single
 * write lock, which it takes before reading (a write statement begins a write transaction), so
 * two processes can never claim the same row and a claim never fails half-way with SQLITE_BUSY.
 *
 * Order: priority DESC (higher first), then available_at, then id.
 *
 * Every claim adds one to claim_count, which nothing else changes: a claimed item's
 * (id, claim_count) is its `Lease`, and completion, failure, heartbeat and release are fenced on
 * it as well as on the owner, so a late outcome of an earlier claim — even by the same owner,
 * after its lease expired and the item was reclaimed and claimed again — changes nothing.
 */
import type { CompiledQuery } from 'kysely';
import { clockNow } from '../db/clock.js';
import { bind, QueryTemplates, slot, slots } from '../db/compiled-query.js';
import type { Store } from '../db/open.js';
import type { WorkItem } from '../db/schema.js';

/** One claim of one item, as claimWorkItems returned it (a WorkItem is one). */
export type Lease = Pick<WorkItem, 'id' | 'claim_count'>;

export interface ClaimOptions {
  /** Who holds the lease; completion and heartbeats are fenced on it. */
  owner: string;
  /** A site id; null for items without a site (service actions); undefined for any site. */
  siteId?: number | null;
  /** Lanes to claim from; undefined for every lane. */
  lanes?: readonly string[];
  /** Kinds to claim; undefined for every kind. */
  kinds?: readonly string[];
  limit: number;
  leaseSeconds: number;
  workerGuid?: string | null;
  containerName?: string | null;
  now?: number;
}

/** Compiled claim statements per database, by shape (site filter, lane and kind list lengths). */
const templates = new WeakMap<Store['db'], QueryTemplates>();

export async function claimWorkItems(store: Store, options: ClaimOptions): Promise<WorkItem[]> {
  const now = options.now ?? (await clockNow(store.clock));
  // Due within the clocks' uncertainty counts as due (0 on SQLite, one host clock; see clock.ts).
  const dueBy = options.now ?? now + store.clock.claimSlackMs();
  if (options.limit <= 0) return [];
  if (options.lanes?.length === 0 || options.kinds?.length === 0) return [];
  const leaseExpiresAt = now + options.leaseSeconds * 1000;
  const workerGuid = options.workerGuid ?? null;
  const containerName = options.containerName ?? null;
  const { rows } = await store.db.executeQuery(
    claimStatement(store, options, { dueBy, now, leaseExpiresAt, workerGuid, containerName }),
  );
  const claimed = rows.map((r) => asClaimed(r, options.owner, leaseExpiresAt, now, workerGuid, containerName));
  // RETURNING order is unspecified; hand items out in claim order.
  return claimed.sort((a, b) => b.priority - a.priority || a.available_at - b.available_at || a.id - b.id);
}

/** The claim statement for these options and per-call values (exported for the plan tests). */
export function claimStatement(
  store: Store,
  options: ClaimOptions,
  values: { dueBy: number; now: number; leaseExpiresAt: number; workerGuid: string | null; containerName: string | null },
): CompiledQuery<ClaimedColumns> {
  const site = options.siteId === null ? 'null' : options.siteId === undefined ? 'any' : 'one';
  const key = `${site}:${options.lanes?.length ?? '*'}:${options.kinds?.length ?? '*'}`;
  let forDb = templates.get(store.db);
  if (forDb === undefined) templates.set(store.db, (forDb = new QueryTemplates()));
  const template = forDb.get(key, () => buildClaim(store, site, options.lanes?.length, options.kinds?.length));
  return bind<ClaimedColumns>(template, {
    ...values,
    siteId: options.siteId,
    lanes: options.lanes,
    kinds: options.kinds,
    limit: options.limit,
    owner: options.owner,
  });
}

/** The claim statement of one shape, with slots for every per-call value (see compiled-query.ts). */
function buildClaim(store: Store, site: 'null' | 'any' | 'one', lanes: number | undefined, kinds: number | undefined) {
  const { dialect } = store;
  return store.db
    .with('candidates', (db) => {
      let q = db
        .selectFrom('job_scheduler_work_items')
        .select('id')
        .where('status', '=', 'queued')
        // Only a filter: SQLite, planning without statistics, took the (status, available_at)
        // range and sorted every due item instead of reading the claim index in order.
        .where(dialect.filterOnly('available_at'), '<=', slot<number>('dueBy'));
      if (site === 'null') q = q.where('site_id', 'is', null);
      else if (site === 'one') q = q.where('site_id', '=', slot<number>('siteId'));
      if (lanes !== undefined) q = q.where('lane', 'in', slots<string>('lanes', lanes));
      if (kinds !== undefined) q = q.where('kind', 'in', slots<string>('kinds', kinds));
      return dialect.lockRowsSkipLocked(
        q.orderBy('priority', 'desc').orderBy('available_at').orderBy('id').limit(slot<number>('limit')),
      );
    })
    .updateTable('job_scheduler_work_items')
    .set((eb) => ({
      status: 'running',
      lease_owner: slot<string>('owner'),
      lease_expires_at: slot<number>('leaseExpiresAt'),
      heartbeat_at: slot<number>('now'),
      started_at: slot<number>('now'),
      attempt_count: eb('attempt_count', '+', 1),
      claim_count: eb('claim_count', '+', 1),
      worker_guid: slot<string | null>('workerGuid'),
      container_name: slot<string | null>('containerName'),
      updated_at: slot<number>('now'),
    }))
    .where(dialect.idInCte('candidates'))
    .returning(RETURNED);
}

/**
 * What the claim reads back: every column except the eight it has just set, whose values the
 * caller already holds (asClaimed fills them in). Fewer columns to send, convert and collect per
 * claimed row; the item handed out still equals the stored row, field for field (tested in
 * test/queue/operations.test.ts).
 */
const RETURNED = [
  'id', 'dedupe_key', 'kind', 'site_id', 'lane', 'job_id', 'run_id', 'target_id', 'payload_json', 'attempt_count',
  'claim_count', 'max_attempts', 'priority', 'available_at', 'error', 'result_json', 'created_at', 'finished_at',
] as const;

type ClaimedColumns = Pick<WorkItem, (typeof RETURNED)[number]>;

/** The claimed item as the table now holds it. An object literal in one fixed order: one hidden class for every item. */
function asClaimed(
  r: ClaimedColumns,
  owner: string,
  leaseExpiresAt: number,
  now: number,
  workerGuid: string | null,
  containerName: string | null,
): WorkItem {
  return {
    id: r.id,
    dedupe_key: r.dedupe_key,
    kind: r.kind,
    site_id: r.site_id,
    lane: r.lane,
    job_id: r.job_id,
    run_id: r.run_id,
    target_id: r.target_id,
    payload_json: r.payload_json,
    status: 'running',
    attempt_count: r.attempt_count,
    claim_count: r.claim_count,
    max_attempts: r.max_attempts,
    priority: r.priority,
    available_at: r.available_at,
    lease_owner: owner,
    lease_expires_at: leaseExpiresAt,
    heartbeat_at: now,
    worker_guid: workerGuid,
    container_name: containerName,
    error: r.error,
    result_json: r.result_json,
    created_at: r.created_at,
    updated_at: now,
    started_at: now,
    finished_at: r.finished_at,
  };
}

/**
 * The one owner of `job_scheduler_workers`: every read and write of a site worker's row goes
 * through here (the fleet, the worker itself, the status command, the API and the metrics).
 *
 * A row's life: `starting` (reserved by the scheduler before launch) → `running` ⇄ `idle` (the
 * worker's heartbeats) → `stopped` (the worker exits) or `lost` (the scheduler gave up on it).
 * Status changes out of a live status are compare-and-set on the status, so a row the scheduler
 * declared lost is never revived by a late heartbeat.
 */
import type { Kysely } from 'kysely';
import { toJson } from '../db/dialect.js';
import type { Store } from '../db/open.js';
import type { Database, Worker } from '../db/schema.js';

/** Statuses of a worker that holds (or may claim) work. */
export const LIVE_WORKER_STATUSES = ['starting', 'running', 'idle'] as const;
/** Statuses of a worker that has ended; such rows are pruned after WORKER_HISTORY_SECONDS. */
export const TERMINAL_WORKER_STATUSES = ['stopped', 'lost'] as const;
export const WORKER_STATUSES = [...LIVE_WORKER_STATUSES, ...TERMINAL_WORKER_STATUSES] as const;
export type LiveWorkerStatus = (typeof LIVE_WORKER_STATUSES)[number];
export type WorkerStatus = (typeof WORKER_STATUSES)[number];

export function isLiveWorkerStatus(status: string): status is LiveWorkerStatus {
  return (LIVE_WORKER_STATUSES as readonly string[]).includes(status);
}

/** What the scheduler learnt about a worker that is gone (container state, exit code). */
export interface WorkerEnd {
  docker_state: string | null;
  exit_code: number | null;
}

/**
 * Connections the fleet may use in all, what each site worker may open, and what is set aside
 * for the schedulers' own pools and listeners.
 */
export interface ConnectionBudget {
  limit: number;
  perWorker: number;
  reserved: number;
}

/**
 * `reserved`: the `starting` row is written. `skipped`: a cap is reached. `over-budget`: one more worker would take the fleet past its
 * connection budget (checked only where the backend has a server connection limit).
 */
export type ReserveOutcome = 'reserved' | 'skipped' | 'over-budget';

/** The named lock every launch decision holds (Dialect.lockNamed). */
export const LAUNCH_LOCK = 'jobyard.fleet-launch';

/**
 * Writes the `starting` row of a new worker of this site if the caps and the connection budget
 * allow one. Decisions are serialised fleet-wide (an advisory lock on PostgreSQL, the single
 * writer on SQLite), so live workers are counted and the row inserted as one step: MAX_WORKERS,
 * MAX_WORKERS_PER_SITE and the connection budget hold with any number of replicas.
 */
export async function reserveStartingRow(
  store: Store,
  spec: { workerGuid: string; containerName: string; siteId: number; now: number | (() => number); maxWorkers: number; maxPerSite: number; budget?: ConnectionBudget | undefined },
): Promise<ReserveOutcome> {
  const { siteId } = spec;
  return store.db.transaction().execute(async (trx) => {
    // One launch decision at a time across every replica: the caps count live workers of every
    // site, so a per-site lock would let replicas deciding for two sites both take the last room.
    // The transaction is a few statements long; replicas wait milliseconds.
    await store.dialect.lockNamed(trx, LAUNCH_LOCK);
    // Read once the lock is held: the wait for it can be long (a replica cut off while holding it
    // keeps it until the server ends its session), and the start timeout counts from created_at.
    const now = typeof spec.now === 'function' ? spec.now() : spec.now;
    const live = await trx.selectFrom('job_scheduler_workers').select(['site_id']).where('status', 'in', LIVE_WORKER_STATUSES).execute();
    if (live.length >= spec.maxWorkers) return 'skipped';
    if (live.filter((w) => w.site_id === siteId).length >= spec.maxPerSite) return 'skipped';
    const { budget } = spec;
    if (budget && store.dialect.capabilities.connectionBudget && (live.length + 1) * budget.perWorker + budget.reserved > budget.limit) {
      return 'over-budget';
    }
    await trx
      .insertInto('job_scheduler_workers')
      .values({ worker_guid: spec.workerGuid, container_name: spec.containerName, site_id: siteId, status: 'starting', current_lanes_json: toJson(null), created_at: now, updated_at: now })
      .execute();
    return 'reserved';
  });
}

/**
 * Moves the row the scheduler wrote from `starting` to `running`, or writes it for a worker
 * started by hand. Throws when the row is in any other status (the scheduler gave up on it).
 */
export async function registerRunningRow(
  store: Store,
  spec: { workerGuid: string; containerName: string; siteId: number; lanes: string[]; now: number },
): Promise<void> {
  const { now } = spec;
  const row = {
    container_name: spec.containerName,
    site_id: spec.siteId,
    status: 'running',
    started_at: now,
    last_seen_at: now,
    idle_since: now,
    current_lanes_json: toJson(spec.lanes),
    updated_at: now,
  };
  await store.db
    .insertInto('job_scheduler_workers')
    .values({ worker_guid: spec.workerGuid, ...row, created_at: now })
    .onConflict((oc) => oc.column('worker_guid').doUpdateSet(row).where('job_scheduler_workers.status', '=', 'starting'))
    .execute();
  const current = await store.db.selectFrom('job_scheduler_workers').select('status').where('worker_guid', '=', spec.workerGuid).executeTakeFirst();
  if (current?.status !== 'running') {
    throw new Error(`worker ${spec.workerGuid} cannot start: its row is ${current?.status ?? 'missing'}`);
  }
}

/**
 * A worker's row heartbeat: running while it holds items, idle otherwise. False when the row is
 * no longer live (the scheduler declared it lost): the worker must stop.
 */
export async function writeWorkerHeartbeat(
  store: Store,
  workerGuid: string,
  beat: { busy: boolean; idleSince: number | null; claimedCount: number; taskLinks: unknown[]; now: number },
): Promise<boolean> {
  const alive = await store.db
    .updateTable('job_scheduler_workers')
    .set({
      status: beat.busy ? 'running' : 'idle',
      last_seen_at: beat.now,
      idle_since: beat.busy ? null : beat.idleSince,
      claimed_count: beat.claimedCount,
      task_links_json: toJson(beat.taskLinks),
      updated_at: beat.now,
    })
    .where('worker_guid', '=', workerGuid)
    .where('status', 'in', LIVE_WORKER_STATUSES)
    .returning('worker_guid')
    .executeTakeFirst();
  return alive !== undefined;
}

/** live → stopped: the worker exits on its own (idle, signal). */
export async function markWorkerStopped(store: Store, workerGuid: string, end: { claimedCount: number; now: number }): Promise<void> {
  const { now } = end;
  await store.db
    .updateTable('job_scheduler_workers')
    .set({ status: 'stopped', stopped_at: now, last_seen_at: now, idle_since: null, claimed_count: end.claimedCount, task_links_json: toJson([]), updated_at: now })
    .where('worker_guid', '=', workerGuid)
    .where('status', 'in', LIVE_WORKER_STATUSES)
    .execute();
}

/** live → lost, once: true only for the call that made the change. */
export async function markWorkerLost(store: Store, workerGuid: string, fields: WorkerEnd, now: number): Promise<boolean> {
  const row = await store.db
    .updateTable('job_scheduler_workers')
    .set({ status: 'lost', stopped_at: now, updated_at: now, ...fields })
    .where('worker_guid', '=', workerGuid)
    .where('status', 'in', LIVE_WORKER_STATUSES)
    .returning('worker_guid')
    .executeTakeFirst();
  return row !== undefined;
}

/** Records how an ended worker's process or container finished (its exit code and state). */
export async function recordWorkerExit(store: Store, workerGuid: string, exit: { exitCode: number | null; state: string; now: number }): Promise<void> {
  await store.db
    .updateTable('job_scheduler_workers')
    .set({ exit_code: exit.exitCode, docker_state: exit.state, updated_at: exit.now })
    .where('worker_guid', '=', workerGuid)
    .execute();
}

/** Worker rows by site, oldest first: live ones only unless `includeTerminal`. */
export async function listWorkers(store: Store, options: { includeTerminal?: boolean } = {}): Promise<Worker[]> {
  let q = store.db.selectFrom('job_scheduler_workers').selectAll();
  if (!options.includeTerminal) q = q.where('status', 'in', LIVE_WORKER_STATUSES);
  return q.orderBy('site_id').orderBy('created_at').orderBy('worker_guid').execute();
}

/**
 * Every live row plus the terminal ones that ended at or after `endedSince`, newest first. A
 * terminal row's end is stopped_at, or updated_at when stopped_at is missing.
 */
export async function listRecentWorkers(store: Store, options: { endedSince: number }): Promise<Worker[]> {
  return store.db
    .selectFrom('job_scheduler_workers')
    .selectAll()
    .where((eb) => eb.or([eb('status', 'not in', TERMINAL_WORKER_STATUSES), eb(eb.fn.coalesce('stopped_at', 'updated_at'), '>=', options.endedSince)]))
    .orderBy('created_at', 'desc')
    .orderBy('worker_guid')
    .execute();
}

/** Deletes terminal rows that ended before `endedBefore`; returns how many. */
export async function pruneEndedWorkers(store: Store, options: { endedBefore: number }): Promise<number> {
  const pruned = await store.db
    .deleteFrom('job_scheduler_workers')
    .where('status', 'in', TERMINAL_WORKER_STATUSES)
    .where((eb) => eb(eb.fn.coalesce('stopped_at', 'updated_at'), '<', options.endedBefore))
    .executeTakeFirst();
  return Number(pruned.numDeletedRows);
}

export interface LiveWorkerCounts {
  live: number;
  by_status: Record<LiveWorkerStatus, number>;
  /** Sites (null: site-less) with live workers, site-less first, then by id. */
  by_site: Array<{ site_id: number | null; live: number }>;
}

/** Live workers by status and by site (the status command). */
export async function countLiveWorkers(store: Store): Promise<LiveWorkerCounts> {
  const groups = await store.db
    .selectFrom('job_scheduler_workers')
    .select((eb) => ['status', 'site_id', eb.fn.countAll().as('n')])
    .where('status', 'in', LIVE_WORKER_STATUSES)
    .groupBy(['status', 'site_id'])
    .execute();
  const byStatus = Object.fromEntries(LIVE_WORKER_STATUSES.map((s) => [s, 0])) as Record<LiveWorkerStatus, number>;
  const bySite = new Map<number | null, number>();
  let live = 0;
  for (const g of groups) {
    const n = Number(g.n);
    byStatus[g.status as LiveWorkerStatus] += n;
    bySite.set(g.site_id, (bySite.get(g.site_id) ?? 0) + n);
    live += n;
  }
  return {
    live,
    by_status: byStatus,
    by_site: [...bySite].map(([site_id, n]) => ({ site_id, live: n })).sort((a, b) => (a.site_id ?? 0) - (b.site_id ?? 0)),
  };
}

/** Rows per status, every known status present (zero when none), plus any other status found. */
export async function countWorkersByStatus(store: Store): Promise<Record<string, number>> {
  const groups = await store.db
    .selectFrom('job_scheduler_workers')
    .select((eb) => ['status', eb.fn.countAll().as('n')])
    .groupBy('status')
    .execute();
  const counts: Record<string, number> = Object.fromEntries(WORKER_STATUSES.map((s) => [s, 0]));
  for (const g of groups) counts[g.status] = Number(g.n);
  return counts;
}

/** Live workers (starting, running, idle) of one site; a Kysely handle so it runs inside a caller's transaction. */
export async function countLiveWorkersOfSite(db: Kysely<Database>, siteId: number): Promise<number> {
  const row = await db
    .selectFrom('job_scheduler_workers')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('site_id', '=', siteId)
    .where('status', 'in', LIVE_WORKER_STATUSES)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

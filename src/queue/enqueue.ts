/**
 * Adding work items. Items with a dedupe key are inserted with ON CONFLICT DO NOTHING, so a
 * second enqueue of the same key — even from another process at the same instant — creates
 * nothing and returns the item that already holds the key.
 */
import type { Kysely } from 'kysely';
import { UserError } from '../errors.js';
import { clockNow } from '../db/clock.js';
import { bulkInsert } from '../db/bulk-insert.js';
import type { Backend } from '../db/dialect.js';
import type { Store } from '../db/open.js';
import type { Database, NewWorkItem, WorkItem } from '../db/schema.js';
import { defaultPriority, retryPolicyFor } from './kinds.js';
import { serialisePayload } from './payload.js';
import { signalLocalWork } from './wakeup.js';

export interface EnqueueRequest {
  kind: string;
  siteId?: number | null;
  lane?: string;
  jobId?: number | null;
  runId?: number | null;
  targetId?: number | null;
  /** A JSON object; keys naming secrets are refused. */
  payload?: Record<string, unknown>;
  /** Higher runs first; defaults per kind (see kinds.ts). */
  priority?: number;
  /** Epoch ms; defaults to now. */
  availableAt?: number;
  dedupeKey?: string | null;
  /** Defaults to the kind's retry policy. */
  maxAttempts?: number;
}

export interface EnqueueResult {
  item: WorkItem;
  /** False when the dedupe key already belonged to an item, which is returned instead. */
  created: boolean;
}

/** Rows per INSERT (one JSON parameter each, see db/bulk-insert.ts). */
const CHUNK = 1000;

/** The columns an enqueue writes; the rest take their defaults (see `asInserted`). */
const COLUMNS = [
  'kind', 'site_id', 'lane', 'job_id', 'run_id', 'target_id', 'payload_json', 'priority',
  'available_at', 'dedupe_key', 'max_attempts', 'created_at', 'updated_at',
] as const satisfies ReadonlyArray<keyof NewWorkItem>;

type Row = { [K in (typeof COLUMNS)[number]]: K extends 'payload_json' ? string : Exclude<NewWorkItem[K], undefined> };

export interface EnqueueOptions {
  now?: number;
  /**
   * Run inside the caller's transaction (the ticker writes runs and items together). The caller
   * then wakes local consumers after its commit with `signalLocalWork`.
   */
  trx?: Kysely<Database>;
}

export async function enqueueWorkItems(
  store: Store,
  requests: readonly EnqueueRequest[],
  options: EnqueueOptions = {},
): Promise<EnqueueResult[]> {
  const now = options.now ?? (await clockNow(store.clock));
  // Validate everything before writing anything: one bad request fails the call, not half of it.
  const rows = requests.map((r, i) => toRow(r, now, requests.length > 1 ? `items[${i}].` : ''));
  const db = options.trx ?? store.db;
  const results: EnqueueResult[] = [];
  for (let start = 0; start < rows.length; start += CHUNK) {
    results.push(...(await insertChunk(db, store.dialect.backend, rows.slice(start, start + CHUNK))));
  }
  const created = results.filter((r) => r.created && r.item.available_at <= now);
  if (created.length > 0 && !options.trx) signalLocalWork(store, created.map((r) => r.item.site_id));
  return results;
}

export async function enqueueWorkItem(
  store: Store,
  request: EnqueueRequest,
  options: EnqueueOptions = {},
): Promise<EnqueueResult> {
  const [result] = await enqueueWorkItems(store, [request], options);
  return result!;
}

/**
 * Enqueue for a caller that needs only how many items were created and their sites (the ticker,
 * inside its own transaction): the same rows, order and conflict rule as enqueueWorkItems, but
 * only ids come back, and no WorkItem is built and no payload parsed back per item (that was
 * a fifth of a tick's node CPU). The caller wakes consumers after its commit.
 */
export async function insertWorkItems(
  store: Store,
  requests: readonly EnqueueRequest[],
  options: { now: number; trx: Kysely<Database> },
): Promise<{ created: number; sites: Array<number | null> }> {
  const rows = requests.map((r, i) => toRow(r, options.now, requests.length > 1 ? `items[${i}].` : ''));
  let created = 0;
  for (let start = 0; start < rows.length; start += CHUNK) {
    const chunk = rows.slice(start, start + CHUNK);
    const ordered = chunk.some((r) => r.dedupe_key !== null) ? chunk.sort((a, b) => keyOrder(a.dedupe_key, b.dedupe_key)) : chunk;
    const inserted = await bulkInsert(options.trx, store.dialect.backend, {
      table: 'job_scheduler_work_items',
      columns: COLUMNS,
      rows: ordered.map(cellsOf),
      onConflict: 'on conflict (dedupe_key) where dedupe_key is not null do nothing',
      returning: ['id'],
    });
    created += inserted.length;
  }
  return { created, sites: [...new Set(rows.map((r) => r.site_id))] };
}

async function insertChunk(db: Kysely<Database>, backend: Backend, rows: Row[]): Promise<EnqueueResult[]> {
  // Rows go in in dedupe-key order (unkeyed ones first, in their given order): two processes
  // inserting overlapping keys then take the unique-index locks in the same order and cannot
  // deadlock. Results are mapped back to the caller's order below.
  const keyed = rows.some((r) => r.dedupe_key !== null);
  const ordered = keyed ? [...rows].sort((a, b) => keyOrder(a.dedupe_key, b.dedupe_key)) : rows;
  // Only the id comes back (and the key, to tell which rows were created): the rest of each item
  // is what was written plus the columns' defaults, so the payload is not sent back and parsed.
  const inserted = await bulkInsert<{ id: number | string; dedupe_key: string | null }>(db, backend, {
    table: 'job_scheduler_work_items',
    columns: COLUMNS,
    rows: ordered.map(cellsOf),
    // Only where a key can conflict: with ON CONFLICT, PostgreSQL inserts every row speculatively
    // (an arbiter-index check, a speculative lock and a confirm record per row). A null key never
    // enters the partial unique index, so an unkeyed chunk cannot conflict.
    ...(keyed ? { onConflict: 'on conflict (dedupe_key) where dedupe_key is not null do nothing' } : {}),
    returning: ['id', 'dedupe_key'],
  });
  // Identity values grow within a statement, and unkeyed rows keep their relative order.
  const ids = inserted.map((r) => ({ id: Number(r.id), dedupe_key: r.dedupe_key })).sort((a, b) => a.id - b.id);
  if (!keyed) {
    // No dedupe keys (the common bulk case): every row was created, the i-th id is the i-th row's.
    if (ids.length !== rows.length) throw new Error(`enqueue: inserted ${ids.length} of ${rows.length} unkeyed items`);
    return rows.map((row, i) => ({ item: asInserted(ids[i]!.id, row), created: true }));
  }
  const rowByKey = new Map<string, Row>();
  const unkeyedRows: Row[] = [];
  for (const row of ordered) {
    if (row.dedupe_key === null) unkeyedRows.push(row);
    else if (!rowByKey.has(row.dedupe_key)) rowByKey.set(row.dedupe_key, row);
  }
  const byKey = new Map<string, WorkItem>();
  const unkeyed: WorkItem[] = [];
  for (const { id, dedupe_key } of ids) {
    if (dedupe_key === null) unkeyed.push(asInserted(id, unkeyedRows[unkeyed.length]!));
    else byKey.set(dedupe_key, asInserted(id, rowByKey.get(dedupe_key)!));
  }
  const createdKeys = new Set(byKey.keys());
  const missingKeys = rows
    .map((r) => r.dedupe_key)
    .filter((k): k is string => typeof k === 'string' && !byKey.has(k));
  if (missingKeys.length > 0) {
    const existing = await db
      .selectFrom('job_scheduler_work_items')
      .selectAll()
      .where('dedupe_key', 'in', [...new Set(missingKeys)])
      .execute();
    for (const item of existing) byKey.set(item.dedupe_key!, item);
  }
  let nextUnkeyed = 0;
  const seenKeys = new Set<string>();
  return rows.map((row) => {
    if (typeof row.dedupe_key !== 'string') return { item: unkeyed[nextUnkeyed++]!, created: true };
    const item = byKey.get(row.dedupe_key);
    if (!item) throw new Error(`enqueue: item with dedupe key ${row.dedupe_key} vanished during enqueue`);
    // A key repeated within one call is created once; later copies report the first.
    const created = createdKeys.has(row.dedupe_key) && !seenKeys.has(row.dedupe_key);
    seenKeys.add(row.dedupe_key);
    return { item, created };
  });
}

/** A row's cells in COLUMNS order (spelled out: a map over COLUMNS was a measurable share of a bulk enqueue). */
function cellsOf(r: Row): Array<string | number | null> {
  return [
    r.kind, r.site_id, r.lane, r.job_id, r.run_id, r.target_id, r.payload_json, r.priority,
    r.available_at, r.dedupe_key, r.max_attempts, r.created_at, r.updated_at,
  ];
}

/** A newly inserted item as the database holds it: the written row plus the columns' defaults. */
function asInserted(id: number, row: Row): WorkItem {
  // Spelled out: `{ ...row, payload_json: … }` (a spread then an overridden key) takes V8's slow
  // path, ~100 µs per item.
  return {
    id,
    dedupe_key: row.dedupe_key,
    kind: row.kind,
    site_id: row.site_id,
    lane: row.lane,
    job_id: row.job_id,
    run_id: row.run_id,
    target_id: row.target_id,
    payload_json: JSON.parse(row.payload_json) as Record<string, unknown>,
    status: 'queued',
    attempt_count: 0,
    claim_count: 0,
    max_attempts: row.max_attempts,
    priority: row.priority,
    available_at: row.available_at,
    lease_owner: null,
    lease_expires_at: null,
    heartbeat_at: null,
    worker_guid: null,
    container_name: null,
    error: null,
    result_json: null,
    created_at: row.created_at,
    updated_at: row.updated_at,
    started_at: null,
    finished_at: null,
  };
}

function keyOrder(a: string | null | undefined, b: string | null | undefined): number {
  if (a == null) return b == null ? 0 : -1;
  if (b == null) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function toRow(r: EnqueueRequest, now: number, prefix: string): Row {
  if (typeof r.kind !== 'string' || !/^[a-z][a-z0-9_]*$/.test(r.kind)) {
    throw new UserError(`${prefix}kind: "${String(r.kind)}" is not a kind name (lowercase letters, digits, _)`);
  }
  const priority = r.priority ?? defaultPriority(r.kind);
  if (!Number.isInteger(priority)) throw new UserError(`${prefix}priority: must be an integer, got ${String(r.priority)}`);
  const availableAt = r.availableAt ?? now;
  if (!Number.isFinite(availableAt)) throw new UserError(`${prefix}available_at: must be epoch milliseconds`);
  const maxAttempts = r.maxAttempts ?? retryPolicyFor(r.kind).maxAttempts;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new UserError(`${prefix}max_attempts: must be an integer >= 1, got ${String(r.maxAttempts)}`);
  }
  const lane = r.lane ?? 'default';
  if (lane === '') throw new UserError(`${prefix}lane: must not be empty`);
  return {
    kind: r.kind,
    site_id: r.siteId ?? null,
    lane,
    job_id: r.jobId ?? null,
    run_id: r.runId ?? null,
    target_id: r.targetId ?? null,
    payload_json: serialisePayload(r.payload, `${prefix}payload`),
    priority,
    available_at: Math.trunc(availableAt),
    dedupe_key: r.dedupeKey ?? null,
    max_attempts: maxAttempts,
    created_at: now,
    updated_at: now,
  };
}

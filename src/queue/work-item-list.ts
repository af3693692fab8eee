/**
 * Work-item lists (dashboard, API and CLI): one filter, one keyset page newest first, a capped
 * count, and a payload path search. Each filter the dashboard offers reads an index range
 * (migration 0018): status → (status, id); status and site → (status, site_id, id); a worker →
 * (lease_owner, id) and (worker_guid, id), looked up separately and merged, because `a OR b`
 * over two columns defeats both indexes. The payload search runs in the database; where no index
 * serves it (SQLite) it is bounded to the newest PAYLOAD_SEARCH_WINDOW items matching the other
 * filters, and the page says how many it searched.
 */
import type { SelectQueryBuilder } from 'kysely';
import { countCapped, COUNT_CAP } from '../db/capped-count.js';
import type { Store } from '../db/open.js';
import type { Database, WorkItem } from '../db/schema.js';

export interface ItemFilter {
  /** One status, or any of several. */
  status?: string | readonly string[];
  kind?: string | readonly string[];
  /** A site id, or null for site-less items. */
  site?: number | null;
  lane?: string;
  /** A lease owner or worker guid. */
  worker?: string;
  runId?: number;
  /** created_at range, epoch ms (inclusive from, exclusive to). */
  from?: number;
  to?: number;
  /** `a.b.c=value`: items whose payload has that value at that path. */
  payloadPath?: string;
  payloadValue?: string;
}

/** How many of the newest items matching the other filters an unindexed payload search tests. */
export const PAYLOAD_SEARCH_WINDOW = 5_000;

type ItemQuery = SelectQueryBuilder<Database, 'job_scheduler_work_items', {}>;

const oneOrMany = (q: ItemQuery, column: 'status' | 'kind', v: string | readonly string[] | undefined): ItemQuery =>
  v === undefined ? q : typeof v === 'string' ? q.where(column, '=', v) : q.where(column, 'in', v);

/** The filter without the worker and payload terms, below `beforeId`. */
function base(store: Store, f: ItemFilter, beforeId?: number): ItemQuery {
  let q = store.db.selectFrom('job_scheduler_work_items');
  q = oneOrMany(q, 'status', f.status);
  q = oneOrMany(q, 'kind', f.kind);
  if (f.site === null) q = q.where('site_id', 'is', null);
  else if (f.site !== undefined) q = q.where('site_id', '=', f.site);
  if (f.lane) q = q.where('lane', '=', f.lane);
  if (f.runId !== undefined) q = q.where('run_id', '=', f.runId);
  if (f.from !== undefined) q = q.where('created_at', '>=', f.from);
  if (f.to !== undefined) q = q.where('created_at', '<', f.to);
  if (beforeId !== undefined) q = q.where('id', '<', beforeId);
  return q;
}

const searchesPayload = (f: ItemFilter): f is ItemFilter & { payloadPath: string } => Boolean(f.payloadPath);

/** The whole filter as one or two queries (a worker filter is two index lookups; their union is the answer). */
function arms(store: Store, f: ItemFilter, beforeId?: number, withPayload = true): ItemQuery[] {
  let q = base(store, f, beforeId);
  if (withPayload && searchesPayload(f)) q = q.where(store.dialect.jsonSearch.valueAt('payload_json', f.payloadPath.split('.'), f.payloadValue ?? ''));
  if (!f.worker) return [q];
  return [q.where('lease_owner', '=', f.worker), q.where('worker_guid', '=', f.worker)];
}

/** Newest first, at most `limit`: each arm reads its own index in id order, merged here. */
async function newest(queries: ItemQuery[], limit: number): Promise<WorkItem[]> {
  const lists = await Promise.all(queries.map((q) => q.selectAll().orderBy('id', 'desc').limit(limit).execute()));
  if (lists.length === 1) return lists[0]!;
  const byId = new Map<number, WorkItem>();
  for (const row of lists.flat()) byId.set(row.id, row);
  return [...byId.values()].sort((a, b) => b.id - a.id).slice(0, limit);
}

async function countArms(store: Store, queries: ItemQuery[]): Promise<number> {
  if (queries.length === 1) return countCapped(store.db, queries[0]!);
  const [first, ...rest] = queries.map((q) => q.select('id'));
  // UNION drops an item both arms find; the limit applies to the union, so the count stops early.
  const union = rest.reduce((u, q) => u.union(q), first!).limit(COUNT_CAP + 1);
  const row = await store.db.selectFrom(union.as('u')).select((eb) => eb.fn.countAll().as('n')).executeTakeFirst();
  return Number(row?.n ?? 0);
}

export interface ListOptions {
  /** Continue below this id (the previous page's next_before). */
  before?: number;
  limit: number;
  /** Rows an unindexed payload search tests per page (default PAYLOAD_SEARCH_WINDOW). */
  searchWindow?: number;
}

export interface ItemPage {
  items: WorkItem[];
  /** The id to continue below, or null on the last page. */
  next_before: number | null;
  /** Capped count of the matching items; with a bounded payload search, of those matching the other filters. */
  total: number;
  /** Set when the payload search was bounded: how many items (newest first, matching the other filters) it tested. */
  scanned?: number;
}

/** Items below the `before` id matching the filter, newest first, and a capped count (omit with `count: false`). */
export async function listItems(store: Store, f: ItemFilter, options: ListOptions & { count?: boolean }): Promise<ItemPage> {
  const bounded = searchesPayload(f) && !store.dialect.jsonSearch.indexed;
  const counting = options.count !== false;
  const total = counting ? countArms(store, arms(store, f, undefined, !bounded)) : Promise.resolve(0);
  if (bounded) return { ...(await boundedSearch(store, f, options)), total: await total };
  const rows = await newest(arms(store, f, options.before), options.limit + 1);
  const items = rows.slice(0, options.limit);
  return { items, next_before: rows.length > options.limit ? items.at(-1)!.id : null, total: await total };
}

/**
 * The payload search where no index serves it: tested in the database on the newest window of
 * items matching the other filters. More hits than a page → continue below the last hit; a full
 * window → continue below the window, so the next page searches the next window.
 */
async function boundedSearch(store: Store, f: ItemFilter & { payloadPath: string }, options: ListOptions) {
  const size = options.searchWindow ?? PAYLOAD_SEARCH_WINDOW;
  const windowIds = await newestIds(arms(store, f, options.before, false), size);
  if (windowIds.length === 0) return { items: [], next_before: null, scanned: 0 };
  const oldest = windowIds.at(-1)!;
  // The window holds every item matching the other filters in [oldest, before): the full filter
  // restricted to that id range tests exactly the window's rows.
  const rows = await newest(arms(store, f, options.before).map((q) => q.where('id', '>=', oldest)), options.limit + 1);
  const items = rows.slice(0, options.limit);
  const next = rows.length > options.limit ? items.at(-1)!.id : windowIds.length === size ? oldest : null;
  return { items, next_before: next, scanned: windowIds.length };
}

async function newestIds(queries: ItemQuery[], limit: number): Promise<number[]> {
  const lists = await Promise.all(queries.map((q) => q.select('id').orderBy('id', 'desc').limit(limit).execute()));
  if (lists.length === 1) return lists[0]!.map((r) => r.id);
  return [...new Set(lists.flat().map((r) => r.id))].sort((a, b) => b - a).slice(0, limit);
}

/** Ids matching the filter, newest first, one keyset window at a time (for bulk actions); `last` is where to continue, null at the end. */
export async function idsMatching(store: Store, f: ItemFilter, options: ListOptions): Promise<{ ids: number[]; last: number | null }> {
  if (searchesPayload(f) && !store.dialect.jsonSearch.indexed) {
    const page = await boundedSearch(store, f, options);
    return { ids: page.items.map((i) => i.id), last: page.next_before };
  }
  const ids = await newestIds(arms(store, f, options.before), options.limit);
  return { ids, last: ids.length === options.limit ? ids.at(-1)! : null };
}

export { COUNT_CAP };

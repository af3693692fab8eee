/**
 * Work-item lists (dashboard, API and CLI): one filter, one keyset page newest first, a capped
 * count, and a payload path search. Each filter the dashboard offers reads index ranges
 * (migrations 0018, 0020): status → (status, id); status and site → (status, site_id, id); a worker →
 * (lease_owner, id) and (worker_guid, id), looked up separately and merged, because `a OR b`
 * over two columns defeats both indexes. A kind or a creation-time range is split by status
 * (splitByStatus): finished and queued items through per-status partial indexes led by kind or
 * created_at, running ones (the backlog) walked through the owner index, which carries their kind
 * and created_at (migration 0028); the arms are merged newest first.
 * A time-filtered list is ordered by (created_at, id), the order its indexes hold. The payload
 * search runs in the database; no index serves it (migration 0023), so it is bounded to the newest
 * PAYLOAD_SEARCH_WINDOW items matching the other filters, and the page says how many it searched.
 */
import type { CompiledQuery, SelectQueryBuilder } from 'kysely';
import { countCapped, COUNT_CAP } from '../db/capped-count.js';
import type { Store } from '../db/open.js';
import type { Database, WorkItem } from '../db/schema.js';
import { FINISHED_STATUSES, WORK_STATUSES } from './kinds.js';

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

/** Statuses with partial indexes led by kind and by created_at (migration 0020); running items are walked (0028). */
const INDEXED: ReadonlySet<string> = new Set([...FINISHED_STATUSES, 'queued']);

const list = (v: string | readonly string[]): readonly string[] => (typeof v === 'string' ? [v] : v);

const oneOrMany = (q: ItemQuery, column: 'status' | 'kind', v: string | readonly string[] | undefined): ItemQuery =>
  v === undefined ? q : typeof v === 'string' ? q.where(column, '=', v) : q.where(column, 'in', v);

/** A time-filtered list pages in creation order (its indexes lead with created_at); any other in id order. */
export const byCreation = (f: ItemFilter): boolean => f.from !== undefined || f.to !== undefined;

/**
 * The filter as disjoint index ranges, one per status (and, for indexed statuses listed in id
 * order, one per kind), when it has a kind or a time range: no index leads with either over all
 * items, but per finished status and for queued items one does, and running items are walked in
 * the owner index, whose entries hold kind and created_at. Statuses outside WORK_STATUSES are never written, so the arms cover every item.
 */
export function splitByStatus(f: ItemFilter): ItemFilter[] {
  if (f.kind === undefined && !byCreation(f)) return [f];
  const statuses = [...new Set(f.status === undefined ? WORK_STATUSES : list(f.status))];
  return statuses.flatMap((status) =>
    INDEXED.has(status) && f.kind !== undefined && !byCreation(f)
      ? [...new Set(list(f.kind!))].map((kind) => ({ ...f, status, kind }))
      : [{ ...f, status }],
  );
}

/** Where a page continues: below this item in the list's order. */
interface Cursor {
  id: number;
  /** The item's created_at (lists in creation order). */
  createdAt?: number;
}

/** The filter without the worker and payload terms, below the cursor. */
function base(store: Store, f: ItemFilter, below?: Cursor): ItemQuery {
  let q = store.db.selectFrom('job_scheduler_work_items');
  // An indexed status in creation order is read through its (created_at, id) index: the status
  // term must stay (the partial index's WHERE) without drawing SQLite to the (status, id) index.
  if (byCreation(f) && typeof f.status === 'string' && INDEXED.has(f.status)) q = q.where(store.dialect.broadEquality('status', f.status));
  else q = oneOrMany(q, 'status', f.status);
  q = oneOrMany(q, 'kind', f.kind);
  if (f.site === null) q = q.where('site_id', 'is', null);
  else if (f.site !== undefined) q = q.where('site_id', '=', f.site);
  if (f.lane) q = q.where('lane', '=', f.lane);
  if (f.runId !== undefined) q = q.where('run_id', '=', f.runId);
  if (f.from !== undefined) q = q.where('created_at', '>=', f.from);
  if (f.to !== undefined) q = q.where('created_at', '<', f.to);
  return below ? belowCursor(q, below) : q;
}

function belowCursor(q: ItemQuery, c: Cursor): ItemQuery {
  if (c.createdAt === undefined) return q.where('id', '<', c.id);
  // The redundant `created_at <=` bounds the index range; the tuple orders ties by id.
  return q.where('created_at', '<=', c.createdAt).where((eb) => eb(eb.refTuple('created_at', 'id'), '<', eb.tuple(c.createdAt!, c.id)));
}

const searchesPayload = (f: ItemFilter): f is ItemFilter & { payloadPath: string } => Boolean(f.payloadPath);

/** One query of a filter; `backlog`: it walks the running items (no index leads with its terms there). */
interface Arm {
  query: ItemQuery;
  backlog: boolean;
}

/** The whole filter as index ranges: per status (splitByStatus), and a worker as two lookups (their union is the answer). */
function arms(store: Store, f: ItemFilter, below?: Cursor, withPayload = true): Arm[] {
  const parts = splitByStatus(f);
  const split = parts[0] !== f;
  return parts.flatMap((part) => {
    let q = base(store, part, below);
    if (withPayload && searchesPayload(f)) q = q.where(store.dialect.jsonSearch.valueAt('payload_json', f.payloadPath.split('.'), f.payloadValue ?? ''));
    const backlog = split && !INDEXED.has(String(part.status));
    const queries = f.worker ? [q.where('lease_owner', '=', f.worker), q.where('worker_guid', '=', f.worker)] : [q];
    return queries.map((query) => ({ query, backlog }));
  });
}

const queriesOf = (list: Arm[]) => list.map((a) => a.query);

type Keyed = { id: number; created_at: number };

/** Newest first in the list's order: (created_at, id) descending, or id descending. */
const newerFirst = (creation: boolean) => (a: Keyed, b: Keyed) =>
  creation && a.created_at !== b.created_at ? Number(b.created_at) - Number(a.created_at) : b.id - a.id;

const ordered = (q: ItemQuery, creation: boolean): ItemQuery => (creation ? q.orderBy('created_at', 'desc').orderBy('id', 'desc') : q.orderBy('id', 'desc'));

/** Merge arms read newest first each: an item two worker arms both find is kept once. */
function merge<T extends Keyed>(lists: T[][], creation: boolean, limit: number): T[] {
  if (lists.length === 1) return lists[0]!;
  const byId = new Map<number, T>();
  for (const row of lists.flat()) byId.set(row.id, row);
  return [...byId.values()].sort(newerFirst(creation)).slice(0, limit);
}

/** Newest first, at most `limit`: each arm reads its own index in order, merged here. */
async function newest(queries: ItemQuery[], creation: boolean, limit: number): Promise<WorkItem[]> {
  const lists = await Promise.all(queries.map((q) => ordered(q, creation).selectAll().limit(limit).execute()));
  return merge(lists, creation, limit);
}

async function newestKeys(queries: ItemQuery[], creation: boolean, limit: number): Promise<Keyed[]> {
  if (!creation) {
    // Ids only: an index-only read of (status, id) and the like; created_at would cost a heap
    // fetch per row (5,000 for a payload-search window) and id order never looks at it.
    const lists = await Promise.all(queries.map((q) => ordered(q, false).select('id').limit(limit).execute()));
    return merge(lists.map((rows) => rows.map((r) => ({ id: r.id, created_at: 0 }))), false, limit);
  }
  const lists = await Promise.all(queries.map((q) => ordered(q, creation).select(['id', 'created_at']).limit(limit).execute()));
  return merge(lists, creation, limit);
}

/** Capped count over the arms: disjoint status arms are added up (UNION ALL); worker arms overlap, so UNION drops an item both find. */
async function countArms(store: Store, queries: ItemQuery[], overlapping: boolean): Promise<number> {
  if (queries.length === 1) return countCapped(store.db, queries[0]!);
  const [first, ...rest] = queries.map((q) => q.select('id'));
  // The limit applies to the union, so the count stops early.
  const union = rest.reduce((u, q) => (overlapping ? u.union(q) : u.unionAll(q)), first!).limit(COUNT_CAP + 1);
  const row = await store.db.selectFrom(union.as('u')).select((eb) => eb.fn.countAll().as('n')).executeTakeFirst();
  return Number(row?.n ?? 0);
}

/**
 * The cursor below the `before` item: its id, and in a creation-ordered list its created_at. An
 * item deleted since (a bulk action, pruning) lends the created_at of the next older id, which is
 * the same position while ids and creation times rise together (items get both at enqueue).
 */
async function cursorAt(store: Store, f: ItemFilter, before: number | undefined): Promise<Cursor | undefined> {
  if (before === undefined) return undefined;
  if (!byCreation(f)) return { id: before };
  const row = await store.db
    .selectFrom('job_scheduler_work_items')
    .select('created_at')
    .where('id', '<=', before)
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  // Nothing at or below that id: nothing older is left either.
  return { id: before, createdAt: row ? Number(row.created_at) : Number.MIN_SAFE_INTEGER };
}

/** Whether a key lies below the cursor in the list's order (no cursor: every key). */
function isBelow(k: Keyed, c: Cursor | undefined): boolean {
  if (!c) return true;
  if (c.createdAt === undefined || Number(k.created_at) === c.createdAt) return k.id < c.id;
  return Number(k.created_at) < c.createdAt;
}

async function rowsOf(store: Store, keys: Keyed[]): Promise<WorkItem[]> {
  if (keys.length === 0) return [];
  return store.db.selectFrom('job_scheduler_work_items').selectAll().where('id', 'in', keys.map((k) => k.id)).execute();
}

export interface ListOptions {
  /** Continue below this item (the previous page's next_before). */
  before?: number;
  limit: number;
  /** Rows an unindexed payload search tests per page (default PAYLOAD_SEARCH_WINDOW). */
  searchWindow?: number;
}

export interface ItemPage {
  items: WorkItem[];
  /** The item to continue below (an id), or null on the last page. */
  next_before: number | null;
  /** Capped count of the matching items; with a bounded payload search, of those matching the other filters. */
  total: number;
  /** Set when the payload search was bounded: how many items (newest first, matching the other filters) it tested. */
  scanned?: number;
}

/** Items below the `before` item matching the filter, newest first, and a capped count (omit with `count: false`). */
export async function listItems(store: Store, f: ItemFilter, options: ListOptions & { count?: boolean }): Promise<ItemPage> {
  const bounded = searchesPayload(f) && !store.dialect.jsonSearch.indexed;
  const counting = options.count !== false;
  const below = await cursorAt(store, f, options.before);
  if (bounded) {
    const total = counting ? countArms(store, queriesOf(arms(store, f, undefined, false)), Boolean(f.worker)) : Promise.resolve(0);
    return { ...(await boundedSearch(store, f, below, options)), total: await total };
  }
  const creation = byCreation(f);
  const all = arms(store, f, below);
  const inOrder = queriesOf(all.filter((a) => !a.backlog));
  const backlog = queriesOf(all.filter((a) => a.backlog));
  // The backlog arm walks every running item testing each: one walk (to the count's
  // cap) serves both the count and the first page.
  const walk = backlog.length > 0 && counting ? await newestKeys(queriesOf(arms(store, f).filter((a) => a.backlog)), creation, COUNT_CAP + 1) : null;
  const countInOrder = counting ? countArms(store, queriesOf(arms(store, f).filter((a) => !a.backlog)), Boolean(f.worker)) : Promise.resolve(0);
  const backlogKeys = walk && (below === undefined || walk.length <= COUNT_CAP) ? walk.filter((k) => isBelow(k, below)).slice(0, options.limit + 1) : await newestKeys(backlog, creation, options.limit + 1);
  const [fromIndexes, fromBacklog] = await Promise.all([inOrder.length > 0 ? newest(inOrder, creation, options.limit + 1) : [], rowsOf(store, backlogKeys)]);
  const rows = merge([fromIndexes, fromBacklog], creation, options.limit + 1);
  // The arms are disjoint by status, so their counts add up (then capped like any count).
  const total = Math.min(COUNT_CAP + 1, (await countInOrder) + (walk?.length ?? 0));
  const items = rows.slice(0, options.limit);
  return { items, next_before: rows.length > options.limit ? items.at(-1)!.id : null, total };
}

/**
 * The payload search where no index serves it: tested in the database on the newest window of
 * items matching the other filters. More hits than a page → continue below the last hit; a full
 * window → continue below the window, so the next page searches the next window.
 */
async function boundedSearch(store: Store, f: ItemFilter & { payloadPath: string }, below: Cursor | undefined, options: ListOptions) {
  const size = options.searchWindow ?? PAYLOAD_SEARCH_WINDOW;
  const creation = byCreation(f);
  const window = await newestKeys(queriesOf(arms(store, f, below, false)), creation, size);
  if (window.length === 0) return { items: [], next_before: null, scanned: 0 };
  const last = window.at(-1)!;
  const oldest: Cursor = creation ? { id: last.id, createdAt: Number(last.created_at) } : { id: last.id };
  // The window's rows matched the other filters when it was read; the payload test runs on exactly
  // those rows, found by primary key (an id range instead let PostgreSQL walk every newer item of
  // any status: 100,000 rows for a 5,000-item window of failed items).
  const search = store.db
    .selectFrom('job_scheduler_work_items')
    .where('id', 'in', window.map((k) => k.id))
    .where(store.dialect.jsonSearch.valueAt('payload_json', f.payloadPath.split('.'), f.payloadValue ?? ''));
  const rows = await newest([search], creation, options.limit + 1);
  const items = rows.slice(0, options.limit);
  const next = rows.length > options.limit ? items.at(-1)!.id : window.length === size ? oldest.id : null;
  return { items, next_before: next, scanned: window.length };
}

/** Ids matching the filter, newest first, one keyset window at a time (for bulk actions); `last` is where to continue, null at the end. */
export async function idsMatching(store: Store, f: ItemFilter, options: ListOptions): Promise<{ ids: number[]; last: number | null }> {
  const below = await cursorAt(store, f, options.before);
  if (searchesPayload(f) && !store.dialect.jsonSearch.indexed) {
    const page = await boundedSearch(store, f, below, options);
    return { ids: page.items.map((i) => i.id), last: page.next_before };
  }
  const ids = (await newestKeys(queriesOf(arms(store, f, below)), byCreation(f), options.limit)).map((r) => r.id);
  return { ids, last: ids.length === options.limit ? ids.at(-1)! : null };
}

/** The queries a page of this filter runs, compiled (test/queue/plans.test.ts explains each). */
export function pageQueries(store: Store, f: ItemFilter, limit = 50): CompiledQuery[] {
  return arms(store, f).map((a) => ordered(a.query, byCreation(f)).selectAll().limit(limit + 1).compile());
}

export { COUNT_CAP };

/**
 * Work items for the dashboard: the URL's filter (parsed purely), one keyset page, a capped
 * count, and a payload path search. The payload search runs in memory over at most
 * PAYLOAD_SCAN_LIMIT of the newest items that match the indexed filters, because a JSON path
 * has no portable index; the page says how many it searched.
 */
import type { Store } from '../../../db/open.js';
import type { WorkItem } from '../../../db/schema.js';
import { WORK_STATUSES } from '../../../queue/kinds.js';
import { countCapped } from './counts.js';

export interface ItemFilter {
  status?: string;
  kind?: string;
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

export const PAYLOAD_SCAN_LIMIT = 5000;

const parseTime = (text: string): number | undefined => {
  const n = /^\d+$/.test(text) ? Number(text) : Date.parse(text.length === 16 ? `${text}Z` : text);
  return Number.isFinite(n) ? n : undefined;
};

/** The filter in a query string, and one line per bad field (naming the field and what it accepts). Pure. */
export function parseItemFilter(q: URLSearchParams): { filter: ItemFilter; problems: string[] } {
  const filter: ItemFilter = {};
  const problems: string[] = [];
  const get = (k: string) => {
    const v = q.get(k);
    return v === null || v.trim() === '' ? undefined : v.trim();
  };
  const status = get('status');
  if (status !== undefined) {
    if ((WORK_STATUSES as readonly string[]).includes(status)) filter.status = status;
    else problems.push(`status: "${status}" is not one of ${WORK_STATUSES.join(', ')}`);
  }
  const kind = get('kind');
  if (kind !== undefined) filter.kind = kind;
  const site = get('site');
  if (site !== undefined) {
    if (site === 'none') filter.site = null;
    else if (/^\d+$/.test(site)) filter.site = Number(site);
    else problems.push(`site: "${site}" is not a site id or "none"`);
  }
  const lane = get('lane');
  if (lane !== undefined) filter.lane = lane;
  const worker = get('worker');
  if (worker !== undefined) filter.worker = worker;
  const run = get('run');
  if (run !== undefined) {
    if (/^\d+$/.test(run)) filter.runId = Number(run);
    else problems.push(`run: "${run}" is not a run id`);
  }
  for (const key of ['from', 'to'] as const) {
    const text = get(key);
    if (text === undefined) continue;
    const t = parseTime(text);
    if (t === undefined) problems.push(`${key}: "${text}" is not a time (ISO 8601 such as 2026-12-02T08:00 UTC, or epoch ms)`);
    else filter[key] = t;
  }
  const payload = get('payload');
  if (payload !== undefined) {
    const m = /^([A-Za-z0-9_$-]+(?:\.[A-Za-z0-9_$-]+)*)=(.*)$/.exec(payload);
    if (!m) problems.push(`payload: "${payload}" is not path=value (for example host.name=web-1)`);
    else {
      filter.payloadPath = m[1]!;
      filter.payloadValue = m[2]!;
    }
  }
  return { filter, problems };
}

/** The filter as query-string pairs (for links and hidden form fields). Pure. */
export function filterToQuery(f: ItemFilter): Record<string, string> {
  const q: Record<string, string> = {};
  if (f.status) q.status = f.status;
  if (f.kind) q.kind = f.kind;
  if (f.site !== undefined) q.site = f.site === null ? 'none' : String(f.site);
  if (f.lane) q.lane = f.lane;
  if (f.worker) q.worker = f.worker;
  if (f.runId !== undefined) q.run = String(f.runId);
  if (f.from !== undefined) q.from = String(f.from);
  if (f.to !== undefined) q.to = String(f.to);
  if (f.payloadPath) q.payload = `${f.payloadPath}=${f.payloadValue ?? ''}`;
  return q;
}

/** True when the payload holds `value` (compared as text) at the dotted path. Pure. */
export function payloadMatches(payload: unknown, path: string, value: string): boolean {
  let cur: unknown = payload;
  for (const key of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return false;
    cur = (cur as Record<string, unknown>)[key];
  }
  if (cur === undefined) return false;
  return (typeof cur === 'string' ? cur : JSON.stringify(cur)) === value;
}

function filtered(store: Store, f: ItemFilter, beforeId?: number) {
  let q = store.db.selectFrom('job_scheduler_work_items');
  if (f.status) q = q.where('status', '=', f.status);
  if (f.kind) q = q.where('kind', '=', f.kind);
  if (f.site === null) q = q.where('site_id', 'is', null);
  else if (f.site !== undefined) q = q.where('site_id', '=', f.site);
  if (f.lane) q = q.where('lane', '=', f.lane);
  if (f.worker) {
    const w = f.worker;
    q = q.where((eb) => eb.or([eb('lease_owner', '=', w), eb('worker_guid', '=', w)]));
  }
  if (f.runId !== undefined) q = q.where('run_id', '=', f.runId);
  if (f.from !== undefined) q = q.where('created_at', '>=', f.from);
  if (f.to !== undefined) q = q.where('created_at', '<', f.to);
  if (beforeId !== undefined) q = q.where('id', '<', beforeId);
  return q;
}

export interface ItemPage {
  items: WorkItem[];
  /** The id to continue below, or null on the last page. */
  next_before: number | null;
  /** Capped count of items matching the indexed filters (payload search not included). */
  total: number;
  /** Set when a payload search ran: how many items it searched. */
  scanned?: number;
}

export async function listItems(store: Store, f: ItemFilter, options: { before?: number; limit: number }): Promise<ItemPage> {
  const total = await countCapped(store.db, filtered(store, f));
  if (f.payloadPath) {
    const window = await filtered(store, f, options.before).selectAll().orderBy('id', 'desc').limit(PAYLOAD_SCAN_LIMIT).execute();
    const hits = window.filter((i) => payloadMatches(i.payload_json, f.payloadPath!, f.payloadValue ?? ''));
    const items = hits.slice(0, options.limit);
    const more = hits.length > options.limit || window.length === PAYLOAD_SCAN_LIMIT;
    const last = hits.length > options.limit ? items.at(-1) : window.at(-1);
    return { items, next_before: more && last ? last.id : null, total, scanned: window.length };
  }
  const rows = await filtered(store, f, options.before).selectAll().orderBy('id', 'desc').limit(options.limit + 1).execute();
  const items = rows.slice(0, options.limit);
  return { items, next_before: rows.length > options.limit ? items.at(-1)!.id : null, total };
}

/** Ids matching the filter, newest first, one keyset window at a time (for bulk actions); `last` is where to continue, null at the end. */
export async function idsMatching(store: Store, f: ItemFilter, options: { before?: number; limit: number }): Promise<{ ids: number[]; last: number | null }> {
  const rows = await filtered(store, f, options.before).select(['id', 'payload_json']).orderBy('id', 'desc').limit(options.limit).execute();
  const ids = f.payloadPath ? rows.filter((r) => payloadMatches(r.payload_json, f.payloadPath!, f.payloadValue ?? '')).map((r) => r.id) : rows.map((r) => r.id);
  return { ids, last: rows.length === options.limit ? rows.at(-1)!.id : null };
}

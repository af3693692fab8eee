/**
 * The work-item list (dashboard, API, CLI) on both backends: the payload path search answered
 * in the database (a GIN index on PostgreSQL, a bounded window on SQLite) with the same matches,
 * the worker filter as two index lookups merged without duplicates, and the kind and creation-time
 * filters split by status, checked against a brute-force filter of the same rows.
 */
import { beforeEach, expect, it } from 'vitest';
import { toJson } from '../../src/db/dialect.js';
import { byCreation, idsMatching, listItems, splitByStatus, type ItemFilter } from '../../src/queue/work-item-list.js';
import { WORK_STATUSES } from '../../src/queue/kinds.js';
import { describeBackends, type BackendContext } from '../helpers/backends.js';

const T0 = Date.UTC(2030, 0, 1);

interface Row {
  kind?: string;
  created_at?: number;
  payload?: unknown;
  status?: string;
  lease_owner?: string | null;
  worker_guid?: string | null;
  site_id?: number;
}

async function insert(ctx: BackendContext, rows: Row[]): Promise<number[]> {
  const ids: number[] = [];
  for (const [i, r] of rows.entries()) {
    const row = await ctx.db
      .insertInto('job_scheduler_work_items')
      .values({
        kind: r.kind ?? 'scheduled_run', site_id: r.site_id ?? 1, lane: 'default', payload_json: toJson(r.payload ?? {}), status: r.status ?? 'succeeded',
        attempt_count: 1, max_attempts: 3, available_at: T0 + i, created_at: r.created_at ?? T0 + i, updated_at: T0 + i,
        lease_owner: r.lease_owner ?? null, worker_guid: r.worker_guid ?? null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    ids.push(row.id);
  }
  return ids;
}

/** Every page of a list, following next_before (a bounded search may return empty pages before the end). */
async function allPages(ctx: BackendContext, f: ItemFilter, limit: number, searchWindow?: number): Promise<{ ids: number[]; pages: number; scanned: boolean }> {
  const ids: number[] = [];
  let before: number | undefined;
  let pages = 0;
  let scanned = false;
  for (;;) {
    const page = await listItems(ctx.store, f, { ...(before !== undefined ? { before } : {}), limit, ...(searchWindow ? { searchWindow } : {}) });
    pages++;
    scanned ||= page.scanned !== undefined;
    expect(page.items.length).toBeLessThanOrEqual(limit);
    ids.push(...page.items.map((i) => i.id));
    if (page.next_before === null) return { ids, pages, scanned };
    before = page.next_before;
    if (pages > 100) throw new Error('pagination did not end');
  }
}

/** Every id idsMatching walks for a filter, window by window (as a bulk action does). */
async function allIds(ctx: BackendContext, f: ItemFilter, limit: number): Promise<number[]> {
  const ids: number[] = [];
  let before: number | undefined;
  for (let n = 0; n < 200; n++) {
    const w = await idsMatching(ctx.store, f, { ...(before !== undefined ? { before } : {}), limit });
    ids.push(...w.ids);
    if (w.last === null) return ids;
    before = w.last;
  }
  throw new Error('the walk did not end');
}

type Stored = Required<Pick<Row, 'kind' | 'created_at' | 'status' | 'site_id'>> & Pick<Row, 'lease_owner' | 'worker_guid'> & { id: number };

const among = (v: string | readonly string[] | undefined, x: string) => v === undefined || (typeof v === 'string' ? v === x : v.includes(x));

/** The filter tested on each row, in the list's order: what the index ranges must return. */
function bruteForce(rows: Stored[], f: ItemFilter): number[] {
  return rows
    .filter((r) => among(f.status, r.status) && among(f.kind, r.kind) && (f.site === undefined || f.site === r.site_id))
    .filter((r) => (f.from === undefined || r.created_at >= f.from) && (f.to === undefined || r.created_at < f.to))
    .filter((r) => !f.worker || r.lease_owner === f.worker || r.worker_guid === f.worker)
    .sort((a, b) => (byCreation(f) && a.created_at !== b.created_at ? b.created_at - a.created_at : b.id - a.id))
    .map((r) => r.id);
}

describeBackends('work-item list', (ctx) => {
  beforeEach(() => ctx.truncateAll());

  it('searches a payload path as text: strings, numbers, arrays; a missing path matches nothing', async () => {
    const [web1, web2, quoted22] = await insert(ctx, [
      { payload: { host: { name: 'web-1', port: 22 }, tags: ['a'] } },
      { payload: { host: { name: 'web-2', port: 23 } } },
      { payload: { host: { name: '22' } } },
    ]);
    const search = async (path: string, value: string) => (await allPages(ctx, { payloadPath: path, payloadValue: value }, 50)).ids;
    expect(await search('host.name', 'web-1')).toEqual([web1]);
    expect(await search('host.port', '22')).toEqual([web1]);
    expect(await search('host.name', '22')).toEqual([quoted22]);
    expect(await search('tags', '["a"]')).toEqual([web1]);
    expect(await search('host', '{"name":"web-2","port":23}')).toEqual([web2]);
    expect(await search('host.name', 'web-3')).toEqual([]);
    expect(await search('host.name.x', 'web-1')).toEqual([]);
  });

  it('finds every payload match across pages, however many items a page may test; the other filters still apply', async () => {
    const rows: Row[] = Array.from({ length: 30 }, (_, i) => ({ payload: { host: { name: i % 12 === 4 ? 'hit' : `h${i}` } }, status: i === 16 ? 'failed' : 'succeeded' }));
    const ids = await insert(ctx, rows);
    const hits = [ids[28]!, ids[16]!, ids[4]!];
    const f: ItemFilter = { payloadPath: 'host.name', payloadValue: 'hit' };
    const bounded = await allPages(ctx, f, 2, 7);
    expect(bounded.ids).toEqual(hits);
    // A bounded search says so on each page; an indexed one needs a single pass.
    expect(bounded.scanned).toBe(!ctx.store.dialect.jsonSearch.indexed);
    expect((await allPages(ctx, { ...f, status: 'failed' }, 2, 7)).ids).toEqual([ids[16]]);
    // Bulk actions walk the same matches.
    const bulk: number[] = [];
    let before: number | undefined;
    for (let n = 0; n < 100; n++) {
      const w = await idsMatching(ctx.store, f, { ...(before !== undefined ? { before } : {}), limit: 2, searchWindow: 7 });
      bulk.push(...w.ids);
      if (w.last === null) break;
      before = w.last;
    }
    expect(bulk).toEqual(hits);
  });

  it('filters by worker on the lease owner or the worker guid, each item once, with a capped count', async () => {
    const [running, finished, byGuid, both] = await insert(ctx, [
      { status: 'running', lease_owner: 'w-1' },
      { status: 'succeeded', lease_owner: 'w-1', worker_guid: 'g-9' },
      { status: 'failed', lease_owner: 'other', worker_guid: 'w-1' },
      { status: 'succeeded', lease_owner: 'w-1', worker_guid: 'w-1' },
      { status: 'succeeded', lease_owner: 'w-2', worker_guid: 'g-2' },
    ]);
    const first = await listItems(ctx.store, { worker: 'w-1' }, { limit: 3 });
    expect(first.items.map((i) => i.id)).toEqual([both, byGuid, finished]);
    expect(first.total).toBe(4);
    expect((await allPages(ctx, { worker: 'w-1' }, 1)).ids).toEqual([both, byGuid, finished, running]);
    expect((await listItems(ctx.store, { worker: 'w-1', status: 'succeeded' }, { limit: 10 })).items.map((i) => i.id)).toEqual([both, finished]);
    expect((await listItems(ctx.store, { worker: 'g-9' }, { limit: 10 })).total).toBe(1);
  });

  it('lists one status on one site newest first, in pages, and counts them', async () => {
    const ids = await insert(ctx, Array.from({ length: 9 }, (_, i) => ({ status: i % 3 === 0 ? 'failed' : 'succeeded', site_id: 1 + (i % 2) })));
    const expected = ids.filter((_, i) => i % 3 === 0 && i % 2 === 0).reverse();
    expect((await allPages(ctx, { status: 'failed', site: 1 }, 1)).ids).toEqual(expected);
    expect((await listItems(ctx.store, { status: 'failed', site: 1 }, { limit: 1 })).total).toBe(expected.length);
    expect((await listItems(ctx.store, { status: ['failed', 'succeeded'], site: 2 }, { limit: 50 })).items.map((i) => i.id)).toEqual(ids.filter((_, i) => i % 2 === 1).reverse());
  });

  it('filters by kind and by creation time as a brute-force filter does: every status, in pages without gaps or repeats, counted', async () => {
    const rows = Array.from({ length: 72 }, (_, i) => ({
      status: WORK_STATUSES[(i * 5) % 6]!,
      kind: ['a', 'b', 'c'][(i * 7) % 3]!,
      // Creation times out of id order, with ties (a clock stepping back, several replicas).
      created_at: T0 + ((i * 37) % 29) * 1000,
      site_id: 1 + (i % 2),
      lease_owner: i % 4 === 0 ? 'w-1' : null,
      worker_guid: i % 5 === 0 ? 'w-1' : null,
    }));
    const ids = await insert(ctx, rows);
    const stored: Stored[] = rows.map((r, i) => ({ ...r, id: ids[i]! }));
    const filters: ItemFilter[] = [
      { kind: 'a' },
      { kind: ['a', 'c'] },
      { kind: 'missing' },
      { kind: 'b', status: 'failed' },
      { kind: 'a', status: ['queued', 'running', 'dead'] },
      { kind: 'c', site: 2 },
      { kind: 'a', worker: 'w-1' },
      { from: T0 + 5000, to: T0 + 15_000 },
      { from: T0 + 20_000 },
      { to: T0 + 3000 },
      { from: T0 + 30_000 },
      { from: T0 + 4000, to: T0 + 25_000, kind: 'b' },
      { from: T0 + 4000, status: 'succeeded', site: 1 },
      { from: T0 + 2000, status: ['running', 'cancelled'] },
      { to: T0 + 20_000, worker: 'w-1' },
    ];
    for (const f of filters) {
      const expected = bruteForce(stored, f);
      for (const limit of [1, 4, 50]) expect((await allPages(ctx, f, limit)).ids, JSON.stringify({ f, limit })).toEqual(expected);
      expect((await listItems(ctx.store, f, { limit: 2 })).total, JSON.stringify(f)).toBe(expected.length);
      expect(await allIds(ctx, f, 3), JSON.stringify(f)).toEqual(expected);
    }
  });

  it('continues a creation-ordered list below an item deleted since its page was read', async () => {
    const ids = await insert(ctx, Array.from({ length: 8 }, (_, i) => ({ status: i % 2 ? 'queued' : 'succeeded' })));
    const f: ItemFilter = { from: T0 };
    const first = await listItems(ctx.store, f, { limit: 3 });
    expect(first.items.map((i) => i.id)).toEqual([ids[7], ids[6], ids[5]]);
    await ctx.db.deleteFrom('job_scheduler_work_items').where('id', '=', first.next_before!).execute();
    expect((await listItems(ctx.store, f, { before: first.next_before!, limit: 50 })).items.map((i) => i.id)).toEqual(ids.slice(0, 5).reverse());
  });

  it('splits a kind or a time range by status, one arm per kind for the indexed statuses', () => {
    expect(splitByStatus({ status: 'failed', site: 1 })).toEqual([{ status: 'failed', site: 1 }]);
    expect(splitByStatus({ kind: ['a', 'b'], status: ['failed', 'running'] })).toEqual([
      { kind: 'a', status: 'failed' },
      { kind: 'b', status: 'failed' },
      { kind: ['a', 'b'], status: 'running' },
    ]);
    expect(splitByStatus({ from: 1 }).map((f) => f.status)).toEqual([...WORK_STATUSES]);
    expect(splitByStatus({ from: 1, kind: 'a', status: 'dead' })).toEqual([{ from: 1, kind: 'a', status: 'dead' }]);
  });
});

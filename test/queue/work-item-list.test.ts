/**
 * The work-item list (dashboard, API, CLI) on both backends: the payload path search answered
 * in the database (a GIN index on PostgreSQL, a bounded window on SQLite) with the same matches,
 * and the worker filter as two index lookups merged without duplicates.
 */
import { beforeEach, expect, it } from 'vitest';
import { toJson } from '../../src/db/dialect.js';
import { idsMatching, listItems, type ItemFilter } from '../../src/queue/work-item-list.js';
import { describeBackends, type BackendContext } from '../helpers/backends.js';

const T0 = Date.UTC(2030, 0, 1);

interface Row {
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
        kind: 'scheduled_run', site_id: r.site_id ?? 1, lane: 'default', payload_json: toJson(r.payload ?? {}), status: r.status ?? 'succeeded',
        attempt_count: 1, max_attempts: 3, available_at: T0 + i, created_at: T0 + i, updated_at: T0 + i,
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
});

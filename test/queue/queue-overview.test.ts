/**
 * The overview's queue figures on both backends: counts per status (queued derived from ready +
 * delayed, running from the per-site read of running items), checked against the rows, and
 * capped at COUNT_CAP + 1 like every other count.
 */
import { beforeEach, expect, it } from 'vitest';
import { COUNT_CAP } from '../../src/db/capped-count.js';
import { WORK_STATUSES } from '../../src/queue/kinds.js';
import { readQueueOverview } from '../../src/queue/queue-overview.js';
import { describeBackends, type BackendContext } from '../helpers/backends.js';

const NOW = Date.UTC(2030, 0, 1);

async function insert(ctx: BackendContext, rows: Array<{ status: string; site_id: number | null; available_at?: number }>): Promise<void> {
  const values = rows.map((r, i) => ({
    kind: 'k', site_id: r.site_id, lane: 'default', payload_json: '{}', status: r.status, attempt_count: 1, max_attempts: 3,
    available_at: r.available_at ?? NOW - 1000, created_at: NOW - 5000 + i, updated_at: NOW,
  }));
  for (let i = 0; i < values.length; i += 500) await ctx.db.insertInto('job_scheduler_work_items').values(values.slice(i, i + 500)).execute();
}

describeBackends('queue overview', (ctx) => {
  beforeEach(() => ctx.truncateAll());

  it('counts each status, ready and delayed, and queued and running per site, as the rows hold them', async () => {
    const rows = Array.from({ length: 90 }, (_, i) => ({
      status: WORK_STATUSES[i % 6]!,
      site_id: i % 7 === 0 ? null : 1 + (i % 3),
      available_at: i % 4 === 0 ? NOW + 60_000 : NOW - i,
    }));
    await insert(ctx, rows);
    const o = await readQueueOverview(ctx.store, NOW, [1, 2, null, 9]);
    for (const s of WORK_STATUSES) expect(o.by_status[s], s).toBe(rows.filter((r) => r.status === s).length);
    const queued = rows.filter((r) => r.status === 'queued');
    expect(o.ready).toBe(queued.filter((r) => r.available_at <= NOW).length);
    expect(o.delayed).toBe(queued.filter((r) => r.available_at > NOW).length);
    expect(o.oldest_ready_at).toBe(Math.min(...queued.filter((r) => r.available_at <= NOW).map((r) => r.available_at)));
    const on = (status: string, site: number | null) => rows.filter((r) => r.status === status && r.site_id === site).length;
    expect(o.sites).toEqual([1, 2, null, 9].map((site) => ({ site_id: site, queued: on('queued', site), running: on('running', site) })));
  });

  it('stops the queued count at the cap', async () => {
    await insert(ctx, [
      ...Array.from({ length: COUNT_CAP - 2 }, () => ({ status: 'queued', site_id: 1 })),
      ...Array.from({ length: 5 }, () => ({ status: 'queued', site_id: 1, available_at: NOW + 1 })),
      ...Array.from({ length: 3 }, () => ({ status: 'running', site_id: 2 })),
    ]);
    const o = await readQueueOverview(ctx.store, NOW, [1]);
    expect(o.by_status.queued).toBe(COUNT_CAP + 1);
    expect([o.ready, o.delayed, o.by_status.running]).toEqual([COUNT_CAP - 2, 5, 3]);
  });
});

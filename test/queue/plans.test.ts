/**
 * Query plans each backend chooses. The batched completion joins a claims table
 * (Dialect.claimsTable) on the primary key: each (id, claim) row probes one work item. On SQLite the claims table comes from json_each, whose
 * size the planner cannot see; flattened into the join it was scanned once per running item of the
 * lease owner (n² for a batch of n). The work-item list's kind and time filters must read index
 * ranges (src/queue/work-item-list.ts), never walk the primary key testing each row. A claim
 * reads its claim index: `ix_work_items_claim` for one site (it holds sited items only, migration
 * 0026), `ix_work_items_claim_siteless` for site-less items.
 */
import { sql } from 'kysely';
import { beforeAll, expect, it } from 'vitest';
import { bind } from '../../src/db/compiled-query.js';
import { claimWorkItems, enqueueWorkItems } from '../../src/queue/index.js';
import { claimStatement } from '../../src/queue/claim.js';
import { completionStatement } from '../../src/queue/complete.js';
import { pageQueries, type ItemFilter } from '../../src/queue/work-item-list.js';
import { describeBackends } from '../helpers/backends.js';

const T0 = 4_070_908_800_000; // 2099-01-01

describeBackends('query plans of the batched completion', (ctx) => {
  beforeAll(async () => {
    await ctx.truncateAll();
    const items = Array.from({ length: 2000 }, (_, i) => ({ kind: 'k', siteId: null, payload: { i } }));
    await enqueueWorkItems(ctx.store, items, { now: T0 });
    await claimWorkItems(ctx.store, { owner: 'X', siteId: null, limit: 2000, leaseSeconds: 60, now: T0 });
    await sql`analyze`.execute(ctx.db);
  });

  it('probes each work item of the batch on the primary key', async () => {
    // A batch much smaller than the table, as in a drain of a long queue.
    const ids = Array.from({ length: 20 }, (_, i) => i + 1);
    const statement = bind(completionStatement(ctx.store), {
      claims: ctx.store.dialect.claimsParams(ids, ids.map(() => 1)),
      now: T0 + 1,
      owner: 'X',
    });
    const sqlite = ctx.backend === 'sqlite';
    const explained = await ctx.store.db.executeQuery<Record<string, string>>({
      ...statement,
      sql: `${sqlite ? 'explain query plan' : 'explain'} ${statement.sql}`,
    });
    const plan = explained.rows.map((r) => (sqlite ? r.detail : r['QUERY PLAN'])).join('\n');
    if (sqlite) {
      // The claims table is read first (materialised), then one rowid probe per row.
      expect(plan).toMatch(/SEARCH w USING INTEGER PRIMARY KEY/);
      expect(plan).not.toMatch(/lease_owner/);
    } else {
      // The work items are read once: a hash join, or one point probe per claims row — on the
      // primary key, or on the (lease_owner, id) index with both columns bound (which one
      // depends on the table's size) — never rescanned per claims row.
      expect(plan).toMatch(/Hash Join|Index Scan using (job_scheduler_work_items_pkey|ix_work_items_lease_owner_id) on job_scheduler_work_items w/);
      expect(plan).not.toMatch(/Nested Loop[\s\S]*Seq Scan on job_scheduler_work_items/);
      if (/Nested Loop[\s\S]*Index Scan using ix_work_items_lease_owner_id/.test(plan)) expect(plan).toMatch(/Index Cond: \(\(lease_owner = 'X'::text\) AND \(id = v\.item_id\)\)/);
    }
  });
});

describeBackends('query plans of the work-item list by kind and by creation time', (ctx) => {
  const DAY = 86_400_000;
  const N = 20_000;
  beforeAll(async () => {
    await ctx.truncateAll();
    // Mostly finished items of one kind, a backlog, a rare kind; created one a minute.
    const rows = Array.from({ length: N }, (_, i) => {
      const r = i % 100;
      const status = r < 90 ? 'succeeded' : r < 95 ? 'failed' : r < 98 ? 'queued' : r < 99 ? 'running' : 'dead';
      const at = T0 + i * 60_000;
      const lease_owner = status === 'running' ? `worker-${i % 7}` : null;
      return { kind: i % 1000 === 7 ? 'rare' : 'common', site_id: null, lane: 'default', payload_json: '{}', status, attempt_count: 1, max_attempts: 3, available_at: at, created_at: at, updated_at: at, lease_owner };
    });
    for (let i = 0; i < N; i += 500) await ctx.db.insertInto('job_scheduler_work_items').values(rows.slice(i, i + 500)).execute();
    // PostgreSQL's autovacuum keeps statistics; the daemon never runs ANALYZE on SQLite.
    if (ctx.backend === 'postgres') await sql`analyze job_scheduler_work_items`.execute(ctx.db);
  });

  const filters: Record<string, ItemFilter> = {
    'a rare kind': { kind: 'rare' },
    'a missing kind': { kind: 'missing' },
    'a kind and a status': { kind: 'rare', status: 'failed' },
    'an old one-day range': { from: T0 + DAY, to: T0 + 2 * DAY },
    'a recent range': { from: T0 + (N - 60) * 60_000 },
    'a rare kind in a range': { kind: 'rare', from: T0 + DAY, to: T0 + 2 * DAY },
    'a status in a range': { status: 'failed', from: T0 + DAY, to: T0 + 2 * DAY },
  };

  for (const [name, f] of Object.entries(filters)) {
    it(`reads ${name} through index ranges, never the whole table or the primary key`, async () => {
      const sqlite = ctx.backend === 'sqlite';
      for (const query of pageQueries(ctx.store, f)) {
        const explained = await ctx.store.db.executeQuery<Record<string, string>>({ ...query, sql: `${sqlite ? 'explain query plan' : 'explain'} ${query.sql}` });
        const plan = explained.rows.map((r) => (sqlite ? r.detail : r['QUERY PLAN'])).join('\n');
        // Only running items are walked through (status, id); every other status has its own
        // kind and created_at indexes, or the walk covers all its items.
        if (!query.parameters.includes('running')) expect(plan, query.sql).not.toMatch(/ix_work_items_status_(site_)?id\b/);
        if (sqlite) {
          // SEARCH is an index range; SCAN reads the whole table (or a whole index).
          expect(plan, query.sql).toMatch(/SEARCH job_scheduler_work_items USING (COVERING )?INDEX ix_work_items_/);
          expect(plan, query.sql).not.toMatch(/SCAN job_scheduler_work_items/);
        } else {
          expect(plan, query.sql).toMatch(/Index (Only )?Scan( Backward)? using ix_work_items_|Bitmap Index Scan on ix_work_items_/);
          expect(plan, query.sql).not.toMatch(/Seq Scan|job_scheduler_work_items_pkey/);
        }
      }
    });
  }

  it('tests running items of a kind or a time range in the owner index, not in their rows (PostgreSQL)', async () => {
    // Running items have no kind or created_at index of their own (a claim would write it), so
    // the owner index carries both (migration 0028): the walk tests them in index entries.
    if (ctx.backend !== 'postgres') return;
    for (const f of [{ kind: 'rare' }, { from: T0 + DAY, to: T0 + 2 * DAY }, { kind: 'rare', from: T0 + DAY, to: T0 + 2 * DAY }]) {
      const running = pageQueries(ctx.store, f).filter((q) => q.parameters.includes('running'));
      expect(running).toHaveLength(1);
      const explained = await ctx.store.db.executeQuery<Record<string, string>>({ ...running[0]!, sql: `explain ${running[0]!.sql}` });
      const plan = explained.rows.map((r) => r['QUERY PLAN']).join('\n');
      expect(plan).toMatch(/(Index (Only )?Scan using|Bitmap Index Scan on) ix_work_items_lease_owner\b/);
      expect(plan).toMatch(f.kind ? /Index Cond: .*kind = 'rare'/ : /Index Cond: .*created_at >=/);
    }
  });
});

describeBackends('query plans of the claim', (ctx) => {
  beforeAll(async () => {
    await ctx.truncateAll();
    // A backlog spread over 20 sites and site-less items, in two lanes.
    const items = Array.from({ length: 4000 }, (_, i) => ({
      kind: 'k', siteId: i % 21 === 0 ? null : i % 21, lane: i % 2 ? 'a' : 'b', payload: { i },
    }));
    await enqueueWorkItems(ctx.store, items, { now: T0 });
    // PostgreSQL plans from statistics (autovacuum keeps them); jobyard never analyzes SQLite, so
    // its claims must pick the claim index without any (it took a range and a sort once).
    if (ctx.backend === 'postgres') await sql`analyze`.execute(ctx.db);
  });

  // Site-less items of every lane (the service-action consumer: few items) need a sort either
  // way; SQLite may then read them through (status, site_id, id).
  const shapes: Array<[string, number | null, string[] | undefined, string]> = [
    ['one site', 7, undefined, 'ix_work_items_claim'],
    ['one site and lane', 7, ['a'], 'ix_work_items_claim'],
    ['site-less items', null, undefined, 'ix_work_items_(claim_siteless|status_site_id)'],
    ['site-less items of a lane', null, ['a'], 'ix_work_items_claim_siteless'],
  ];
  for (const [name, siteId, lanes, index] of shapes) {
    it(`claims for ${name} through ${index}, never the whole table`, async () => {
      const sqlite = ctx.backend === 'sqlite';
      const statement = claimStatement(
        ctx.store,
        { owner: 'X', siteId, ...(lanes ? { lanes } : {}), limit: 10, leaseSeconds: 60 },
        { dueBy: T0, now: T0, leaseExpiresAt: T0 + 60_000, workerGuid: null, containerName: null },
      );
      const explained = await ctx.store.db.executeQuery<Record<string, string>>({
        ...statement,
        sql: `${sqlite ? 'explain query plan' : 'explain'} ${statement.sql}`,
      });
      const plan = explained.rows.map((r) => (sqlite ? r.detail : r['QUERY PLAN'])).join('\n');
      expect(plan).toMatch(new RegExp(`${index}\\b`));
      expect(plan).not.toMatch(sqlite ? /SCAN job_scheduler_work_items/ : /Seq Scan/);
    });
  }
});

/**
 * The batched completion joins a claims table (Dialect.claimsTable) on the primary key: each
 * (id, claim) row probes one work item. On SQLite the claims table comes from json_each, whose
 * size the planner cannot see; flattened into the join it was scanned once per running item of the
 * lease owner (n² for a batch of n). This test reads the plan each backend chooses.
 */
import { sql } from 'kysely';
import { beforeAll, expect, it } from 'vitest';
import { bind } from '../../src/db/compiled-query.js';
import { claimWorkItems, enqueueWorkItems } from '../../src/queue/index.js';
import { completionStatement } from '../../src/queue/complete.js';
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

/**
 * MAX_WORKERS and MAX_WORKERS_PER_SITE hold across scheduler replicas: several replicas (each its
 * own store, so its own connections on PostgreSQL) decide launches at the same instant, for
 * different sites and for the same site, and the live rows never pass either cap. On PostgreSQL
 * the launch decision takes one fleet-wide lock; SQLite's single writer serialises it already.
 */
import { afterEach, expect, it } from 'vitest';
import type { Store } from '../../src/db/open.js';
import { reserveStartingRow, LIVE_WORKER_STATUSES } from '../../src/fleet/worker-rows.js';
import { createSite } from '../../src/inventory/sites.js';
import { describeBackends } from '../helpers/backends.js';

const REPLICAS = 4;
const ROUNDS = 15;

describeBackends('launch limits across replicas', (ctx) => {
  afterEach(() => ctx.truncateAll());

  const liveBySite = async () => {
    const rows = await ctx.db.selectFrom('job_scheduler_workers').select('site_id').where('status', 'in', LIVE_WORKER_STATUSES).execute();
    const m = new Map<number | null, number>();
    for (const r of rows) m.set(r.site_id, (m.get(r.site_id) ?? 0) + 1);
    return { total: rows.length, max: Math.max(0, ...m.values()) };
  };

  /**
   * PostgreSQL: one store (own pool) per replica. SQLite: several stores in one process would block
   * each other's event loop on the busy timeout, and replicas in separate processes queue on the one
   * writer lock anyway, so the "replicas" share the test's store (its transactions queue likewise).
   */
  const replicaStores = (): Store[] =>
    Array.from({ length: REPLICAS }, () => (ctx.backend === 'postgres' ? ctx.open({ poolMax: 4 }) : ctx.store));

  /** Every replica tries to reserve a worker for every site at once. */
  const decideAtOnce = (replicas: Store[], siteIds: number[], caps: { maxWorkers: number; maxPerSite: number }) =>
    Promise.all(
      replicas.flatMap((store, r) =>
        siteIds.map((siteId) =>
          reserveStartingRow(store, { workerGuid: `r${r}-s${siteId}-${Math.random()}`, containerName: 'c', siteId, now: Date.now(), ...caps }),
        ),
      ),
    );

  it('MAX_WORKERS holds when replicas launch for different sites at the same instant', async () => {
    const replicas = replicaStores();
    for (let round = 0; round < ROUNDS; round++) {
      await ctx.truncateAll();
      const sites = await Promise.all(Array.from({ length: 10 }, (_, i) => createSite(ctx.store, { name: `s${round}-${i}` })));
      const outcomes = await decideAtOnce(replicas, sites.map((s) => s.id), { maxWorkers: 3, maxPerSite: 1 });
      expect(outcomes.filter((o) => o === 'reserved'), `round ${round}`).toHaveLength(3);
      expect(await liveBySite(), `round ${round}`).toEqual({ total: 3, max: 1 });
    }
  });

  it('MAX_WORKERS_PER_SITE holds when replicas launch for the same site at the same instant', async () => {
    const replicas = replicaStores();
    for (let round = 0; round < ROUNDS; round++) {
      await ctx.truncateAll();
      const site = await createSite(ctx.store, { name: `one-${round}` });
      const outcomes = await decideAtOnce([...replicas, ...replicas], [site.id], { maxWorkers: 20, maxPerSite: 2 });
      expect(outcomes.filter((o) => o === 'reserved'), `round ${round}`).toHaveLength(2);
      expect(await liveBySite(), `round ${round}`).toEqual({ total: 2, max: 2 });
    }
  });
});

/**
 * Seed 004's connection hygiene: after a burst of 200 concurrent repository calls no session is
 * left `idle in transaction`, and the pool never opened more sessions than its max.
 */
import pg from 'pg';
import { expect, it } from 'vitest';
import { createSite, findSiteByName, renameSite } from '../../src/inventory/sites.js';
import { describeBackends } from '../helpers/backends.js';

const POOL = { DB_POOL_SIZE: '3', DB_MAX_OVERFLOW: '2' }; // max 5 sessions

async function burst(store: Parameters<typeof createSite>[0], calls: number): Promise<void> {
  await Promise.all(
    Array.from({ length: calls }, async (_, i) => {
      const site = await createSite(store, { name: `hygiene-${i}` });
      await renameSite(store, site.id, `Hygiene-${i}`); // a short transaction
      expect((await findSiteByName(store, `HYGIENE-${i}`))?.id).toBe(site.id);
    }),
  );
}

describeBackends(
  'connection hygiene',
  (ctx) => {
    it('200 concurrent calls leave nothing idle in transaction and stay within the pool max', async () => {
      if (ctx.backend === 'sqlite') {
        await burst(ctx.store, 200);
        // One connection per process on SQLite: after the burst no transaction may remain open.
        const open = await ctx.db.transaction().execute(async () => 'reentered');
        expect(open).toBe('reentered');
        expect(await ctx.db.selectFrom('sites').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst()).toEqual({ n: 200 });
        return;
      }
      const probe = new pg.Client({ connectionString: ctx.url, application_name: 'jobyard-test-probe' });
      await probe.connect();
      const sessions = () =>
        probe.query<{ state: string | null }>(
          `select state from pg_stat_activity where datname = $1 and application_name = 'jobyard'`,
          [ctx.databaseName],
        );
      let maxSessions = 0;
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          maxSessions = Math.max(maxSessions, (await sessions()).rowCount ?? 0);
          await new Promise((r) => setTimeout(r, 2));
        }
      })();
      try {
        await burst(ctx.store, 200);
        sampling = false;
        await sampler;
        const after = await sessions();
        expect(after.rows.filter((r) => r.state === 'idle in transaction')).toEqual([]);
        expect(maxSessions).toBeGreaterThan(1); // the burst really ran concurrently
        expect(maxSessions).toBeLessThanOrEqual(ctx.store.pool.poolMax);
        expect(ctx.store.pool.poolMax).toBe(5);
      } finally {
        sampling = false;
        await probe.end();
      }
    });
  },
  { isolation: 'database', open: { env: POOL } },
);

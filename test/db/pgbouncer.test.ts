/**
 * Behind a real PgBouncer in transaction mode (Debian's pgbouncer, started here on a free port
 * with its own config, no ignore_startup_parameters): claims, completions, heartbeats, the
 * scheduler tick and its maintenance, and wake-ups all work. LISTEN goes to DATABASE_LISTEN_URL
 * (direct); without one, consumers poll every DB_POLL_MS. PostgreSQL only: PgBouncer is its pooler.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SchedulerService } from '../../src/daemon/scheduler.js';
import { openDatabase, type Store } from '../../src/db/open.js';
import { silentLogger } from '../../src/log.js';
import { enqueueWorkItem, runQueue, type QueueRuntime } from '../../src/queue/index.js';
import { BackendContext } from '../helpers/backends.js';
import { insertJob } from '../helpers/jobs.js';
import { startPgBouncer, type PgBouncer } from '../helpers/pgbouncer.js';
import { waitUntil } from '../helpers/processes.js';
import { sql } from 'kysely';

/** Sessions of jobyard's LISTEN connection on the context's database. */
async function listenerCount(ctx: BackendContext): Promise<number> {
  const r = await sql<{ n: string }>`select count(*) as n from pg_stat_activity where application_name = 'jobyard-listener' and datname = current_database()`.execute(ctx.db);
  return Number(r.rows[0]!.n);
}

const SITE = 7;
/** Longer than any test here: an item done quickly was announced, not found by the lane's poll. */
const NO_POLL_MS = 120_000;

describe('through PgBouncer in transaction mode [postgres]', () => {
  // A database of its own: PgBouncer forwards the database name, and refuses the search_path option.
  const ctx = new BackendContext('postgres', { isolation: 'database' });
  let bouncer: PgBouncer;
  const stores: Store[] = [];
  const runtimes: QueueRuntime[] = [];
  beforeAll(async () => {
    await ctx.setup();
    bouncer = await startPgBouncer({ poolMode: 'transaction' });
  });
  afterEach(async () => {
    // Each test's consumers stop with it: a live one would take the next test's items.
    for (const r of runtimes.splice(0)) await r.stop();
  });
  afterAll(async () => {
    for (const s of stores) await s.close();
    await bouncer?.stop();
    await ctx.teardown();
  });
  beforeEach(() => ctx.truncateAll());

  function open(env: Record<string, string>): Store {
    const store = openDatabase(bouncer.urlFor(ctx.url), { env: { DB_POOL_SIZE: '3', DB_MAX_OVERFLOW: '0', ...env } });
    stores.push(store);
    return store;
  }

  function consume(store: Store, done: number[]): QueueRuntime {
    const runtime = runQueue({
      store,
      siteId: SITE,
      handlers: { k: async ({ item }) => ({ by: 'bounced', id: item.id }) },
      concurrency: 4,
      heartbeatSeconds: 0.2,
      leaseSeconds: 5,
      pollIntervalMs: NO_POLL_MS,
      logger: silentLogger,
      onItemSettled: (item, outcome) => outcome === 'completed' && done.push(item.id),
    });
    runtimes.push(runtime);
    return runtime;
  }

  it('without DATABASE_POOL_MODE=transaction PgBouncer refuses the session settings (the reason the mode exists)', async () => {
    const store = open({});
    await expect(store.db.selectFrom('sites').select('id').execute()).rejects.toThrow(/unsupported startup parameter/);
  });

  it('claims, heartbeats and completions go through the pooler; wake-ups come over DATABASE_LISTEN_URL', async () => {
    const store = open({ DATABASE_POOL_MODE: 'transaction', DATABASE_LISTEN_URL: ctx.url });
    const done: number[] = [];
    consume(store, done);
    // Enqueue once the listener is up, so the items are announced by NOTIFY, not by its connect.
    await waitUntil(() => listenerCount(ctx) .then((n) => n === 1), 10_000, () => 'no listener session');
    const ids: number[] = [];
    for (let i = 0; i < 20; i++) ids.push((await enqueueWorkItem(ctx.store, { kind: 'k', siteId: SITE })).item.id);
    await waitUntil(() => done.length === 20, 15_000, () => `completed ${done.length} of 20`);
    expect([...done].sort((a, b) => a - b)).toEqual(ids);
    const rows = await ctx.db.selectFrom('job_scheduler_work_items').select(['status', 'result_json']).execute();
    expect(rows.every((r) => r.status === 'succeeded' && (r.result_json as { by: string }).by === 'bounced')).toBe(true);
  });

  it('poll-only (no listen URL): items are found within DB_POLL_MS', async () => {
    const store = open({ DATABASE_POOL_MODE: 'transaction', DB_POLL_MS: '200' });
    expect(store.wakeups.listenUrl).toBeNull();
    const done: number[] = [];
    consume(store, done);
    const { item } = await enqueueWorkItem(ctx.store, { kind: 'k', siteId: SITE });
    await waitUntil(() => done.includes(item.id), 10_000, () => 'the item was not completed by polling');
  });

  it('the scheduler ticks, rolls up and takes its maintenance turns through the pooler', async () => {
    const logBefore = bouncer.log().length;
    const store = open({ DATABASE_POOL_MODE: 'transaction', DATABASE_LISTEN_URL: ctx.url });
    await store.clock.sync();
    const job = await insertJob(ctx.db, { at: store.clock.now() - 1_000 });
    const turns: string[] = [];
    const scheduler = new SchedulerService({ store, logger: silentLogger, tickIntervalMs: 100, reclaimIntervalMs: 100, pruneIntervalMs: 100, onMaintenance: (t) => turns.push(t) }).start();
    try {
      await waitUntil(async () => (await ctx.db.selectFrom('scheduled_job_runs').select('id').where('job_id', '=', job.id).execute()).length === 1, 10_000, () => 'no run written');
      await waitUntil(() => ['reclaim', 'prune', 'rollup'].every((t) => turns.includes(t)), 10_000, () => `maintenance turns: ${turns.join(',')}`);
    } finally {
      await scheduler.stop();
    }
    expect(bouncer.log().slice(logBefore)).not.toMatch(/unsupported startup parameter/);
  });
});

/**
 * One clock for leases. On PostgreSQL every process reads time as the database server's clock, so
 * a host whose own clock is wrong neither writes leases that end too early or too late nor judges
 * live leases of other hosts expired. The process tests run the reclaimer under libfaketime
 * (Debian's `faketime`): only that process's clock is 90 s fast, the machine's is untouched.
 * On SQLite every process shares one host (one file), so the host clock is the one clock.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { hostClock, makeSample, openServerClock, serverTimeAt } from '../../src/db/clock.js';
import type { Store } from '../../src/db/open.js';
import { silentLogger } from '../../src/log.js';
import { claimWorkItems, enqueueWorkItem, hasExpiredLeases } from '../../src/queue/index.js';
import { BackendContext, describeBackends } from '../helpers/backends.js';

const RECLAIMER = fileURLToPath(new URL('../fixtures/clock-reclaimer.mjs', import.meta.url));
const SITE = 5;

describe('clock samples (pure)', () => {
  it('the offset is the host clock minus the server clock at the middle of the round trip', () => {
    // Host wall clock 90 s fast; the server answered 2 ms into a 4 ms round trip.
    const s = makeSample(1_000_000, 1_090_000, 1_090_004, 50, 54);
    expect(s).toEqual({ serverMs: 1_000_000, mono: 52, offsetMs: 90_002, rttMs: 4 });
  });

  it('server time advances with the monotonic clock, whatever the wall clock does later', () => {
    const s = makeSample(1_000_000, 5, 9, 50, 54);
    expect(serverTimeAt(s, 52)).toBe(1_000_000);
    expect(serverTimeAt(s, 10_052)).toBe(1_010_000);
  });
});

describeBackends('the one clock', (ctx) => {
  it('SQLite uses the host clock (one machine); PostgreSQL the server clock, sampled at open', async () => {
    if (ctx.backend === 'sqlite') {
      expect(ctx.store.clock).toBe(hostClock);
      return;
    }
    await ctx.store.clock.sync();
    const r = await sql<{ now: string }>`select cast(extract(epoch from clock_timestamp()) * 1000 as bigint) as now`.execute(ctx.db);
    expect(Math.abs(ctx.store.clock.now() - Number(r.rows[0]!.now))).toBeLessThan(1_000);
    expect(ctx.store.clock.reclaimRefusal()).toBeNull();
  });
});

describe('a host clock 90 s fast [postgres]', () => {
  const ctx = new BackendContext('postgres');
  beforeAll(() => ctx.setup());
  afterAll(() => ctx.teardown());
  beforeEach(() => ctx.truncateAll());

  it('an in-process clock with a skewed wall clock still reads the server time, and past the bound refuses to reclaim', async () => {
    const skewed = () => Date.now() + 90_000;
    const lenient = openServerClock(ctx.db, { logger: silentLogger, wallClock: skewed });
    const strict = openServerClock(ctx.db, { logger: silentLogger, wallClock: skewed, maxOffsetMs: 60_000 });
    try {
      await Promise.all([lenient.sync(), strict.sync()]);
      expect(Math.abs(lenient.offsetMs() - 90_000)).toBeLessThan(1_000);
      expect(Math.abs(lenient.now() - Date.now())).toBeLessThan(1_000);
      expect(lenient.reclaimRefusal()).toBeNull();
      expect(strict.reclaimRefusal()).toMatch(/ms off the database server \(bound 60000 ms\)/);
    } finally {
      lenient.close();
      strict.close();
    }
  });

  /** A healthy worker (this process, right clock) holds live leases; one item's lease really ended. */
  async function liveAndExpired(store: Store): Promise<{ live: number[]; expired: number }> {
    for (let i = 0; i < 3; i++) await enqueueWorkItem(store, { kind: 'k', siteId: SITE });
    const live = (await claimWorkItems(store, { owner: 'healthy', siteId: SITE, limit: 3, leaseSeconds: 30 })).map((i) => i.id);
    const past = store.clock.now() - 60_000;
    const { item } = await enqueueWorkItem(store, { kind: 'k', siteId: SITE }, { now: past });
    const [gone] = await claimWorkItems(store, { owner: 'gone', siteId: SITE, limit: 1, leaseSeconds: 30, now: past });
    expect(gone?.id).toBe(item.id);
    return { live, expired: item.id };
  }

  it('a reclaimer under faketime +90 s reclaims only the lease that really ended', async () => {
    const { live, expired } = await liveAndExpired(ctx.store);
    // The control: judged by a clock 90 s fast, the healthy worker's leases look expired.
    expect(await hasExpiredLeases(ctx.store, { now: ctx.store.clock.now() + 90_000, scope: { siteId: SITE } })).toBe(true);

    const out = await runFaked('+90s', { DATABASE_URL: ctx.url });
    const result = out.find((e) => e.event === 'reclaimed')!;
    expect(result.hostNow - Date.now()).toBeGreaterThan(80_000); // the child's own clock really was fast
    expect(Math.abs(result.offsetMs - 90_000)).toBeLessThan(5_000);
    expect(result).toMatchObject({ requeued: [expired], dead: [] });
    const rows = await ctx.db.selectFrom('job_scheduler_work_items').select(['id', 'status', 'lease_owner']).where('id', 'in', live).execute();
    expect(rows.every((r) => r.status === 'running' && r.lease_owner === 'healthy')).toBe(true);
    expect(out.some((e) => e.event === 'host clock differs from the database server; using the server clock')).toBe(true);
  });

  it('past DB_MAX_CLOCK_OFFSET_SECONDS the faked process refuses to reclaim at all, and says so loudly', async () => {
    const { live, expired } = await liveAndExpired(ctx.store);
    const out = await runFaked('+90s', { DATABASE_URL: ctx.url, DB_MAX_CLOCK_OFFSET_SECONDS: '60' });
    const result = out.find((e) => e.event === 'reclaimed')!;
    expect(result).toMatchObject({ requeued: [], dead: [] });
    expect(result.refused).toMatch(/off the database server/);
    const error = out.find((e) => String(e.event).startsWith('host clock is further from the database server than allowed'));
    expect(error).toMatchObject({ level: 50 });
    const statuses = await ctx.db.selectFrom('job_scheduler_work_items').select('status').where('id', 'in', [...live, expired]).execute();
    expect(statuses.every((r) => r.status === 'running')).toBe(true);
  });
});

/** Runs the reclaimer fixture under `faketime -f <offset>` and returns its JSON lines. */
function runFaked(offset: string, env: Record<string, string>): Promise<Array<Record<string, any>>> {
  return new Promise((resolve, reject) => {
    const child = spawn('faketime', ['-f', offset, process.execPath, RECLAIMER], { env: { ...process.env, DB_POOL_SIZE: '2', DB_MAX_OVERFLOW: '0', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`reclaimer exited ${code}: ${stderr}`));
      resolve(stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l)));
    });
  });
}

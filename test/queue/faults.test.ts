/**
 * A consumer process (test/fixtures/queue-consumer.mjs, compiled code) frozen (SIGSTOP) past its
 * lease and then resumed (SIGCONT) changes nothing: its late outcomes get lease_lost, another
 * consumer completes each item once, and its heartbeat does not bring its lease back (both
 * backends). The PostgreSQL session-termination faults live in test/queue/processes.test.ts.
 */
import { join } from 'node:path';
import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { describeBackends } from '../helpers/backends.js';
import {
  assertAlive,
  completedByPid as byOf,
  killChildProcessesAfterEach,
  queueSite,
  readConsumerLog as readLog,
  stopGracefully,
  waitUntil,
  type ChildProc,
  useProcessTestBed,
} from '../helpers/processes.js';

const SITE = 23;
const KIND = 'fault_test';

killChildProcessesAfterEach();

const { startConsumer, enqueue, rows } = queueSite(SITE, KIND);

describeBackends('a consumer frozen past its lease and then resumed', (ctx) => {
  const dir = useProcessTestBed(ctx, 'jobyard-faults-');

  /**
   * SIGSTOPs the process at a moment it holds no write lock. On SQLite a process stopped inside a
   * write statement would block every other writer until it resumes, so it is resumed and stopped
   * again until a write of ours goes through at once. PostgreSQL statements run in the server, so
   * a stopped client never holds a lock there between autocommit statements.
   */
  async function freeze(c: ChildProc): Promise<void> {
    for (;;) {
      c.child.kill('SIGSTOP');
      if (ctx.backend !== 'sqlite') return;
      try {
        await sql`update job_scheduler_work_items set updated_at = updated_at where id = -1`.execute(ctx.db);
        return;
      } catch {
        c.child.kill('SIGCONT');
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  }

  it('its late completion gets lease_lost, another consumer completes each item once, and its heartbeat does not revive the lease', async () => {
    const ids = await enqueue(ctx.store, 3);
    // Handlers of 2.5 s against a 1.5 s lease: the leases run out while the process is stopped.
    const frozenLog = join(dir(), 'frozen.log');
    const frozen = startConsumer(ctx.url, 'frozen', {
      log: frozenLog,
      concurrency: 3,
      prefetch: 3,
      leaseSeconds: 1.5,
      heartbeatSeconds: 0.3,
      delayMs: 2500,
      pollMs: 200,
    });
    const owner = (await frozen.waitFor('ready')).owner;
    await waitUntil(() => (assertAlive([frozen]), readLog(frozenLog).start.size === 3), 20_000, () => `started: ${readLog(frozenLog).start.size}`);
    await freeze(frozen);
    const frozenAt = Date.now();
    expect((await rows(ctx.store)).every((r) => r.status === 'running' && r.lease_owner === owner)).toBe(true);

    // Another consumer reclaims the expired leases and completes the items.
    const rescuerLog = join(dir(), 'rescuer.log');
    const rescuer = startConsumer(ctx.url, 'rescuer', {
      log: rescuerLog,
      concurrency: 3,
      leaseSeconds: 30,
      heartbeatSeconds: 5,
      reclaimMs: 200,
      pollMs: 100,
    });
    await rescuer.waitFor('ready');
    await waitUntil(
      async () => (assertAlive([rescuer]), (await rows(ctx.store)).every((r) => r.status === 'succeeded')),
      20_000,
      async () => JSON.stringify(await rows(ctx.store)),
    );
    const completed = await rows(ctx.store);
    for (const r of completed) {
      expect(byOf(r), `item ${r.id}`).toBe(rescuer.pid);
      expect(r.attempt_count).toBe(2);
      expect(r.finished_at!).toBeGreaterThan(frozenAt);
    }

    // Resumed: its handlers finish and it heartbeats; every outcome of it is lease_lost.
    frozen.child.kill('SIGCONT');
    await waitUntil(
      () => (assertAlive([frozen, rescuer]), readLog(frozenLog).settled.length === 3),
      20_000,
      () => `frozen settled: ${JSON.stringify(readLog(frozenLog).settled)}`,
    );
    const frozenSettled = readLog(frozenLog).settled;
    expect(frozenSettled.map((s) => s.outcome)).toEqual(['lease_lost', 'lease_lost', 'lease_lost']);
    expect(frozenSettled.map((s) => s.id).sort((a, b) => a - b)).toEqual(ids);
    // Its heartbeats and completions after the resume matched nothing: a heartbeat that had would
    // have set lease_expires_at and heartbeat_at again. The rows are exactly as the rescuer left them.
    expect(await rows(ctx.store)).toEqual(completed);

    const rescued = readLog(rescuerLog);
    expect(rescued.settled.filter((s) => s.outcome === 'completed').map((s) => s.id).sort((a, b) => a - b)).toEqual(ids);
    expect([...rescued.done.values()]).toEqual([1, 1, 1]);
    // Both still work: each stops gracefully; the resumed one completed nothing.
    expect((await stopGracefully(frozen)).completed).toBe(0);
    expect((await stopGracefully(rescuer)).completed).toBe(3);
  }, 60_000);
});

/**
 * Cancelling a running item stops its command within seconds, not at the consumer's next
 * heartbeat: the cancel sends a lease revocation notice (PostgreSQL: NOTIFY; SQLite: the
 * consumer watches data_version), the consumer checks its leases early, aborts the handler, and
 * the command component kills the command's process group.
 *
 * The consumers run with the default 15 s heartbeat and a 60 s lease, so only the notice can
 * stop the command within the few seconds these tests allow after the cancel.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { silentLogger } from '../../src/log.js';
import { cancelWorkItem, enqueueWorkItems, runQueue } from '../../src/queue/index.js';
import { CHECK_GAP_MS, LeaseKeeper } from '../../src/queue/lease-keeper.js';
import { BackendContext, describeBackends } from '../helpers/backends.js';
import { runJobyard } from '../helpers/cli.js';
import {
  killChildProcessesAfterEach,
  readConsumerLog,
  sleep,
  spawnConsumer,
  stopGracefully,
  waitUntil,
  workItemRows,
  useProcessTestBed,
} from '../helpers/processes.js';

const SITE = 11;
const KIND = 'proc_test';
/** Long enough to be sure a heartbeat did not do the work; short of the 15 s heartbeat. */
const STOPPED_WITHIN_MS = 5_000;

killChildProcessesAfterEach();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function enqueueOne(ctx: BackendContext): Promise<number> {
  const [r] = await enqueueWorkItems(ctx.store, [{ kind: KIND, siteId: SITE, payload: {}, maxAttempts: 3 }]);
  return r!.item.id;
}

describeBackends('cancelling a running item', (ctx) => {
  const dir = useProcessTestBed(ctx, 'jobyard-cancel-');

  it('`jobyard items cancel` kills the command of a consumer in another process within seconds; the item stays cancelled', async () => {
    const log = join(dir(), 'consumer.log');
    const pidFile = join(dir(), 'command.pid');
    const consumer = spawnConsumer(ctx.url, 'consumer', {
      siteId: SITE,
      kind: KIND,
      log,
      concurrency: 1,
      prefetch: 1,
      leaseSeconds: 60,
      heartbeatSeconds: 15,
      // The command writes its pid, then becomes `sleep 60` (exec keeps the pid).
      command: ['sh', '-c', 'echo $$ > "$1.tmp" && mv "$1.tmp" "$1" && exec sleep 60', 'sh', pidFile],
    });
    await consumer.waitFor('ready');
    const id = await enqueueOne(ctx);
    await waitUntil(() => existsSync(pidFile), 20_000, () => `no pid file; consumer stderr: ${consumer.stderr}`);
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    expect(alive(pid)).toBe(true);

    const cancelled = await runJobyard(['items', 'cancel', String(id), '--json'], { DATABASE_URL: ctx.url });
    expect(cancelled.code, cancelled.stderr).toBe(0);
    expect(JSON.parse(cancelled.stdout).status).toBe('cancelled');

    await waitUntil(() => !alive(pid), STOPPED_WITHIN_MS, () => `command ${pid} still runs ${STOPPED_WITHIN_MS} ms after the cancel`);
    await waitUntil(() => readConsumerLog(log).settled.length === 1, STOPPED_WITHIN_MS, () => readFileSync(log, 'utf8'));
    expect(readConsumerLog(log).settled).toEqual([{ id, outcome: 'lease_lost' }]);
    expect(readFileSync(log, 'utf8')).toContain(`command ${id} aborted`);
    expect(readConsumerLog(log).done.size).toBe(0);

    await stopGracefully(consumer);
    const [row] = await workItemRows(ctx.store, SITE);
    expect(row).toMatchObject({ id, status: 'cancelled', error: 'cancelled by operator', lease_owner: null, result_json: null });
  }, 60_000);

  it('a cancel through the same store aborts the handler of an in-process consumer within seconds', async () => {
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    let aborted!: () => void;
    const abortedPromise = new Promise<void>((r) => (aborted = r));
    const runtime = runQueue({
      store: ctx.store,
      siteId: SITE,
      concurrency: 1,
      prefetch: 1,
      leaseSeconds: 60,
      heartbeatSeconds: 15,
      pollIntervalMs: 50,
      handlers: {
        [KIND]: ({ signal }) =>
          new Promise((_resolve, reject) => {
            signal.addEventListener('abort', () => (aborted(), reject(signal.reason)), { once: true });
            started();
          }),
      },
    });
    try {
      const id = await enqueueOne(ctx);
      await running;
      const cancelledAt = Date.now();
      expect((await cancelWorkItem(ctx.store, id))?.status).toBe('cancelled');
      await abortedPromise;
      expect(Date.now() - cancelledAt).toBeLessThan(STOPPED_WITHIN_MS);
      await waitUntil(() => runtime.stats().held === 0, STOPPED_WITHIN_MS, () => JSON.stringify(runtime.stats()));
      expect(runtime.stats()).toMatchObject({ completed: 0, failed: 0 });
      const [row] = await workItemRows(ctx.store, SITE);
      expect(row).toMatchObject({ id, status: 'cancelled' });
    } finally {
      await runtime.stop();
    }
  }, 30_000);

  it('a storm of revocation notices makes at most one lease read per CHECK_GAP_MS', async () => {
    let reads = 0;
    const lost: number[] = [];
    const gone = { id: 2_000_000_001, claim_count: 1, lease_expires_at: null }; // no such row: its lease is lost
    const keeper = new LeaseKeeper({
      store: ctx.store,
      owner: 'storm-test',
      leaseSeconds: 60,
      intervalMs: 50_000,
      logger: silentLogger,
      heldItems: () => [gone],
      checkedItems: () => (reads++, [gone]),
      onLost: (id) => lost.push(id),
    });
    const stormMs = 1_000;
    const until = Date.now() + stormMs;
    try {
      while (Date.now() < until) {
        keeper.checkSoon('*'); // as a busy SQLite database or many cancels would
        await sleep(5);
      }
    } finally {
      keeper.stop();
    }
    expect(reads).toBeGreaterThanOrEqual(1);
    expect(reads).toBeLessThanOrEqual(Math.ceil(stormMs / CHECK_GAP_MS) + 1);
    expect(lost.length).toBeGreaterThanOrEqual(1);
    expect(new Set(lost)).toEqual(new Set([gone.id]));
  });
});

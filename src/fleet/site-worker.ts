/**
 * A site worker's life (the code behind workers/site-worker.ts and `jobyard worker`):
 *
 *   starting (row written by the scheduler before launch) → running (claimed work)
 *   ⇄ idle (nothing held; idle_since set) → stopped (idle for WORKER_IDLE_SECONDS, or SIGTERM)
 *
 * It claims its site's items (lease owner = its worker_guid, so the scheduler can release a lost
 * worker's items with releaseOwner), runs them through the executors under a p-limit per lane,
 * heartbeats its row every few seconds and its leases through the queue runtime, and exits 0
 * once stopped. If the scheduler declared it lost (its row is `lost`), it stops at once: its
 * items were already handed to someone else.
 */
import { ANY_LANE, runQueue, type ItemOutcome, type WorkHandler } from '../queue/runtime.js';
import { clockNow } from '../db/clock.js';
import type { Store } from '../db/open.js';
import type { WorkItem } from '../db/schema.js';
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import { markWorkerStopped, registerRunningRow, writeWorkerHeartbeat } from './worker-rows.js';

export interface SiteWorkerOptions {
  store: Store;
  logger: Logger;
  siteId: number;
  /** Lanes to claim from; null for every lane. */
  lanes: string[] | null;
  workerGuid: string;
  containerName: string;
  handlers: Record<string, WorkHandler>;
  /** Items run at once per lane (WORKER_CONCURRENCY, default 7: enough to overlap slow targets,
   *  few enough that one site cannot swamp a small host). */
  concurrency?: number;
  /** Exit after this long with nothing to do (WORKER_IDLE_SECONDS, default 30). */
  idleSeconds?: number;
  /** How often the worker row is refreshed (default 5 s). */
  rowHeartbeatSeconds?: number;
  leaseSeconds?: number;
  itemHeartbeatSeconds?: number;
  pollIntervalMs?: number;
  graceMs?: number;
  /** Stop on SIGTERM/SIGINT (default true). */
  handleSignals?: boolean;
}

export type WorkerExit = 'idle' | 'signal' | 'lost' | 'stopped';

interface TaskLink {
  item_id: number;
  kind: string;
  job_id: number | null;
  job_name: string | null;
  run_id: number | null;
}

export async function runSiteWorker(options: SiteWorkerOptions): Promise<WorkerExit> {
  const { store, workerGuid, siteId } = options;
  const logger = options.logger.child({ workerGuid, containerName: options.containerName, siteId });
  const idleMs = (options.idleSeconds ?? 30) * 1000;
  const lanes = options.lanes ?? [ANY_LANE];
  const concurrency = options.concurrency ?? 7;
  const held = new Map<number, TaskLink>();
  let claimedCount = 0;
  let idleSince: number | null = Date.now();
  let exit: WorkerExit | undefined;

  await registerRunningRow(store, { workerGuid, containerName: options.containerName, siteId, lanes, now: await clockNow(store.clock) });
  logger.info({ lanes: options.lanes ?? 'all', concurrency }, 'site worker running');

  let stopRequested: ((reason: WorkerExit) => void) | undefined;
  const stopped = new Promise<WorkerExit>((resolve) => (stopRequested = resolve));
  const requestStop = (reason: WorkerExit) => {
    exit ??= reason;
    stopRequested?.(exit);
  };

  // Row heartbeat: last_seen_at, running/idle, what it holds. A row the scheduler marked lost
  // (or stopped) is not revived: the worker stops instead.
  // Beats are chained, so a slow one never lands after (and overwrites) a newer one.
  let beating: Promise<void> = Promise.resolve();
  const beat = (): Promise<void> => (beating = beating.then(writeBeat));
  const writeBeat = async () => {
    try {
      const alive = await writeWorkerHeartbeat(store, workerGuid, {
        busy: held.size > 0,
        idleSince,
        claimedCount,
        taskLinks: [...held.values()],
        now: store.clock.now(), // the database's clock: the scheduler judges staleness by it
      });
      if (!alive) {
        logger.warn('worker row is no longer live (declared lost by the scheduler); stopping');
        requestStop('lost');
      }
    } catch (err) {
      logger.warn({ err: describeError(err) }, 'worker heartbeat failed; will retry');
    }
  };
  const runtime = runQueue({
    store,
    owner: workerGuid,
    workerGuid,
    containerName: options.containerName,
    siteId,
    lanes: lanes.map((name) => ({ name, concurrency })),
    // Site items run for seconds to minutes: claim no more than can start soon, so a second
    // worker of the site (MAX_WORKERS_PER_SITE > 1) is not starved by this one's buffer.
    prefetch: concurrency,
    handlers: options.handlers,
    leaseSeconds: options.leaseSeconds ?? 60,
    heartbeatSeconds: options.itemHeartbeatSeconds ?? 15,
    pollIntervalMs: options.pollIntervalMs ?? 1000,
    graceMs: options.graceMs ?? 10_000,
    logger,
    onClaim: (items: WorkItem[]) => {
      if (items.length === 0) return;
      const wasIdle = held.size === 0;
      claimedCount += items.length;
      idleSince = null;
      for (const item of items) held.set(item.id, taskLink(item));
      // The row shows running/idle as it changes, not only at the next periodic heartbeat.
      if (wasIdle) void beat();
    },
    onItemSettled: (item: WorkItem, outcome: ItemOutcome, error?: string) => {
      held.delete(item.id);
      if (held.size === 0) {
        idleSince = Date.now();
        void beat();
      }
      logger.info({ itemId: item.id, kind: item.kind, siteId: item.site_id, workerGuid, outcome, ...(error ? { error } : {}) }, 'work item settled');
    },
  });

  const onSignal = (signal: NodeJS.Signals) => {
    logger.info({ signal }, 'draining: no new claims');
    requestStop('signal');
  };
  if (options.handleSignals ?? true) {
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  }

  const rowTimer = setInterval(() => void beat(), (options.rowHeartbeatSeconds ?? 5) * 1000);
  const idleTimer = setInterval(() => {
    if (held.size === 0 && idleSince !== null && Date.now() - idleSince >= idleMs) requestStop('idle');
  }, Math.min(250, idleMs));
  await beat();

  const reason = await stopped;
  clearInterval(rowTimer);
  clearInterval(idleTimer);
  process.off('SIGTERM', onSignal);
  process.off('SIGINT', onSignal);
  // Declared lost: its items were handed to others (or soon will be), so its commands are
  // stopped now rather than given the drain grace.
  await runtime.stop(reason === 'lost' ? { graceMs: 0 } : undefined);
  await beating;
  if (reason !== 'lost') await markWorkerStopped(store, workerGuid, { claimedCount, now: store.clock.now() });
  logger.info({ reason, claimed: claimedCount }, 'site worker stopped');
  return reason;
}

function taskLink(item: WorkItem): TaskLink {
  const p = (item.payload_json ?? {}) as Record<string, unknown>;
  return {
    item_id: item.id,
    kind: item.kind,
    job_id: item.job_id,
    job_name: typeof p.job_name === 'string' ? p.job_name : null,
    run_id: item.run_id,
  };
}

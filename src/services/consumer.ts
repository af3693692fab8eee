/**
 * The scheduler's service-action consumer: a queue runtime that claims only `service_action`
 * items without a site (site_id NULL; site workers claim their own site's items and never these),
 * from every lane, and runs them against the local Docker Engine.
 */
import { randomUUID } from 'node:crypto';
import type Dockerode from 'dockerode';
import type { Store } from '../db/open.js';
import type { Logger } from '../log.js';
import { ANY_LANE, runQueue, type ItemOutcome, type QueueRuntime } from '../queue/runtime.js';
import type { WorkItem } from '../db/schema.js';
import { SERVICE_ACTION_KIND, serviceActionHandlers } from './actions.js';

export interface ServiceActionConsumerOptions {
  store: Store;
  logger: Logger;
  docker: Dockerode;
  /** `project/service` entries that may be acted on (SERVICE_ACTION_ALLOW). */
  allow: Iterable<string>;
  /** Actions run at once (default 2; actions on one service always run one at a time). */
  concurrency?: number;
  /** Seconds between SIGTERM and SIGKILL for stop/restart; unset: each container's own stop timeout. */
  stopTimeoutSeconds?: number;
  leaseSeconds?: number;
  heartbeatSeconds?: number;
  /** Poll fallback when idle (default 1000 ms; wake-ups start new items sooner). */
  pollIntervalMs?: number;
  /** How long stop() waits for running actions before releasing them (default 30 s: a stop may wait out a grace period). */
  graceMs?: number;
  onItemSettled?: (item: WorkItem, outcome: ItemOutcome, error?: string) => void;
}

export function startServiceActionConsumer(options: ServiceActionConsumerOptions): QueueRuntime {
  const concurrency = options.concurrency ?? 2;
  const logger = options.logger.child({ component: 'service-actions' });
  const runtime = runQueue({
    store: options.store,
    logger,
    owner: `service-actions-${randomUUID()}`,
    handlers: serviceActionHandlers({
      docker: options.docker,
      allow: options.allow,
      logger,
      ...(options.stopTimeoutSeconds !== undefined ? { stopTimeoutSeconds: options.stopTimeoutSeconds } : {}),
    }),
    // null (not undefined): only site-less items; undefined would claim every site's items too.
    siteId: null,
    kinds: [SERVICE_ACTION_KIND],
    lanes: [{ name: ANY_LANE, concurrency }],
    // Actions are slow and few: hold no more leases than can run.
    prefetch: concurrency,
    graceMs: options.graceMs ?? 30_000,
    handleSignals: false,
    ...(options.leaseSeconds !== undefined ? { leaseSeconds: options.leaseSeconds } : {}),
    ...(options.heartbeatSeconds !== undefined ? { heartbeatSeconds: options.heartbeatSeconds } : {}),
    ...(options.pollIntervalMs !== undefined ? { pollIntervalMs: options.pollIntervalMs } : {}),
    ...(options.onItemSettled ? { onItemSettled: options.onItemSettled } : {}),
  });
  logger.info({ concurrency, allow: [...new Set(options.allow)] }, 'service-action consumer started');
  return runtime;
}

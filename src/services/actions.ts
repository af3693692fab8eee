/**
 * Running one service action against the engine, and the `service_action` work handler.
 *
 * A compose service is every container labelled `com.docker.compose.project=<project>` and
 * `com.docker.compose.service=<service>` (one-off `compose run` containers excluded). Its
 * containers are acted on one after the other (a service with replicas restarts rolling), each
 * inspected before and after so the item's result records what changed.
 *
 * Failure classes: a malformed payload, an unknown action, a service off the allow-list or a
 * service with no container is a PermanentError (the item fails at once, no retry); an engine
 * error (unreachable, HTTP 500) is retried under the kind's retry policy.
 */
import type Dockerode from 'dockerode';
import { silentLogger, type Logger } from '../log.js';
import { PermanentError, type WorkHandler } from '../queue/runtime.js';
import { refusalReason } from './allow-list.js';
import {
  containerName,
  LABEL_COMPOSE_PROJECT,
  LABEL_COMPOSE_SERVICE,
  listServiceContainers,
  startedAt,
  statusOf,
  wrapEngineError,
} from './engine.js';
import { checkServiceActionRequest, SERVICE_ACTION_KIND, type ServiceAction, type ServiceActionRequest } from './service-key.js';

export { SERVICE_ACTION_KIND };

/** What happened to one container (snake_case: it is stored as result_json). */
export interface ContainerActionOutcome {
  name: string;
  id: string;
  previous_state: string;
  new_state: string;
  /** State.StartedAt before and after (ISO-8601 as the engine reports it; null if never started). */
  previous_started_at: string | null;
  started_at: string | null;
  /** False when the engine had nothing to do (start of a running / stop of a stopped container). */
  changed: boolean;
  duration_ms: number;
}

/** A service action's outcome: the work item's result_json. */
export interface ServiceActionResult {
  action: ServiceAction;
  service: string;
  containers: ContainerActionOutcome[];
  duration_ms: number;
}

export interface PerformOptions {
  /** Seconds the engine waits after SIGTERM before SIGKILL; unset: the container's own stop timeout (compose's stop_grace_period). */
  stopTimeoutSeconds?: number;
  /** Checked between containers; an aborted action stops before the next container. */
  signal?: AbortSignal;
  logger?: Logger;
}

/** Acts on every container of the service; throws PermanentError when it has none. */
export async function performServiceAction(
  docker: Dockerode,
  request: ServiceActionRequest,
  options: PerformOptions = {},
): Promise<ServiceActionResult> {
  const started = Date.now();
  const logger = options.logger ?? silentLogger;
  const infos = await listServiceContainers(docker, request.project, request.serviceName, options.signal);
  if (infos.length === 0) {
    throw new PermanentError(
      `service ${request.service} has no container on the engine ` +
        `(no container labelled ${LABEL_COMPOSE_PROJECT}=${request.project}, ${LABEL_COMPOSE_SERVICE}=${request.serviceName})`,
    );
  }
  const containers: ContainerActionOutcome[] = [];
  for (const info of infos) {
    options.signal?.throwIfAborted();
    containers.push(await actOnContainer(docker, request.action, info, options));
  }
  const result: ServiceActionResult = { action: request.action, service: request.service, containers, duration_ms: Date.now() - started };
  logger.info(
    { action: request.action, service: request.service, containers: containers.map((c) => `${c.name}: ${c.previous_state} → ${c.new_state}`), durationMs: result.duration_ms },
    'service action done',
  );
  return result;
}

async function actOnContainer(
  docker: Dockerode,
  action: ServiceAction,
  info: Dockerode.ContainerInfo,
  options: PerformOptions,
): Promise<ContainerActionOutcome> {
  const started = Date.now();
  const name = containerName(info);
  const container = docker.getContainer(info.Id);
  const inspect = async (when: string) => {
    try {
      return await container.inspect(options.signal ? { abortSignal: options.signal } : {});
    } catch (err) {
      throw wrapEngineError(`inspect container ${name} ${when} ${action}`, err);
    }
  };
  const before = await inspect('before');
  const timeout = options.stopTimeoutSeconds !== undefined ? { t: Math.max(0, Math.round(options.stopTimeoutSeconds)) } : {};
  let changed = true;
  try {
    if (action === 'restart') await container.restart(timeout);
    else if (action === 'stop') await container.stop(timeout);
    else await container.start();
  } catch (err) {
    // 304: already running (start) or already stopped (stop); the wanted state holds.
    if (statusOf(err) !== 304) throw wrapEngineError(`${action} container ${name}`, err);
    changed = false;
  }
  const after = await inspect('after');
  return {
    name,
    id: info.Id,
    previous_state: before.State?.Status ?? 'unknown',
    new_state: after.State?.Status ?? 'unknown',
    previous_started_at: startedAt(before.State),
    started_at: startedAt(after.State),
    changed,
    duration_ms: Date.now() - started,
  };
}

export interface ServiceActionHandlerOptions {
  docker: Dockerode;
  /** `project/service` entries (SERVICE_ACTION_ALLOW, see parseServiceAllowList). */
  allow: Iterable<string>;
  logger?: Logger;
  stopTimeoutSeconds?: number;
}

/**
 * The `service_action` handler for runQueue. Its return value (a ServiceActionResult) becomes the
 * item's result_json. Actions on the same service run one at a time, in claim order.
 */
export function serviceActionHandlers(options: ServiceActionHandlerOptions): Record<string, WorkHandler> {
  const allow: ReadonlySet<string> = new Set(options.allow);
  const baseLogger = options.logger ?? silentLogger;
  const locks = new KeyedLock();
  const handler: WorkHandler = async ({ item, payload, signal }) => {
    const logger = baseLogger.child({ itemId: item.id, kind: item.kind });
    const check = checkServiceActionRequest(payload);
    if (!check.ok) throw new PermanentError(check.error);
    const refusal = refusalReason(allow, check.request.service);
    if (refusal) {
      logger.warn({ service: check.request.service, action: check.request.action }, 'service action refused: not on the allow-list');
      throw new PermanentError(refusal);
    }
    return locks.run(check.request.service, () =>
      performServiceAction(options.docker, check.request, {
        signal,
        logger,
        ...(options.stopTimeoutSeconds !== undefined ? { stopTimeoutSeconds: options.stopTimeoutSeconds } : {}),
      }),
    );
  };
  return { [SERVICE_ACTION_KIND]: handler };
}

/** Runs functions one at a time per key (a promise chain per key, dropped when idle). */
class KeyedLock {
  readonly #tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const result = previous.then(fn, fn);
    const tail = result.catch(() => {});
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }
}

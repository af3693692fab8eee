/**
 * The Docker Engine side of service actions and snapshots: compose labels, listing a service's
 * containers, and turning dockerode's errors into one readable line (as src/fleet/docker-launcher.ts
 * does for worker containers).
 */
import type Dockerode from 'dockerode';

export const LABEL_COMPOSE_PROJECT = 'com.docker.compose.project';
export const LABEL_COMPOSE_SERVICE = 'com.docker.compose.service';
/** `True` on containers of `docker compose run`: one-off, not part of the service. */
export const LABEL_COMPOSE_ONEOFF = 'com.docker.compose.oneoff';

/** An engine error: what was attempted, the engine's own message and its HTTP status when known. */
export class ServiceEngineError extends Error {
  readonly statusCode: number | undefined;

  constructor(message: string, options: { cause?: unknown; statusCode?: number | undefined } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ServiceEngineError';
    this.statusCode = options.statusCode;
  }
}

export function statusOf(err: unknown): number | undefined {
  const code = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

/** The engine's own message, without dockerode's "(HTTP code N) reason - " prefix. */
export function engineMessage(err: unknown): string {
  const json = (err as { json?: unknown } | null)?.json;
  if (json && typeof json === 'object' && typeof (json as { message?: unknown }).message === 'string') {
    return (json as { message: string }).message.trim();
  }
  if (err instanceof Error) return err.message.trim() || err.name;
  return String(err);
}

export function wrapEngineError(action: string, err: unknown): ServiceEngineError {
  const status = statusOf(err);
  return new ServiceEngineError(`docker: cannot ${action}: ${engineMessage(err)}${status ? ` (HTTP ${status})` : ''}`, {
    cause: err,
    statusCode: status,
  });
}

export function containerName(info: { Names?: string[]; Id: string }): string {
  return (info.Names?.[0] ?? info.Id.slice(0, 12)).replace(/^\//, '');
}

function isOneOff(info: Dockerode.ContainerInfo): boolean {
  return /^true$/i.test(info.Labels?.[LABEL_COMPOSE_ONEOFF] ?? '');
}

/** Every container (running or not) of one compose service, one-off `run` containers excluded. */
export async function listServiceContainers(
  docker: Dockerode,
  project: string,
  service: string,
  signal?: AbortSignal,
): Promise<Dockerode.ContainerInfo[]> {
  let infos: Dockerode.ContainerInfo[];
  try {
    infos = await docker.listContainers({
      all: true,
      filters: { label: [`${LABEL_COMPOSE_PROJECT}=${project}`, `${LABEL_COMPOSE_SERVICE}=${service}`] },
      ...(signal ? { abortSignal: signal } : {}),
    });
  } catch (err) {
    throw wrapEngineError(`list the containers of ${project}/${service}`, err);
  }
  return infos.filter((i) => !isOneOff(i)).sort((a, b) => containerName(a).localeCompare(containerName(b)));
}

/** Every container carrying a compose project label, one-off containers excluded. */
export async function listComposeContainers(docker: Dockerode, signal?: AbortSignal): Promise<Dockerode.ContainerInfo[]> {
  let infos: Dockerode.ContainerInfo[];
  try {
    infos = await docker.listContainers({
      all: true,
      filters: { label: [LABEL_COMPOSE_PROJECT, LABEL_COMPOSE_SERVICE] },
      ...(signal ? { abortSignal: signal } : {}),
    });
  } catch (err) {
    throw wrapEngineError('list compose containers', err);
  }
  return infos.filter((i) => !isOneOff(i));
}

/** Docker's "never started" timestamp. */
const ZERO_TIME = /^0001-01-01T/;

/** State.StartedAt as the engine reports it, or null when the container never started. */
export function startedAt(state: { StartedAt?: string } | undefined): string | null {
  const value = state?.StartedAt;
  return value && !ZERO_TIME.test(value) ? value : null;
}

/**
 * The Docker Engine side of service actions and snapshots: compose labels, listing a service's
 * containers. Engine errors become one readable line through src/docker/errors.ts.
 */
import type Dockerode from 'dockerode';
import { containerName, wrapEngineError } from '../docker/errors.js';

export const LABEL_COMPOSE_PROJECT = 'com.docker.compose.project';
export const LABEL_COMPOSE_SERVICE = 'com.docker.compose.service';
/** `True` on containers of `docker compose run`: one-off, not part of the service. */
export const LABEL_COMPOSE_ONEOFF = 'com.docker.compose.oneoff';

export { containerName, DockerEngineError as ServiceEngineError, engineMessage, statusOf, wrapEngineError } from '../docker/errors.js';

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

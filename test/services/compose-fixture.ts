/**
 * Fake compose services on the REAL Docker Engine: containers of `local/node-base` running a
 * node loop, labelled like `docker compose up` labels them (com.docker.compose.project /
 * .service / .container-number) plus this run's `jobyard.test.services` label, so afterAll can
 * remove exactly what this test run created. No mock and no skip: without an engine or the image
 * the tests fail with how to get them.
 */
import { randomBytes } from 'node:crypto';
import Dockerode from 'dockerode';
import { pino, type Logger } from 'pino';
import { LABEL_COMPOSE_PROJECT, LABEL_COMPOSE_SERVICE } from '../../src/services/engine.js';

export const IMAGE = 'local/node-base';
export const RUN_LABEL = 'jobyard.test.services';
/** This test file's run id (every file imports its own copy of this module: one per fork). */
export const RUN_ID = `${process.pid}-${randomBytes(4).toString('hex')}`;
export const docker = new Dockerode();

/** Exits at once on SIGTERM, so stop/restart take milliseconds, not the 10 s kill timeout. */
const SCRIPT = "process.on('SIGTERM', () => process.exit(0)); setInterval(() => {}, 1000);";

/** A compose project name nobody else uses (lowercase, as compose requires). */
export function uniqueProject(tag: string): string {
  return `jytest-${tag}-${randomBytes(4).toString('hex')}`;
}

export async function requireEngine(): Promise<void> {
  const how = 'start it with: bash scripts/docker-engine.sh';
  try {
    await docker.ping();
  } catch (err) {
    throw new Error(`The Docker Engine is required for test/services and does not answer (${String(err)}); ${how}`);
  }
  try {
    await docker.getImage(IMAGE).inspect();
  } catch {
    throw new Error(`The image ${IMAGE} is required for test/services and is missing; ${how}`);
  }
}

export interface ServiceOptions {
  replicas?: number;
  /** Add a healthcheck that passes (checked every 500 ms). */
  healthcheck?: boolean;
}

/** Creates and starts the containers of one fake compose service; returns their ids in replica order. */
export async function createService(project: string, service: string, options: ServiceOptions = {}): Promise<string[]> {
  const ids: string[] = [];
  for (let n = 1; n <= (options.replicas ?? 1); n++) {
    const container = await docker.createContainer({
      name: `${project}-${service}-${n}`,
      Image: IMAGE,
      Entrypoint: ['node'],
      Cmd: ['-e', SCRIPT],
      Labels: {
        [LABEL_COMPOSE_PROJECT]: project,
        [LABEL_COMPOSE_SERVICE]: service,
        'com.docker.compose.container-number': String(n),
        'com.docker.compose.oneoff': 'False',
        [RUN_LABEL]: RUN_ID,
      },
      ...(options.healthcheck
        ? { Healthcheck: { Test: ['CMD', 'node', '-e', 'process.exit(0)'], Interval: 500_000_000, Timeout: 5_000_000_000, Retries: 3, StartPeriod: 0 } }
        : {}),
      // An init as PID 1: SIGTERM ends node even before its handler is installed.
      HostConfig: { NetworkMode: 'none', Init: true },
    });
    await container.start();
    ids.push(container.id);
  }
  return ids;
}

export async function inspect(id: string): Promise<Dockerode.ContainerInspectInfo> {
  return docker.getContainer(id).inspect();
}

/** Removes every container this test file created. */
export async function removeRunContainers(): Promise<void> {
  const infos = await docker.listContainers({ all: true, filters: { label: [`${RUN_LABEL}=${RUN_ID}`] } });
  await Promise.all(infos.map((i) => docker.getContainer(i.Id).remove({ force: true, v: true })));
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A logger that keeps its lines (parsed) for assertions. */
export function capturingLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, lines };
}

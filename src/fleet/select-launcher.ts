/**
 * Picks the site-worker launcher from WORKER_LAUNCHER: `docker` (the engine must answer and hold
 * WORKER_IMAGE), `process` (child processes), `off` (no launching here), or `auto` (docker when
 * the engine answers and holds WORKER_IMAGE, else process). The caller logs the choice once.
 */
import { createHash } from 'node:crypto';
import Dockerode from 'dockerode';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../config.js';
import { databaseFolder, databaseIdentity, type DatabaseTarget } from '../db/url.js';
import { UserError } from '../errors.js';
import type { Logger } from '../log.js';
import { createDockerLauncher, dockerAvailable } from './docker-launcher.js';
import type { WorkerLauncher } from './launcher.js';
import { createProcessLauncher } from './process-launcher.js';

export interface LauncherChoice {
  launcher: WorkerLauncher;
  /** Why this launcher: logged at start. */
  reason: string;
}

type LauncherConfig = Pick<
  Config,
  | 'WORKER_LAUNCHER'
  | 'WORKER_IMAGE'
  | 'WORKER_NETWORK'
  | 'WORKER_MEMORY_MB'
  | 'WORKER_CPUS'
  | 'WORKER_DATA_VOLUME'
  | 'WORKER_USER'
  | 'WORKER_FLEET'
  | 'WORKER_SPARES'
>;

/** Undefined for WORKER_LAUNCHER=off (site workers are run elsewhere, e.g. by hand). */
export async function selectLauncher(config: LauncherConfig, target: DatabaseTarget, logger: Logger): Promise<LauncherChoice | undefined> {
  const wanted = config.WORKER_LAUNCHER;
  if (wanted === 'off') return undefined;
  if (wanted === 'process') return { launcher: processLauncher(config.WORKER_SPARES), reason: 'WORKER_LAUNCHER=process' };
  const answers = await dockerAvailable();
  if (wanted === 'docker' && !answers) {
    throw new UserError('WORKER_LAUNCHER=docker but no Docker Engine answers (DOCKER_HOST or /var/run/docker.sock); start one or set WORKER_LAUNCHER=process');
  }
  if (!answers) return { launcher: processLauncher(config.WORKER_SPARES), reason: 'WORKER_LAUNCHER=auto and no Docker Engine answers' };
  // An engine without the worker image cannot run workers: auto falls back, docker refuses.
  if (!(await imageExists(config.WORKER_IMAGE))) {
    if (wanted === 'docker') {
      throw new UserError(`WORKER_LAUNCHER=docker but the engine has no image "${config.WORKER_IMAGE}" (WORKER_IMAGE); build it with: docker build -t ${config.WORKER_IMAGE} .`);
    }
    return { launcher: processLauncher(config.WORKER_SPARES), reason: `WORKER_LAUNCHER=auto and the Docker Engine has no image ${config.WORKER_IMAGE}` };
  }
  const launcher = createDockerLauncher({
    image: config.WORKER_IMAGE,
    fleet: config.WORKER_FLEET ?? defaultFleetId(target),
    networkMode: config.WORKER_NETWORK,
    memoryBytes: config.WORKER_MEMORY_MB * 1024 * 1024,
    nanoCpus: Math.round(config.WORKER_CPUS * 1e9),
    sqliteDataDir: databaseFolder(target),
    ...(config.WORKER_DATA_VOLUME ? { sqliteDataSource: config.WORKER_DATA_VOLUME } : {}),
    ...(config.WORKER_USER ? { user: config.WORKER_USER } : {}),
    spares: config.WORKER_SPARES,
    logger,
  });
  return { launcher, reason: wanted === 'docker' ? 'WORKER_LAUNCHER=docker' : 'WORKER_LAUNCHER=auto and the Docker Engine answers' };
}

/** The CLI script workers run: bin/jobyard.js of this installation (from src/ or dist/src/). */
export function jobyardEntrypoint(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    const candidate = resolve(dir, 'bin/jobyard.js');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error('cannot find bin/jobyard.js above ' + fileURLToPath(import.meta.url));
}

async function imageExists(image: string): Promise<boolean> {
  try {
    await new Dockerode().getImage(image).inspect();
    return true;
  } catch {
    return false;
  }
}

function processLauncher(spares: number): WorkerLauncher {
  return createProcessLauncher({ entrypoint: jobyardEntrypoint(), spares });
}

/**
 * The default `jobyard.fleet` label: a short hash of the database the workers use, so the
 * schedulers of one deployment (replicas included) agree on it and another deployment on the
 * same engine differs.
 */
export function defaultFleetId(target: DatabaseTarget): string {
  return createHash('sha256').update(databaseIdentity(target)).digest('hex').slice(0, 12);
}

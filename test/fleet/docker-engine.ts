/**
 * The real Docker Engine and test worker image for a docker test file. `useDockerTestEngine()`,
 * called once at a file's top level, fails the file at once when the engine or the image is
 * missing, and removes the file's containers after its tests. Each call gets its own
 * `jobyard.fleet` label, so other files' workers on the same engine are never its own.
 */
import { randomUUID } from 'node:crypto';
import { dirname } from 'node:path';
import Dockerode from 'dockerode';
import { afterAll, beforeAll } from 'vitest';
import { dockerAvailable, type DockerLauncherOptions } from '../../src/fleet/docker-launcher.js';
import { LABEL_FLEET } from '../../src/fleet/launcher.js';
import type { BackendContext } from '../helpers/backends.js';

/** Built by `npm test`'s pretest step. */
const IMAGE = process.env.WORKER_TEST_IMAGE ?? 'jobyard-worker:test';

export interface DockerTestEngine {
  docker: Dockerode;
  /** The test worker image and this file's `jobyard.fleet` label. */
  image: string;
  fleet: string;
  /** This file's containers (running or not). */
  labelledContainers(): Promise<Dockerode.ContainerInfo[]>;
  /**
   * Launcher options for workers on the test database: host networking (PostgreSQL), SQLite's
   * folder mounted at the same path, 256 MiB, and the user running the tests (the database
   * file is theirs; production runs workers as the image's `node` user, WORKER_USER).
   */
  launcherOptions(ctx: BackendContext): DockerLauncherOptions;
}

export function useDockerTestEngine(): DockerTestEngine {
  const docker = new Dockerode();
  const fleet = `test-${randomUUID()}`;
  const labelledContainers = () => docker.listContainers({ all: true, filters: { label: [`${LABEL_FLEET}=${fleet}`] } });

  beforeAll(async () => {
    if (!(await dockerAvailable(docker, 3_000))) {
      throw new Error('The Docker Engine does not answer; `npm test` starts it (scripts/test-env.sh), or run: bash scripts/docker-engine.sh');
    }
    await docker.getImage(IMAGE).inspect().catch(() => {
      throw new Error(`The test worker image ${IMAGE} is missing; build it with: npm run build && bash scripts/build-worker-image.sh`);
    });
  });
  afterAll(async () => {
    for (const c of await labelledContainers()) await docker.getContainer(c.Id).remove({ force: true }).catch(() => {});
  });

  return {
    docker,
    image: IMAGE,
    fleet,
    labelledContainers,
    launcherOptions: (ctx) => ({
      image: IMAGE,
      fleet,
      docker,
      networkMode: 'host',
      memoryBytes: 256 * 1024 * 1024,
      sqliteDataDir: ctx.backend === 'sqlite' ? dirname(ctx.url.slice('sqlite:'.length)) : null,
      user: `${process.getuid!()}:${process.getgid!()}`,
    }),
  };
}

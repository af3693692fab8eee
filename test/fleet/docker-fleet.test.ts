/**
 * Site workers as containers of the REAL Docker Engine (image `jobyard-worker:test`, built by
 * `npm test`'s pretest step), launched and reconciled by the fleet, on both backends: SQLite
 * through the data folder mounted at the same path, PostgreSQL through host networking.
 */
import { randomUUID } from 'node:crypto';
import { dirname } from 'node:path';
import Dockerode from 'dockerode';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createDockerLauncher, dockerAvailable } from '../../src/fleet/docker-launcher.js';
import { LABEL_FLEET } from '../../src/fleet/launcher.js';
import { describeBackends } from '../helpers/backends.js';
import { fleetScenarios } from './scenarios.js';

const IMAGE = process.env.WORKER_TEST_IMAGE ?? 'jobyard-worker:test';
const docker = new Dockerode();
/** This file's `jobyard.fleet` label: other test files' workers on the same engine are not ours. */
const FLEET = `test-${randomUUID()}`;

async function labelledContainers() {
  return docker.listContainers({ all: true, filters: { label: [`${LABEL_FLEET}=${FLEET}`] } });
}

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

describeBackends('site workers as Docker containers', (ctx) => {
  fleetScenarios({
    ctx,
    launcher: () =>
      createDockerLauncher({
        image: IMAGE,
        fleet: FLEET,
        docker,
        networkMode: 'host',
        memoryBytes: 256 * 1024 * 1024,
        sqliteDataDir: ctx.backend === 'sqlite' ? dirname(ctx.url.slice('sqlite:'.length)) : null,
        // The test database belongs to the user running the tests; production runs workers as
        // the image's `node` user on a volume that user owns (WORKER_USER).
        user: `${process.getuid!()}:${process.getgid!()}`,
      }),
    exitedState: 'exited',
    async kill(_launcher, workerGuid) {
      await docker.getContainer(`site-worker-${workerGuid}`).kill({ signal: 'SIGKILL' });
    },
  });

  it('leaves no labelled container behind', async () => {
    expect(await labelledContainers()).toEqual([]);
  });
});

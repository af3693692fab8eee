/**
 * No secret reaches a command, with site workers as containers of the REAL Docker Engine (both
 * backends): the worker's DATABASE_URL (with a password on PostgreSQL) and HTTP_TOKEN come on
 * the container's one-shot stdin, so they are neither in `docker inspect` nor in
 * /proc/1/environ, and the command (run as 65534 because the worker runs as root here) finds
 * them nowhere. Needs the engine and the test image (see docker-fleet.test.ts).
 */
import { randomUUID } from 'node:crypto';
import { dirname } from 'node:path';
import Dockerode from 'dockerode';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createDockerLauncher, dockerAvailable } from '../../src/fleet/docker-launcher.js';
import { Fleet } from '../../src/fleet/fleet.js';
import { LABEL_FLEET } from '../../src/fleet/launcher.js';
import { silentLogger } from '../../src/log.js';
import { expectNothingFound, runProbe, testSecrets, urlWithPassword } from '../fixtures/secret-probe.js';
import { describeBackends } from '../helpers/backends.js';

const IMAGE = process.env.WORKER_TEST_IMAGE ?? 'jobyard-worker:test';
const docker = new Dockerode();
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

describeBackends('no secret reaches a command (docker launcher)', (ctx) => {
  it('secrets stay out of the container\'s Env and Cmd, and its commands find none', async () => {
    const secrets = testSecrets();
    const launcher = createDockerLauncher({
      image: IMAGE,
      fleet: FLEET,
      docker,
      networkMode: 'host',
      memoryBytes: 256 * 1024 * 1024,
      sqliteDataDir: ctx.backend === 'sqlite' ? dirname(ctx.url.slice('sqlite:'.length)) : null,
      user: `${process.getuid!()}:${process.getgid!()}`,
    });
    const fleet = new Fleet({
      store: ctx.store,
      launcher,
      logger: silentLogger,
      workerEnv: {
        DATABASE_URL: urlWithPassword(ctx, secrets.password),
        HTTP_TOKEN: secrets.token,
        BACKUP_API_KEY: secrets.apiKey,
        WORKER_IDLE_SECONDS: '30',
        LOG_LEVEL: 'warn',
      },
    });
    try {
      const stdout = await runProbe(ctx, fleet, secrets.probeEnv);
      expectNothingFound(stdout, secrets);
      const [container] = await labelledContainers();
      const inspected = JSON.stringify(await docker.getContainer(container!.Id).inspect());
      expect(inspected).toContain('WORKER_SECRETS=stdin');
      expect(inspected).not.toContain(secrets.marker);
    } finally {
      for (const w of await launcher.list()) {
        if (w.running) await launcher.stop(w.workerGuid, { graceMs: 1_000 });
        await launcher.remove(w.workerGuid);
      }
      await ctx.truncateAll();
    }
  }, 150_000);
});

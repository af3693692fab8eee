/**
 * No secret reaches a command, with site workers as containers of the REAL Docker Engine (both
 * backends): the worker's DATABASE_URL (with a password on PostgreSQL) and HTTP_TOKEN come on
 * the container's one-shot stdin, so they are neither in `docker inspect` nor in
 * /proc/1/environ, and the command (run as 65534 because the worker runs as root here) finds
 * them nowhere. Needs the engine and the test image (see docker-engine.ts).
 */
import { expect, it } from 'vitest';
import { createDockerLauncher } from '../../src/fleet/docker-launcher.js';
import { Fleet } from '../../src/fleet/fleet.js';
import { silentLogger } from '../../src/log.js';
import { expectNothingFound, runProbe, testSecrets, urlWithPassword } from '../fixtures/secret-probe.js';
import { describeBackends } from '../helpers/backends.js';
import { useDockerTestEngine } from './docker-engine.js';
import { stopAndRemoveWorkers, until } from './scenarios.js';

const { docker, labelledContainers, launcherOptions } = useDockerTestEngine();

describeBackends('no secret reaches a command (docker launcher)', (ctx) => {
  it.each([
    { spares: 0, env: 'WORKER_SECRETS=stdin' },
    { spares: 1, env: 'WORKER_SPARE=stdin' }, // a spare's assignment comes on the same stdin
  ])('secrets stay out of the container\'s Env and Cmd, and its commands find none (spares: $spares)', async ({ spares, env }) => {
    const secrets = testSecrets();
    const launcher = createDockerLauncher({ ...launcherOptions(ctx), spares });
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
      if (spares > 0) await until('a spare waiting', async () => launcher.spareNames().length === spares);
      const stdout = await runProbe(ctx, fleet, secrets.probeEnv);
      expectNothingFound(stdout, secrets);
      const [worker] = await launcher.list();
      const inspected = JSON.stringify(await docker.getContainer(worker!.containerName).inspect());
      expect(inspected).toContain(env);
      expect(inspected).not.toContain(secrets.marker);
      for (const c of await labelledContainers()) expect(JSON.stringify(await docker.getContainer(c.Id).inspect())).not.toContain(secrets.marker);
    } finally {
      await stopAndRemoveWorkers(launcher);
      await launcher.close();
      await ctx.truncateAll();
    }
  }, 150_000);
});

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
import { stopAndRemoveWorkers } from './scenarios.js';

const { docker, labelledContainers, launcherOptions } = useDockerTestEngine();

describeBackends('no secret reaches a command (docker launcher)', (ctx) => {
  it('secrets stay out of the container\'s Env and Cmd, and its commands find none', async () => {
    const secrets = testSecrets();
    const launcher = createDockerLauncher(launcherOptions(ctx));
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
      await stopAndRemoveWorkers(launcher);
      await ctx.truncateAll();
    }
  }, 150_000);
});

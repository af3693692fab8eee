/**
 * No secret reaches a command, with site workers as child processes (both backends): the
 * worker's DATABASE_URL (carrying a password on PostgreSQL) and the scheduler's HTTP_TOKEN and
 * other secret-named variables are nowhere a command can look — its environment, any
 * /proc/<pid>/environ or cmdline, the worker's fds and memory, files in /tmp. The tests run as
 * root, so commands run as `nobody` (COMMAND_USER's default for a root worker).
 */
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { Fleet } from '../../src/fleet/fleet.js';
import { createProcessLauncher } from '../../src/fleet/process-launcher.js';
import { jobyardEntrypoint } from '../../src/fleet/select-launcher.js';
import { silentLogger } from '../../src/log.js';
import { expectNothingFound, runProbe, testSecrets, urlWithPassword } from '../fixtures/secret-probe.js';
import { describeBackends, type BackendContext } from '../helpers/backends.js';
import { stopAndRemoveWorkers } from './scenarios.js';

describeBackends('no secret reaches a command (process launcher)', (ctx) => {
  // A spare (spares: 1) gets its site, environment and secrets on stdin after it booted.
  for (const spares of [0, 1]) it(`the worker gets DATABASE_URL on stdin, not in its environment, and its commands find no secret anywhere (${spares} spares)`, async () => {
    const secrets = testSecrets();
    // The scheduler's environment holds HTTP_TOKEN and another secret: a worker inherits neither.
    const launcher = createProcessLauncher({
      entrypoint: jobyardEntrypoint(),
      stdio: 'ignore',
      baseEnv: { ...process.env, HTTP_TOKEN: secrets.token, BACKUP_API_KEY: secrets.apiKey },
      spares,
    });
    const dbUrl = urlWithPassword(ctx, secrets.password);
    const fleet = new Fleet({
      store: ctx.store,
      launcher,
      logger: silentLogger,
      workerEnv: { DATABASE_URL: dbUrl, HTTP_TOKEN: secrets.token, WORKER_IDLE_SECONDS: '2', LOG_LEVEL: 'warn' },
    });
    try {
      const environ = new Map<number, string>();
      const read = launcher.list.bind(launcher);
      // Read by the test (root) while the worker runs: what a same-user reader would see.
      launcher.list = async () => {
        const list = await read();
        for (const w of list) {
          if (!w.pid || !w.running || environ.has(w.pid)) continue;
          try {
            environ.set(w.pid, readFileSync(`/proc/${w.pid}/environ`, 'latin1') + readFileSync(`/proc/${w.pid}/cmdline`, 'latin1'));
          } catch {
            // exited meanwhile
          }
        }
        return list;
      };
      const stdout = await runProbeWhileWatching(ctx, fleet, launcher.list, secrets.probeEnv);
      expectNothingFound(stdout, secrets);
      expect(environ.size).toBe(1);
      for (const text of environ.values()) {
        expect(text).toContain(spares > 0 ? 'WORKER_SPARE=stdin' : 'WORKER_SECRETS=stdin');
        expect(text).not.toContain(secrets.marker);
        expect(text).not.toContain('DATABASE_URL=');
      }
    } finally {
      await stopAndRemoveWorkers(launcher);
      await launcher.close();
      await ctx.truncateAll();
    }
  }, 120_000);
});

/** runProbe, listing the workers now and then meanwhile (so the test can read their environ). */
async function runProbeWhileWatching(ctx: BackendContext, fleet: Fleet, list: () => Promise<unknown>, probeEnv: Record<string, string>): Promise<string> {
  let watching = true;
  const watch = (async () => {
    while (watching) {
      await list();
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  try {
    return await runProbe(ctx, fleet, probeEnv);
  } finally {
    watching = false;
    await watch;
  }
}

import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { loadConfig } from '../config.js';
import { openDatabase } from '../db/open.js';
import { workerPoolMax } from '../db/pool-profile.js';
import { UserError } from '../errors.js';
import { resolveCommandUser } from '../executors/components/command-isolation.js';
import { runSiteWorker } from '../fleet/site-worker.js';
import { takeWorkerSecrets, WORKER_LIVENESS_FD_VAR, WORKER_SECRETS_VAR } from '../fleet/worker-secrets.js';
import { createLogger } from '../log.js';
import { parseId } from './output.js';
import { findSiteById } from '../inventory/sites.js';

/**
 * `jobyard worker --site <id> [--lanes a,b]`: one site worker (what a `site-worker-<uuid>`
 * container or child process runs). The scheduler passes WORKER_GUID and CONTAINER_NAME, for the
 * row it wrote before launching; started by hand, the worker makes up its own.
 * Exit codes: 0 after idling out or draining on SIGTERM, 1 when the scheduler declared it lost.
 */
export function registerWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description('run one site worker: claim the site\'s work items, execute them, exit when idle')
    .requiredOption('--site <id>', 'site id whose work items this worker claims')
    .option('--lanes <names>', 'comma-separated lanes to claim from (default: every lane)')
    .addHelpText(
      'after',
      `
Environment (default):
  DATABASE_URL          database (sqlite:./data/jobyard.db)
  WORKER_GUID           this worker's id (a new UUID)
  CONTAINER_NAME        its container name (site-worker-<WORKER_GUID>)
  WORKER_CONCURRENCY    items run at once per lane (7)
  WORKER_IDLE_SECONDS   exit after this long with nothing to do (30)
  COMMAND_USER          user commands run as (nobody when the worker is root)
  LOG_LEVEL             pino level (info)
  WORKER_SECRETS=stdin  (set by launchers) DATABASE_URL, the credentials key and other secrets come as JSON on stdin
  WORKER_SPARE=stdin    (set by the process launcher) boot, then wait on stdin for the site to work for
  CREDENTIALS_KEY_FILE, CREDENTIALS_UNLOCK_COMMAND  unlock source when started by hand (see jobyard credentials --help)`,
    )
    .action(async (options: { site: string; lanes?: string }) => {
      const siteId = parseId(options.site, 'worker: --site (a site id)');
      const lanes = parseLanes(options.lanes);
      // Secrets come on stdin from a launcher, never in the environment commands could read.
      const secrets = process.env[WORKER_SECRETS_VAR] === 'stdin' ? await takeWorkerSecrets(process.stdin) : {};
      const config = loadConfig({ ...process.env, ...secrets });
      let commandUser;
      try {
        commandUser = resolveCommandUser(config.COMMAND_USER);
      } catch (err) {
        throw new UserError((err as Error).message);
      }
      const livenessFd = Number(process.env[WORKER_LIVENESS_FD_VAR]);
      const workerGuid = process.env.WORKER_GUID || randomUUID();
      const containerName = process.env.CONTAINER_NAME || `site-worker-${workerGuid}`;
      const logger = createLogger({ name: 'site-worker', level: config.LOG_LEVEL });
      // A worker's pool follows what it runs at once, not the host: the fleet budgets for it.
      const poolMax = workerPoolMax(config.WORKER_CONCURRENCY, lanes?.length ?? 1);
      const store = openDatabase(config.DATABASE_URL, { logger, applicationName: 'jobyard-worker', poolMax, env: { ...process.env, ...secrets } });
      // Checked before the worker's row is written: a worker of a site that does not exist is a typo.
      const siteFound = findSiteById(store, siteId);
      // The executors and credentials (most of the worker's own modules) load while the database
      // connects and answers, instead of before: the boot is on the path to a new site's first item.
      const loaded = Promise.all([import('../executors/index.js'), import('../credentials/index.js')]);
      loaded.catch(() => {}); // awaited below; a failure is reported there
      try {
        if (!(await siteFound)) {
          throw new UserError(`worker: --site: no site with id ${siteId}`);
        }
        const [{ defaultExecutorConfig, executorHandlers }, { CredentialLock, createDatabaseCredentialProvider, keyFromWorkerSecrets, unlockAtStart }] = await loaded;
        // The scheduler sends the derived key (never the operator's secret) on stdin; a worker
        // started by hand may unlock from its own CREDENTIALS_KEY_FILE or _UNLOCK_COMMAND.
        const credentialLock = new CredentialLock(keyFromWorkerSecrets(secrets));
        if (credentialLock.state === 'locked' && process.env[WORKER_SECRETS_VAR] !== 'stdin') await unlockAtStart(store, config, credentialLock, logger);
        const exit = await runSiteWorker({
          store,
          logger,
          siteId,
          lanes,
          workerGuid,
          containerName,
          concurrency: config.WORKER_CONCURRENCY,
          idleSeconds: config.WORKER_IDLE_SECONDS,
          leaseSeconds: config.WORKER_LEASE_SECONDS,
          itemHeartbeatSeconds: config.WORKER_HEARTBEAT_SECONDS,
          handlers: executorHandlers({
            store,
            credentials: createDatabaseCredentialProvider(store, credentialLock),
            config: {
              ...defaultExecutorConfig(),
              commandIsolation: {
                ...(commandUser ? { user: commandUser } : {}),
                ...(Number.isInteger(livenessFd) && livenessFd > 2 ? { livenessFd } : {}),
              },
            },
            workerGuid,
          }),
        });
        if (exit === 'lost') process.exitCode = 1;
      } finally {
        await store.close();
      }
    });
}

function parseLanes(raw: string | undefined): string[] | null {
  if (raw === undefined) return null;
  const lanes = raw.split(',').map((l) => l.trim()).filter((l) => l !== '');
  if (lanes.length === 0) throw new UserError('--lanes: expected a comma-separated list of lane names, e.g. default,slow');
  return lanes;
}

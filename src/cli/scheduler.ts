import type { Command } from 'commander';
import { loadConfig, type Config } from '../config.js';
import { openDatabase, type Store } from '../db/open.js';
import { isProcessLocal, workerDatabaseUrl } from '../db/url.js';
import { describeError, UserError } from '../errors.js';
import type { Fleet } from '../fleet/fleet.js';
import { createLogger, type Logger } from '../log.js';

export function registerSchedulerCommand(program: Command): void {
  program
    .command('scheduler')
    .description('run the scheduler service: migrations on start, the tick loop, lease reclaim, pruning (stops on SIGTERM/SIGINT)')
    .addHelpText(
      'after',
      `
Environment (default):
  DATABASE_URL              database (sqlite:./data/jobyard.db)
  MIGRATE_ON_START          apply pending migrations on start (true)
  TICK_INTERVAL_MS          tick interval (1000)
  MISFIRE_GRACE_SECONDS     an occurrence older than this is missed (60)
  OFFLINE_AFTER_SECONDS     a device not seen for this long is offline (600)
  RECLAIM_INTERVAL_SECONDS  how often expired leases are reclaimed (5)
  WORK_ITEM_RETENTION_DAYS  finished work items are pruned after (7)
  UI_ROLLUP_RETENTION_DAYS  days of per-minute dashboard chart rows kept (30, at least 1)
  AUDIT_RETENTION_DAYS      audit rows are pruned after (90)
  WORKER_LAUNCHER           auto | docker | process | off (auto: docker when the engine answers)
  WORKER_IMAGE              image of site-worker containers (jobyard:local)
  WORKER_NETWORK            their network mode (host)
  WORKER_DATA_VOLUME        volume holding the SQLite folder (unset: bind-mount the host folder)
  WORKER_MEMORY_MB, WORKER_CPUS  container limits (512, 1)
  WORKER_CONCURRENCY        items a worker runs at once (7)
  COMMAND_USER              user commands run as (nobody when the worker runs as root)
  WORKER_IDLE_SECONDS       a worker exits after idling this long (30)
  WORKER_STALE_SECONDS      a worker silent this long is lost (30)
  WORKER_START_SECONDS      a launched worker not running after this long is lost (120)
  WORKER_LEASE_SECONDS      a site worker's item lease (60)
  WORKER_HEARTBEAT_SECONDS  how often a site worker renews its leases (15)
  WORKER_HISTORY_SECONDS    stopped/lost worker rows are kept this long (60)
  MAX_WORKERS_PER_SITE      live workers per site (1)
  MAX_WORKERS               live workers in all (20)
  SERVICE_ACTION_ALLOW      compose services actions may touch: project/service,... (none)
  SERVICE_ACTION_CONCURRENCY  service actions run at once (2)
  SERVICE_ACTION_STOP_TIMEOUT_SECONDS  SIGTERM→SIGKILL for stop/restart (the container's own)
  SERVICE_SNAPSHOT_SECONDS  service snapshot interval, 0 for off (15)
  HTTP_HOST                 HTTP API address (127.0.0.1; another address needs a token)
  HTTP_PORT                 HTTP API port, 0 for any free one (8787)
  HTTP_TOKEN                bootstrap admin token (unset: only jobyard tokens create ones)
  CREDENTIALS_KEY_FILE      file holding the credentials unlock secret, mode 600 (unset: locked)
  CREDENTIALS_UNLOCK_COMMAND  command printing the unlock secret, run without a shell (unset: locked)
  LOG_LEVEL                 pino level (info)`,
    )
    .action(async () => {
      const config = loadConfig();
      const { assertKnownSchema, migrateToLatest, migrationStatus } = await import('../db/migrate.js');
      const { MIGRATIONS } = await import('../../migrations/index.js');
      const { SchedulerService } = await import('../daemon/scheduler.js');
      const logger = createLogger({ level: config.LOG_LEVEL });
      const store = openDatabase(config.DATABASE_URL, { logger });
      try {
        if (config.MIGRATE_ON_START) {
          const applied = await migrateToLatest(store, MIGRATIONS);
          if (applied.length > 0) logger.info({ applied }, 'migrations applied');
        } else {
          await assertKnownSchema(store, MIGRATIONS);
          const pending = (await migrationStatus(store, MIGRATIONS)).filter((m) => m.appliedAt === null);
          if (pending.length > 0) {
            throw new UserError(`database has pending migrations (${pending.map((m) => m.name).join(', ')}); run jobyard migrate latest or set MIGRATE_ON_START=true`);
          }
        }
        const { checkHttpExposure, createMetrics, startHttpServer } = await import('../http/index.js');
        await checkHttpExposure(store, config.HTTP_HOST, config.HTTP_TOKEN);
        const { CredentialLock, unlockAtStart, workerKeyEnv } = await import('../credentials/index.js');
        const credentialLock = new CredentialLock();
        // Before the fleet: the first worker launched already gets the key.
        await unlockAtStart(store, config, credentialLock, logger);
        const fleet = await createFleet(config, store, logger, () => workerKeyEnv(credentialLock));
        const { default: Dockerode } = await import('dockerode');
        let scheduler: InstanceType<typeof SchedulerService> | undefined;
        const status = () => ({ lastTickAt: scheduler?.lastTick?.at ?? null, tickIntervalMs: config.TICK_INTERVAL_MS, credentials: credentialLock.state });
        const metrics = createMetrics({ store, status });
        scheduler = new SchedulerService({
          store,
          logger,
          tickIntervalMs: config.TICK_INTERVAL_MS,
          misfireGraceMs: config.MISFIRE_GRACE_SECONDS * 1000,
          offlineAfterMs: config.OFFLINE_AFTER_SECONDS * 1000,
          reclaimIntervalMs: config.RECLAIM_INTERVAL_SECONDS * 1000,
          retentionMs: config.WORK_ITEM_RETENTION_DAYS * 86_400_000,
          rollupRetentionMs: config.UI_ROLLUP_RETENTION_DAYS * 86_400_000,
          auditRetentionMs: config.AUDIT_RETENTION_DAYS * 86_400_000,
          maintenanceJitter: config.MAINTENANCE_JITTER,
          metrics,
          services: {
            docker: new Dockerode(),
            allow: config.SERVICE_ACTION_ALLOW,
            concurrency: config.SERVICE_ACTION_CONCURRENCY,
            snapshotIntervalMs: config.SERVICE_SNAPSHOT_SECONDS * 1000,
            ...(config.SERVICE_ACTION_STOP_TIMEOUT_SECONDS !== undefined ? { stopTimeoutSeconds: config.SERVICE_ACTION_STOP_TIMEOUT_SECONDS } : {}),
          },
          ...(fleet ? { fleet, fleetIntervalMs: config.FLEET_INTERVAL_MS, reconcileIntervalMs: config.RECONCILE_INTERVAL_SECONDS * 1000 } : {}),
        }).start();
        let http: Awaited<ReturnType<typeof startHttpServer>> | undefined;
        try {
          // startHttpServer logs the address it listens on.
          http = await startHttpServer({
            store,
            logger,
            host: config.HTTP_HOST,
            port: config.HTTP_PORT,
            token: config.HTTP_TOKEN,
            status,
            metrics,
            serviceAllow: config.SERVICE_ACTION_ALLOW,
            offlineAfterMs: config.OFFLINE_AFTER_SECONDS * 1000,
            credentialLock,
            uiBasePath: config.UI_BASE_PATH,
          });
        } catch (err) {
          await scheduler.stop();
          if (err instanceof UserError) throw err; // the refusal to serve without a token says it all
          throw new UserError(`cannot serve HTTP on ${config.HTTP_HOST}:${config.HTTP_PORT}: ${describeError(err)} (set HTTP_PORT or HTTP_HOST)`);
        }
        await new Promise<void>((resolve) => {
          const onSignal = (signal: NodeJS.Signals) => {
            logger.info({ signal }, 'stopping scheduler');
            resolve();
          };
          process.once('SIGTERM', onSignal);
          process.once('SIGINT', onSignal);
        });
        await http.close();
        await scheduler.stop();
        // Child processes would outlive us unsupervised: drain them. Containers carry on and
        // exit when idle; the next scheduler reconciles them.
        if (fleet?.launcher.kind === 'process') await fleet.stopAll(10_000);
        await fleet?.launcher.close();
      } finally {
        await store.close();
      }
    });
}

/** The site-worker fleet, or undefined when workers are not launched from here. */
async function createFleet(config: Config, store: Store, logger: Logger, workerEnvAtLaunch: () => Record<string, string>): Promise<Fleet | undefined> {
  const { Fleet } = await import('../fleet/fleet.js');
  const { selectLauncher } = await import('../fleet/select-launcher.js');
  if (isProcessLocal(store.target)) {
    logger.warn('in-memory SQLite cannot be shared with site workers: none will be launched');
    return undefined;
  }
  const choice = await selectLauncher(config, store.target, logger);
  if (!choice) {
    logger.info('WORKER_LAUNCHER=off: site workers are not launched by this scheduler');
    return undefined;
  }
  logger.info({ launcher: choice.launcher.kind, reason: choice.reason }, 'site-worker launcher selected');
  const connectionBudget = await fleetConnectionBudget(config, store, logger);
  return new Fleet({
    ...(connectionBudget ? { connectionBudget } : {}),
    store,
    logger,
    launcher: choice.launcher,
    workerEnv: {
      DATABASE_URL: workerDatabaseUrl(store.target),
      WORKER_CONCURRENCY: String(config.WORKER_CONCURRENCY),
      WORKER_IDLE_SECONDS: String(config.WORKER_IDLE_SECONDS),
      WORKER_LEASE_SECONDS: String(config.WORKER_LEASE_SECONDS),
      WORKER_HEARTBEAT_SECONDS: String(config.WORKER_HEARTBEAT_SECONDS),
      LOG_LEVEL: config.LOG_LEVEL,
      ...(config.COMMAND_USER ? { COMMAND_USER: config.COMMAND_USER } : {}),
      // Workers reach the database the way the scheduler does (PgBouncer, listener, clock bound).
      ...pickDefined(config, ['DATABASE_POOL_MODE', 'DATABASE_LISTEN_URL', 'DB_POLL_MS', 'DB_LISTEN_CHECK_MS', 'DB_LISTEN_CHECK_TIMEOUT_MS', 'DB_WAKE_JITTER_MS']),
      DB_MAX_CLOCK_OFFSET_SECONDS: String(config.DB_MAX_CLOCK_OFFSET_SECONDS),
    },
    workerEnvAtLaunch,
    maxWorkersPerSite: config.MAX_WORKERS_PER_SITE,
    maxWorkers: config.MAX_WORKERS,
    staleAfterMs: config.WORKER_STALE_SECONDS * 1000,
    startTimeoutMs: config.WORKER_START_SECONDS * 1000,
    historyMs: config.WORKER_HISTORY_SECONDS * 1000,
  });
}

/**
 * What the fleet may open (PostgreSQL): each launched worker runs every lane at WORKER_CONCURRENCY,
 * so it needs its pool plus its listener; this scheduler's pool and listener are set aside first.
 */
async function fleetConnectionBudget(config: Config, store: Store, logger: Logger) {
  const { resolveConnectionBudget } = await import('../db/connection-budget.js');
  const { LISTENER_CONNECTIONS, workerPoolMax } = await import('../db/pool-profile.js');
  const limit = await resolveConnectionBudget(store, config.DB_CONNECTION_BUDGET);
  if (limit === undefined) return undefined;
  const budget = {
    limit,
    perWorker: workerPoolMax(config.WORKER_CONCURRENCY, 1) + LISTENER_CONNECTIONS,
    reserved: store.pool.poolMax + LISTENER_CONNECTIONS,
  };
  logger.info(budget, 'connection budget for site workers');
  return budget;
}

/** The named settings that are set, as strings (a worker's environment). */
function pickDefined<K extends keyof Config>(config: Config, names: readonly K[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) if (config[name] !== undefined && config[name] !== '') out[name] = String(config[name]);
  return out;
}

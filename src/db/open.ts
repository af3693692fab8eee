import os from 'node:os';
import { Kysely, PostgresDialect } from './kysely.js';
import type pg from 'pg';
import type { Logger } from '../log.js';
import { silentLogger } from '../log.js';
import { DEFAULT_MAX_OFFSET_MS, hostClock, openServerClock, type StoreClock } from './clock.js';
import { connectionSettings, DEFAULTS as CONNECTION_DEFAULTS, type PoolMode, type WakeupSettings } from './connection-settings.js';
import { dialectFor, type Dialect } from './dialect.js';
import { LISTENER_CONNECTIONS, selectPoolSettings, type PoolSettings } from './pool-profile.js';
import { createPostgresPool, loadPg } from './postgres-pool.js';
import type { Database } from './schema.js';
import { JobyardSqliteDialect, loadBetterSqlite3, openSqliteFile, wrapSqliteDatabase } from './sqlite-driver.js';
import { describeTarget, parseDatabaseUrl, type DatabaseTarget } from './url.js';

/** An open database: the Kysely instance, the rules of its backend, and how to close it. */
export interface Store {
  readonly db: Kysely<Database>;
  readonly dialect: Dialect;
  readonly target: DatabaseTarget;
  /** Pool sizing in force (PostgreSQL); SQLite has one connection per process. */
  readonly pool: PoolSettings;
  /** The URL with any password masked, for logs and messages. */
  readonly description: string;
  /**
   * SQLite only: `PRAGMA data_version` of this connection, which changes when another process
   * commits. Read synchronously (microseconds), so an idle consumer can watch it cheaply.
   */
  readonly dataVersion?: () => number;
  /** The one clock every lease is written and judged by (the server's on PostgreSQL; clock.ts). */
  readonly clock: StoreClock;
  /** How this process learns of other processes' work (PostgreSQL; see wakeup-postgres.ts). */
  readonly wakeups: WakeupSettings;
  close(): Promise<void>;
}

export interface OpenOptions {
  logger?: Logger;
  /** Environment for DB_POOL_SIZE / DB_MAX_OVERFLOW; defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** Host shape for the pool profile; defaults to this machine. */
  host?: { vcpus: number; memoryBytes: number };
  /** application_name on PostgreSQL sessions; defaults to "jobyard". */
  applicationName?: string;
  /** Pool max decided by the caller (a site worker's concurrency), instead of the host profile. */
  poolMax?: number;
}

/**
 * Opens the database named by `url` (default `DATABASE_URL`, then the embedded SQLite file).
 * Throws a UserError for an unsupported URL. Nothing is migrated here: see migrate.ts.
 */
/** Loads both database drivers now: a spare worker, before it knows which one it will open. */
export function preloadDrivers(): void {
  loadPg();
  loadBetterSqlite3();
}

export function openDatabase(url: string | undefined = process.env.DATABASE_URL, options: OpenOptions = {}): Store {
  const logger = options.logger ?? silentLogger;
  const target = parseDatabaseUrl(url);
  const env = options.env ?? process.env;
  const host = options.host ?? { vcpus: os.availableParallelism(), memoryBytes: os.totalmem() };
  const profiled = selectPoolSettings(host, { DB_POOL_SIZE: env.DB_POOL_SIZE, DB_MAX_OVERFLOW: env.DB_MAX_OVERFLOW });
  const pool: PoolSettings =
    options.poolMax === undefined
      ? profiled
      : { ...profiled, poolSize: options.poolMax, maxOverflow: 0, poolMax: options.poolMax, overridden: true };
  const description = describeTarget(target);
  const dialect = dialectFor(target.backend);

  let db: Kysely<Database>;
  let pgPool: pg.Pool | undefined;
  let dataVersion: (() => number) | undefined;
  let clock: StoreClock = hostClock;
  let poolMode: PoolMode = 'session';
  let wakeups: WakeupSettings = { listenUrl: null, ...CONNECTION_DEFAULTS };
  if (target.backend === 'sqlite') {
    const file = openSqliteFile(target.path);
    dataVersion = () => file.pragma('data_version', { simple: true }) as number;
    db = new Kysely<Database>({ dialect: new JobyardSqliteDialect({ database: wrapSqliteDatabase(file) }) });
  } else {
    ({ poolMode, wakeups } = connectionSettings(env, target.connectionString));
    pgPool = createPostgresPool({
      connectionString: target.connectionString,
      poolMode,
      max: pool.poolMax,
      ...(options.applicationName ? { applicationName: options.applicationName } : {}),
    });
    db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: pgPool }) });
    const maxOffsetSeconds = Number(env.DB_MAX_CLOCK_OFFSET_SECONDS);
    clock = openServerClock(db, {
      logger,
      maxOffsetMs: env.DB_MAX_CLOCK_OFFSET_SECONDS && maxOffsetSeconds >= 0 ? maxOffsetSeconds * 1000 : DEFAULT_MAX_OFFSET_MS,
    });
  }
  logger.info(
    {
      backend: target.backend,
      database: description,
      profile: pool.profile,
      poolSize: pool.poolSize,
      maxOverflow: pool.maxOverflow,
      poolMax: dialect.capabilities.multipleConnections ? pool.poolMax : 1,
      // The most this process opens: the pool plus the wake-up listener.
      maxConnections: dialect.capabilities.multipleConnections ? pool.poolMax + LISTENER_CONNECTIONS : 1,
      overridden: pool.overridden,
      ...(target.backend === 'postgres'
        ? { poolMode, wakeups: wakeups.listenUrl ? 'listen' : `poll every ${wakeups.pollMs} ms (${wakeups.pollReason})` }
        : {}),
    },
    'database opened',
  );

  let closed: Promise<void> | undefined;
  return {
    db,
    dialect,
    target,
    pool,
    description,
    ...(dataVersion ? { dataVersion } : {}),
    clock,
    wakeups,
    close() {
      clock.close();
      closed ??= db.destroy();
      return closed;
    },
  };
}

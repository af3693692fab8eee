/**
 * The pg.Pool behind Kysely, with the PostgreSQL side of the dialect rules: session settings
 * (a connect timeout and an idle-in-transaction guard) and int8 parsed as a JS number.
 */
import { createRequire } from 'node:module';
import type pg from 'pg';

/**
 * pg is loaded on first use, not at import: a SQLite-only process (the embedded default, its
 * site workers) never pays for loading it, which shortens a worker's boot.
 */
let pgModule: typeof pg | undefined;
export function loadPg(): typeof pg {
  pgModule ??= createRequire(import.meta.url)('pg') as typeof pg;
  return pgModule;
}

/** A connect that takes longer fails: an unreachable server is reported, not waited on forever. */
export const PG_CONNECT_TIMEOUT_MS = 15_000;
/**
 * A session left idle inside a transaction is ended by the server after 10 s. jobyard's
 * transactions are a few statements with no other work in between, so only a client that stopped
 * talking mid-transaction gets there: one cut off by a network partition (no FIN ever reaches the
 * server) would otherwise hold its row locks and the fleet's launch lock, stalling every other
 * replica's ticks and launches, until the timeout. 10 s leaves a starved but healthy process
 * seconds of room between two statements, and stays within a site worker's lease.
 */
export const PG_IDLE_IN_TRANSACTION_TIMEOUT_MS = 10_000;
export const APPLICATION_NAME = 'jobyard';

const INT8_OID = 20;

/**
 * Epoch-millisecond timestamps and bigint keys are int8; they stay far below 2^53, so a JS
 * number is exact. Scoped to our pools instead of pg's global parser table.
 */
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID && format !== 'binary') return (value: string) => Number(value);
    return loadPg().types.getTypeParser(oid, format as 'text');
  },
};

export interface PostgresClientSettings {
  connectionString: string;
  applicationName?: string;
  /**
   * 'transaction' (behind PgBouncer in transaction mode): no idle_in_transaction_session_timeout
   * startup parameter, which PgBouncer refuses ("unsupported startup parameter"); set it for the
   * role on the server instead (docs/deployment.md), or use PgBouncer's idle_transaction_timeout.
   */
  poolMode?: 'session' | 'transaction';
  /** TCP keepalive on the socket (the LISTEN connection), starting after this idle time. */
  keepAliveInitialDelayMs?: number;
}

/** Settings shared by the pool and by dedicated connections (LISTEN). */
export function postgresClientConfig(settings: PostgresClientSettings): pg.ClientConfig {
  return {
    connectionString: settings.connectionString,
    application_name: settings.applicationName ?? APPLICATION_NAME,
    connectionTimeoutMillis: PG_CONNECT_TIMEOUT_MS,
    ...(settings.poolMode === 'transaction' ? {} : { idle_in_transaction_session_timeout: PG_IDLE_IN_TRANSACTION_TIMEOUT_MS }),
    ...(settings.keepAliveInitialDelayMs !== undefined
      ? { keepAlive: true, keepAliveInitialDelayMillis: settings.keepAliveInitialDelayMs }
      : {}),
    types,
  };
}

export function createPostgresPool(settings: PostgresClientSettings & { max: number }): pg.Pool {
  const pool = new (loadPg().Pool)({ ...postgresClientConfig(settings), max: settings.max, idleTimeoutMillis: 30_000 });
  // A server restart kills idle pooled clients; pg emits the error on the pool. Without a
  // listener that would crash the process. The client is discarded and the next checkout
  // opens a fresh connection.
  pool.on('error', () => {});
  // A checked-out client has no pool listener: an error arriving between its queries (e.g. the
  // FATAL of pg_terminate_backend in the same packet as a query's ReadyForQuery) would be an
  // uncaught 'error' event. The client is marked unqueryable and dropped on release.
  pool.on('connect', (client) => client.on('error', () => {}));
  return pool;
}

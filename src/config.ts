/**
 * Every environment variable jobyard reads, validated in one place. `loadConfig` reports all
 * problems at once (one line each, prefixed by the variable's name) instead of failing on the
 * first. The README's configuration table documents the same variables.
 *
 * Plain functions rather than a schema library: a site worker loads this module at boot, and
 * zod alone was about a quarter of the worker's module-loading time.
 */
import { connectionSettingProblems } from './db/connection-settings.js';
import { parseDatabaseUrl } from './db/url.js';
import { UserError } from './errors.js';
import { parseServiceAllowList } from './services/allow-list.js';

/** Reads one variable: returns its value, or pushes a problem (the value is then discarded). */
type Field<T> = (value: string | undefined, problems: string[]) => T;

const unset = (v: string | undefined): v is undefined => v === undefined || v === '';

const bool =
  (name: string, fallback: boolean): Field<boolean> =>
  (v, problems) => {
    if (unset(v)) return fallback;
    if (/^(1|true|yes|on)$/i.test(v)) return true;
    if (/^(0|false|no|off)$/i.test(v)) return false;
    problems.push(`${name}: "${v}" is not a boolean; expected true or false`);
    return fallback;
  };

const number =
  (name: string, fallback: number, min: number): Field<number> =>
  (v, problems) => {
    if (unset(v)) return fallback;
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) problems.push(`${name}: "${v}" is not a number >= ${min}`);
    return n;
  };

/** Counts, sizes and milliseconds: whole numbers only (1.5 workers means nothing). */
const integer =
  (name: string, fallback: number, min: number): Field<number> =>
  (v, problems) => {
    if (unset(v)) return fallback;
    const n = /^\s*\d+\s*$/.test(v) ? Number(v) : NaN;
    if (!Number.isSafeInteger(n) || n < min) problems.push(`${name}: "${v}" is not a whole number >= ${min}`);
    return n;
  };

/** A string with a default when unset or empty. */
const text =
  (fallback: string): Field<string> =>
  (v) =>
    unset(v) ? fallback : v;

/** A string, or undefined when unset or empty. */
const optional: Field<string | undefined> = (v) => (unset(v) ? undefined : v);

/** Passed through as given (checked elsewhere: connectionSettingProblems). */
const raw: Field<string | undefined> = (v) => v;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const LAUNCHERS = ['auto', 'docker', 'process', 'off'] as const;

const fields = {
  /** Checked here (syntax, port) so a bad URL is reported with the rest, before any connection. */
  DATABASE_URL: ((v, problems) => {
    try {
      parseDatabaseUrl(v);
    } catch (err) {
      problems.push((err as Error).message);
    }
    return v;
  }) as Field<string | undefined>,
  LOG_LEVEL: ((v, problems) => {
    if (unset(v)) return 'info';
    if (!(LOG_LEVELS as readonly string[]).includes(v)) problems.push(`LOG_LEVEL: unknown value "${v}"; expected one of ${LOG_LEVELS.join(', ')}`);
    return v;
  }) as Field<string>,
  LOG_PRETTY: bool('LOG_PRETTY', false),
  MIGRATE_ON_START: bool('MIGRATE_ON_START', true),
  TICK_INTERVAL_MS: integer('TICK_INTERVAL_MS', 1000, 50),
  MISFIRE_GRACE_SECONDS: number('MISFIRE_GRACE_SECONDS', 60, 0),
  OFFLINE_AFTER_SECONDS: number('OFFLINE_AFTER_SECONDS', 600, 1),
  RECLAIM_INTERVAL_SECONDS: number('RECLAIM_INTERVAL_SECONDS', 5, 0.1),
  WORK_ITEM_RETENTION_DAYS: number('WORK_ITEM_RETENTION_DAYS', 7, 0),
  /** Days of per-minute chart rows the dashboard keeps (work_item_minute_rollup). */
  UI_ROLLUP_RETENTION_DAYS: number('UI_ROLLUP_RETENTION_DAYS', 30, 1),
  /** Audit rows older than this are pruned by the scheduler's prune loop (the audit log's retention). */
  AUDIT_RETENTION_DAYS: number('AUDIT_RETENTION_DAYS', 90, 1),
  WORKER_LAUNCHER: ((v, problems) => {
    if (unset(v)) return 'auto';
    if ((LAUNCHERS as readonly string[]).includes(v)) return v as (typeof LAUNCHERS)[number];
    problems.push(`WORKER_LAUNCHER: unknown value "${v}"; expected one of ${LAUNCHERS.join(', ')}`);
    return 'auto';
  }) as Field<(typeof LAUNCHERS)[number]>,
  WORKER_IMAGE: text('jobyard:local'),
  WORKER_NETWORK: text('host'),
  /** Docker volume holding the SQLite folder (compose); unset: the host folder is bind-mounted. */
  WORKER_DATA_VOLUME: optional,
  /** The jobyard.fleet label of this deployment's worker containers; unset: derived from DATABASE_URL. */
  WORKER_FLEET: optional,
  /** Container user for workers (uid[:gid] or name); unset: the image's USER. */
  WORKER_USER: optional,
  /** User that site workers run command components as (name or uid[:gid]); unset: nobody when root. */
  COMMAND_USER: optional,
  WORKER_MEMORY_MB: integer('WORKER_MEMORY_MB', 512, 32),
  WORKER_CPUS: number('WORKER_CPUS', 1, 0.05),
  WORKER_CONCURRENCY: integer('WORKER_CONCURRENCY', 7, 1),
  WORKER_IDLE_SECONDS: number('WORKER_IDLE_SECONDS', 30, 0.1),
  WORKER_HISTORY_SECONDS: number('WORKER_HISTORY_SECONDS', 60, 0),
  WORKER_STALE_SECONDS: number('WORKER_STALE_SECONDS', 30, 1),
  /** A launched worker that has not registered by then is lost (a starved host needs longer). */
  WORKER_START_SECONDS: number('WORKER_START_SECONDS', 120, 1),
  /** Process launcher: workers kept booted and waiting for a site, so a site's first item skips the boot. */
  WORKER_SPARES: integer('WORKER_SPARES', 0, 0),
  /** A site worker's item lease and how often it renews it (short in tests of partitions). */
  WORKER_LEASE_SECONDS: number('WORKER_LEASE_SECONDS', 60, 1),
  WORKER_HEARTBEAT_SECONDS: number('WORKER_HEARTBEAT_SECONDS', 15, 0.1),
  MAX_WORKERS_PER_SITE: integer('MAX_WORKERS_PER_SITE', 1, 1),
  MAX_WORKERS: integer('MAX_WORKERS', 20, 1),
  /** Connections the fleet may use in all (PostgreSQL); unset: max_connections minus reserves. */
  DB_CONNECTION_BUDGET: ((v, problems) => {
    const n = integer('DB_CONNECTION_BUDGET', 0, 1)(v, problems);
    return n === 0 ? undefined : n;
  }) as Field<number | undefined>,
  FLEET_INTERVAL_MS: integer('FLEET_INTERVAL_MS', 1000, 50),
  RECONCILE_INTERVAL_SECONDS: number('RECONCILE_INTERVAL_SECONDS', 5, 0.1),
  /** Compose services service actions may touch: `project/service`, comma-separated. */
  SERVICE_ACTION_ALLOW: ((v, problems) => {
    try {
      return parseServiceAllowList(v);
    } catch (err) {
      problems.push((err as Error).message);
      return parseServiceAllowList(undefined);
    }
  }) as Field<ReturnType<typeof parseServiceAllowList>>,
  SERVICE_ACTION_CONCURRENCY: integer('SERVICE_ACTION_CONCURRENCY', 2, 1),
  /** Seconds between SIGTERM and SIGKILL for stop/restart; unset: each container's own. */
  SERVICE_ACTION_STOP_TIMEOUT_SECONDS: ((v, problems) => {
    if (unset(v)) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) problems.push(`SERVICE_ACTION_STOP_TIMEOUT_SECONDS: "${v}" is not a whole number >= 0`);
    return n;
  }) as Field<number | undefined>,
  /** How often service snapshots are refreshed from the engine; 0 turns them off. */
  SERVICE_SNAPSHOT_SECONDS: number('SERVICE_SNAPSHOT_SECONDS', 15, 0),
  HTTP_HOST: text('127.0.0.1'),
  HTTP_PORT: ((v, problems) => {
    if (unset(v)) return 8787;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0 || n > 65535) problems.push(`HTTP_PORT: "${v}" is not a port (0-65535)`);
    return n;
  }) as Field<number>,
  /** Bearer token for every HTTP route but /healthz; unset: no authentication. */
  HTTP_TOKEN: optional,
  /** A file holding the credentials unlock secret (mode 600); read at unlock, never logged. */
  CREDENTIALS_KEY_FILE: optional,
  /** A command whose stdout is the unlock secret: a JSON array of strings, or words split on spaces; run without a shell. */
  CREDENTIALS_UNLOCK_COMMAND: ((v, problems) => {
    if (v === undefined || v.trim() === '') return undefined;
    const argv = parseCommandLine(v);
    if (!argv) problems.push('CREDENTIALS_UNLOCK_COMMAND: expected a command (words separated by spaces, or a JSON array of strings such as ["pass","show","jobyard"])');
    return argv;
  }) as Field<string[] | undefined>,
  /** The dashboard's public path behind a reverse proxy that rewrites it (e.g. /jobyard/ui); unset: X-Forwarded-Prefix + /ui. */
  UI_BASE_PATH: ((v, problems) => {
    if (unset(v)) return undefined;
    if (!/^(\/[A-Za-z0-9._~-]+)+$/.test(v)) problems.push(`UI_BASE_PATH: "${v}" is not a path such as /jobyard/ui (starts with /, no trailing slash, letters, digits, . _ ~ -)`);
    return v;
  }) as Field<string | undefined>,
  DB_POOL_SIZE: raw,
  DB_MAX_OVERFLOW: raw,
  /** PgBouncer and the listener (checked by connectionSettingProblems, used by src/db/open.ts). */
  DATABASE_POOL_MODE: raw,
  DATABASE_LISTEN_URL: raw,
  DB_POLL_MS: raw,
  DB_LISTEN_CHECK_MS: raw,
  DB_LISTEN_CHECK_TIMEOUT_MS: raw,
  DB_WAKE_JITTER_MS: raw,
  DB_MAX_CLOCK_OFFSET_SECONDS: number('DB_MAX_CLOCK_OFFSET_SECONDS', 300, 0),
  /** Maintenance loops' intervals vary by ± this fraction, so replicas drift out of step. */
  MAINTENANCE_JITTER: ((v, problems) => {
    if (unset(v)) return 0.2;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0 || n > 0.9) problems.push(`MAINTENANCE_JITTER: "${v}" is not a number from 0 to 0.9`);
    return n;
  }) as Field<number>,
} satisfies Record<string, Field<unknown>>;

export type Config = { [K in keyof typeof fields]: ReturnType<(typeof fields)[K]> };

/** Every environment variable jobyard reads (the README's configuration table lists each). */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(fields);

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const config: Record<string, unknown> = {};
  for (const [name, read] of Object.entries(fields)) config[name] = (read as Field<unknown>)(env[name], problems);
  problems.push(...connectionSettingProblems(env));
  if (env.CREDENTIALS_KEY_FILE && env.CREDENTIALS_UNLOCK_COMMAND) {
    problems.push('CREDENTIALS_KEY_FILE, CREDENTIALS_UNLOCK_COMMAND: set one of them, not both');
  }
  if (problems.length === 0) return config as Config;
  throw new UserError(`invalid configuration: ${problems.join('; ')}`);
}

/** `["a","b c"]` (JSON) or `a b` (split on whitespace, no quoting: use JSON for arguments with spaces). */
function parseCommandLine(text: string): string[] | undefined {
  const trimmed = text.trim();
  if (trimmed.startsWith('[')) {
    try {
      const value: unknown = JSON.parse(trimmed);
      if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string' && v !== '')) return value as string[];
    } catch {
      // reported below
    }
    return undefined;
  }
  return trimmed.split(/\s+/);
}

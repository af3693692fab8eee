/**
 * Every environment variable jobyard reads, validated in one place. `loadConfig` reports all
 * problems at once (one line each, prefixed by the variable's name) instead of failing on the
 * first. The README's configuration table documents the same variables.
 */
import { z } from 'zod';
import { connectionSettingProblems } from './db/connection-settings.js';
import { parseDatabaseUrl } from './db/url.js';
import { UserError } from './errors.js';
import { parseServiceAllowList } from './services/allow-list.js';

const bool = (name: string, fallback: boolean) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return fallback;
      if (/^(1|true|yes|on)$/i.test(v)) return true;
      if (/^(0|false|no|off)$/i.test(v)) return false;
      ctx.addIssue({ code: 'custom', message: `${name}: "${v}" is not a boolean; expected true or false` });
      return z.NEVER;
    });

const number = (name: string, fallback: number, min: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return fallback;
      const n = Number(v);
      if (!Number.isFinite(n) || n < min) {
        ctx.addIssue({ code: 'custom', message: `${name}: "${v}" is not a number >= ${min}` });
        return z.NEVER;
      }
      return n;
    });

/** Counts, sizes and milliseconds: whole numbers only (1.5 workers means nothing). */
const integer = (name: string, fallback: number, min: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return fallback;
      const n = /^\s*\d+\s*$/.test(v) ? Number(v) : NaN;
      if (!Number.isSafeInteger(n) || n < min) {
        ctx.addIssue({ code: 'custom', message: `${name}: "${v}" is not a whole number >= ${min}` });
        return z.NEVER;
      }
      return n;
    });

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const schema = z.object({
  /** Checked here (syntax, port) so a bad URL is reported with the rest, before any connection. */
  DATABASE_URL: z
    .string()
    .optional()
    .transform((v, ctx) => {
      try {
        parseDatabaseUrl(v);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
      return v;
    }),
  LOG_LEVEL: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return 'info';
      if ((LOG_LEVELS as readonly string[]).includes(v)) return v;
      ctx.addIssue({ code: 'custom', message: `LOG_LEVEL: unknown value "${v}"; expected one of ${LOG_LEVELS.join(', ')}` });
      return z.NEVER;
    }),
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
  WORKER_LAUNCHER: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return 'auto' as const;
      if (v === 'auto' || v === 'docker' || v === 'process' || v === 'off') return v;
      ctx.addIssue({ code: 'custom', message: `WORKER_LAUNCHER: unknown value "${v}"; expected one of auto, docker, process, off` });
      return z.NEVER;
    }),
  WORKER_IMAGE: z.string().optional().transform((v) => v || 'jobyard:local'),
  WORKER_NETWORK: z.string().optional().transform((v) => v || 'host'),
  /** Docker volume holding the SQLite folder (compose); unset: the host folder is bind-mounted. */
  WORKER_DATA_VOLUME: z.string().optional().transform((v) => v || undefined),
  /** The jobyard.fleet label of this deployment's worker containers; unset: derived from DATABASE_URL. */
  WORKER_FLEET: z.string().optional().transform((v) => v || undefined),
  /** Container user for workers (uid[:gid] or name); unset: the image's USER. */
  WORKER_USER: z.string().optional().transform((v) => v || undefined),
  /** User that site workers run command components as (name or uid[:gid]); unset: nobody when root. */
  COMMAND_USER: z.string().optional().transform((v) => v || undefined),
  WORKER_MEMORY_MB: integer('WORKER_MEMORY_MB', 512, 32),
  WORKER_CPUS: number('WORKER_CPUS', 1, 0.05),
  WORKER_CONCURRENCY: integer('WORKER_CONCURRENCY', 7, 1),
  WORKER_IDLE_SECONDS: number('WORKER_IDLE_SECONDS', 30, 0.1),
  WORKER_HISTORY_SECONDS: number('WORKER_HISTORY_SECONDS', 60, 0),
  WORKER_STALE_SECONDS: number('WORKER_STALE_SECONDS', 30, 1),
  /** A launched worker that has not registered by then is lost (a starved host needs longer). */
  WORKER_START_SECONDS: number('WORKER_START_SECONDS', 120, 1),
  /** A site worker's item lease and how often it renews it (short in tests of partitions). */
  WORKER_LEASE_SECONDS: number('WORKER_LEASE_SECONDS', 60, 1),
  WORKER_HEARTBEAT_SECONDS: number('WORKER_HEARTBEAT_SECONDS', 15, 0.1),
  MAX_WORKERS_PER_SITE: integer('MAX_WORKERS_PER_SITE', 1, 1),
  MAX_WORKERS: integer('MAX_WORKERS', 20, 1),
  /** Connections the fleet may use in all (PostgreSQL); unset: max_connections minus reserves. */
  DB_CONNECTION_BUDGET: integer('DB_CONNECTION_BUDGET', 0, 1).transform((n) => (n === 0 ? undefined : n)),
  FLEET_INTERVAL_MS: integer('FLEET_INTERVAL_MS', 1000, 50),
  RECONCILE_INTERVAL_SECONDS: number('RECONCILE_INTERVAL_SECONDS', 5, 0.1),
  /** Compose services service actions may touch: `project/service`, comma-separated. */
  SERVICE_ACTION_ALLOW: z
    .string()
    .optional()
    .transform((v, ctx) => {
      try {
        return parseServiceAllowList(v);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    }),
  SERVICE_ACTION_CONCURRENCY: integer('SERVICE_ACTION_CONCURRENCY', 2, 1),
  /** Seconds between SIGTERM and SIGKILL for stop/restart; unset: each container's own. */
  SERVICE_ACTION_STOP_TIMEOUT_SECONDS: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return undefined;
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) {
        ctx.addIssue({ code: 'custom', message: `SERVICE_ACTION_STOP_TIMEOUT_SECONDS: "${v}" is not a whole number >= 0` });
        return z.NEVER;
      }
      return n;
    }),
  /** How often service snapshots are refreshed from the engine; 0 turns them off. */
  SERVICE_SNAPSHOT_SECONDS: number('SERVICE_SNAPSHOT_SECONDS', 15, 0),
  HTTP_HOST: z.string().optional().transform((v) => v || '127.0.0.1'),
  HTTP_PORT: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return 8787;
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 65535) {
        ctx.addIssue({ code: 'custom', message: `HTTP_PORT: "${v}" is not a port (0-65535)` });
        return z.NEVER;
      }
      return n;
    }),
  /** Bearer token for every HTTP route but /healthz; unset: no authentication. */
  HTTP_TOKEN: z.string().optional().transform((v) => v || undefined),
  /** A file holding the credentials unlock secret (mode 600); read at unlock, never logged. */
  CREDENTIALS_KEY_FILE: z.string().optional().transform((v) => v || undefined),
  /** A command whose stdout is the unlock secret: a JSON array of strings, or words split on spaces; run without a shell. */
  CREDENTIALS_UNLOCK_COMMAND: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return undefined;
      const argv = parseCommandLine(v);
      if (!argv) {
        ctx.addIssue({ code: 'custom', message: 'CREDENTIALS_UNLOCK_COMMAND: expected a command (words separated by spaces, or a JSON array of strings such as ["pass","show","jobyard"])' });
        return z.NEVER;
      }
      return argv;
    }),
  /** The dashboard's public path behind a reverse proxy that rewrites it (e.g. /jobyard/ui); unset: X-Forwarded-Prefix + /ui. */
  UI_BASE_PATH: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return undefined;
      if (/^(\/[A-Za-z0-9._~-]+)+$/.test(v)) return v;
      ctx.addIssue({ code: 'custom', message: `UI_BASE_PATH: "${v}" is not a path such as /jobyard/ui (starts with /, no trailing slash, letters, digits, . _ ~ -)` });
      return z.NEVER;
    }),
  DB_POOL_SIZE: z.string().optional(),
  DB_MAX_OVERFLOW: z.string().optional(),
  /** PgBouncer and the listener (checked by connectionSettingProblems, used by src/db/open.ts). */
  DATABASE_POOL_MODE: z.string().optional(),
  DATABASE_LISTEN_URL: z.string().optional(),
  DB_POLL_MS: z.string().optional(),
  DB_LISTEN_CHECK_MS: z.string().optional(),
  DB_LISTEN_CHECK_TIMEOUT_MS: z.string().optional(),
  DB_WAKE_JITTER_MS: z.string().optional(),
  DB_MAX_CLOCK_OFFSET_SECONDS: number('DB_MAX_CLOCK_OFFSET_SECONDS', 300, 0),
  /** Maintenance loops' intervals vary by ± this fraction, so replicas drift out of step. */
  MAINTENANCE_JITTER: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return 0.2;
      const n = Number(v);
      if (!Number.isFinite(n) || n < 0 || n > 0.9) {
        ctx.addIssue({ code: 'custom', message: `MAINTENANCE_JITTER: "${v}" is not a number from 0 to 0.9` });
        return z.NEVER;
      }
      return n;
    }),
});

export type Config = z.output<typeof schema>;

/** Every environment variable jobyard reads (the README's configuration table lists each). */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(schema.shape);

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const result = schema.safeParse(env);
  const problems = result.success ? [] : result.error.issues.map((i) => i.message);
  problems.push(...connectionSettingProblems(env));
  if (env.CREDENTIALS_KEY_FILE && env.CREDENTIALS_UNLOCK_COMMAND) {
    problems.push('CREDENTIALS_KEY_FILE, CREDENTIALS_UNLOCK_COMMAND: set one of them, not both');
  }
  if (result.success && problems.length === 0) return result.data;
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

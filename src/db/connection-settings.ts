/**
 * How a process talks to PostgreSQL beyond the pool's URL: through a transaction pooler or not,
 * where its one LISTEN connection goes (or poll-only), and the listener's health-check and wake-up
 * timings. Pure: parsed from the environment, validated here and by src/config.ts (one line per
 * problem), used by open.ts and wakeup-postgres.ts.
 */
import { UserError } from '../errors.js';
import { parseDatabaseUrl } from './url.js';

/**
 * `session`: DATABASE_URL reaches PostgreSQL directly or through a session-mode pooler; startup
 * parameters and LISTEN work. `transaction`: a transaction-mode pooler (PgBouncer
 * pool_mode=transaction): no startup parameter it would refuse, and no LISTEN on it.
 */
export type PoolMode = 'session' | 'transaction';
export const POOL_MODES: readonly PoolMode[] = ['session', 'transaction'];

export interface WakeupSettings {
  /** The LISTEN connection's URL; null: poll-only (no LISTEN anywhere). */
  listenUrl: string | null;
  /** Why poll-only, for the start-up log line (undefined when listening). */
  pollReason?: string;
  /** Poll-only: how often idle consumers look for work (their wake-up latency). */
  pollMs: number;
  /** How often the listener checks that its channels are still listened. */
  checkIntervalMs: number;
  /** A check (or a connect) that takes longer means the connection is deaf: reconnect. */
  checkTimeoutMs: number;
  /** Reconnect backoff cap. */
  maxBackoffMs: number;
  /** Largest random delay before waking consumers on a NOTIFY when several processes listen. */
  wakeJitterMs: number;
}

export interface ConnectionSettings {
  poolMode: PoolMode;
  wakeups: WakeupSettings;
}

export const DEFAULTS = {
  pollMs: 1_000,
  checkIntervalMs: 15_000,
  checkTimeoutMs: 5_000,
  maxBackoffMs: 5_000,
  wakeJitterMs: 50,
} as const;

/** Every problem with these variables, one line each (empty when all are valid). */
export function connectionSettingProblems(env: NodeJS.ProcessEnv): string[] {
  const problems: string[] = [];
  const mode = env.DATABASE_POOL_MODE;
  if (mode && !(POOL_MODES as readonly string[]).includes(mode)) {
    problems.push(`DATABASE_POOL_MODE: unknown value "${mode}"; expected one of ${POOL_MODES.join(', ')}`);
  }
  const listen = env.DATABASE_LISTEN_URL;
  if (listen && listen !== 'none') {
    let ok = false;
    try {
      ok = parseDatabaseUrl(listen).backend === 'postgres';
    } catch {
      ok = false;
    }
    if (!ok) problems.push('DATABASE_LISTEN_URL: expected a postgres://… URL (direct or session-mode pooler) or "none" for poll-only');
  }
  for (const [name, min] of [
    ['DB_POLL_MS', 10],
    ['DB_LISTEN_CHECK_MS', 100],
    ['DB_LISTEN_CHECK_TIMEOUT_MS', 100],
    ['DB_WAKE_JITTER_MS', 0],
  ] as const) {
    const v = env[name];
    if (v !== undefined && v !== '' && !(/^\s*\d+\s*$/.test(v) && Number(v) >= min)) problems.push(`${name}: "${v}" is not a whole number >= ${min}`);
  }
  return problems;
}

/** The settings for a process on `databaseUrl`; throws a UserError naming every bad variable. */
export function connectionSettings(env: NodeJS.ProcessEnv, databaseUrl: string): ConnectionSettings {
  const problems = connectionSettingProblems(env);
  if (problems.length > 0) throw new UserError(`invalid configuration: ${problems.join('; ')}`);
  const poolMode = (env.DATABASE_POOL_MODE || 'session') as PoolMode;
  const int = (name: string, fallback: number) => (env[name] ? Number(env[name]) : fallback);
  const listen = env.DATABASE_LISTEN_URL || undefined;
  let listenUrl: string | null;
  let pollReason: string | undefined;
  if (listen === 'none') {
    listenUrl = null;
    pollReason = 'DATABASE_LISTEN_URL=none';
  } else if (listen) listenUrl = listen;
  else if (poolMode === 'transaction') {
    // LISTEN through a transaction pooler registers on whichever server connection the statement
    // lands on, and the notifications never come back: poll instead of being silently deaf.
    listenUrl = null;
    pollReason = 'DATABASE_POOL_MODE=transaction without DATABASE_LISTEN_URL';
  } else listenUrl = databaseUrl;
  return {
    poolMode,
    wakeups: {
      listenUrl,
      ...(pollReason ? { pollReason } : {}),
      pollMs: int('DB_POLL_MS', DEFAULTS.pollMs),
      checkIntervalMs: int('DB_LISTEN_CHECK_MS', DEFAULTS.checkIntervalMs),
      checkTimeoutMs: int('DB_LISTEN_CHECK_TIMEOUT_MS', DEFAULTS.checkTimeoutMs),
      maxBackoffMs: DEFAULTS.maxBackoffMs,
      wakeJitterMs: int('DB_WAKE_JITTER_MS', DEFAULTS.wakeJitterMs),
    },
  };
}

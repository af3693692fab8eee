/**
 * GET /healthz (never behind the token): 200 when the database answers a trivial select within
 * `dbTimeoutMs` and the tick loop completed a tick within the last 3 tick intervals; 503 with
 * every failing reason otherwise.
 */
import { sql } from '../db/kysely.js';
import { describeError } from '../errors.js';
import type { ApiApp } from './context.js';
import { readTickStatus, type TickStatusSource } from './tick-status.js';

/** A tick older than this many intervals makes the service unhealthy. */
export const STALE_TICK_INTERVALS = 3;

export function registerHealthRoute(app: ApiApp, deps: { status: TickStatusSource; dbTimeoutMs?: number }): void {
  const dbTimeoutMs = deps.dbTimeoutMs ?? 2000;
  app.get('/healthz', async (c) => {
    const store = c.get('store');
    const reasons: string[] = [];
    const database = await pingDatabase(() => sql`select 1 as ok`.execute(store.db), dbTimeoutMs);
    if (database !== 'ok') reasons.push(`database: ${database}`);

    const now = c.get('clock')();
    const { lastTickAt, tickIntervalMs, credentials } = readTickStatus(deps.status);
    const maxAgeMs = STALE_TICK_INTERVALS * tickIntervalMs;
    const ageMs = lastTickAt === null ? null : Math.max(0, now - lastTickAt);
    if (ageMs === null) reasons.push('tick: the tick loop has not completed a tick yet');
    else if (ageMs > maxAgeMs) {
      reasons.push(`tick: last tick ${ageMs} ms ago, more than ${STALE_TICK_INTERVALS} tick intervals (${maxAgeMs} ms)`);
    }
    const body = {
      status: reasons.length === 0 ? 'ok' : 'unavailable',
      ...(reasons.length > 0 ? { reason: reasons.join('; '), reasons } : {}),
      database,
      backend: store.dialect.backend,
      tick: { last_tick_at: lastTickAt, age_ms: ageMs, interval_ms: tickIntervalMs, max_age_ms: maxAgeMs },
      // Locked is a warning, not unhealthy: everything without a credential still runs.
      ...(credentials ? { credentials } : {}),
    };
    return c.json(body, reasons.length === 0 ? 200 : 503);
  });
}

/** 'ok', or why the database did not answer. */
async function pingDatabase(query: () => Promise<unknown>, timeoutMs: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no answer within ${timeoutMs} ms`), timeoutMs);
  });
  try {
    return await Promise.race([
      query().then(
        () => 'ok',
        (err: unknown) => `query failed: ${describeError(err)}`,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

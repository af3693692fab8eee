/** Where the LISTEN connection goes, or poll-only, from the environment (pure). */
import { describe, expect, it } from 'vitest';
import { connectionSettings } from '../../src/db/connection-settings.js';

const DB = 'postgres://jy@db:5432/jobyard';
const POOLER = 'postgres://jy@pgbouncer:6432/jobyard';

describe('connection settings', () => {
  it('direct (default): LISTEN on DATABASE_URL, with the documented defaults', () => {
    expect(connectionSettings({}, DB)).toEqual({
      poolMode: 'session',
      wakeups: { listenUrl: DB, pollMs: 1_000, checkIntervalMs: 15_000, checkTimeoutMs: 5_000, maxBackoffMs: 5_000, wakeJitterMs: 50 },
    });
  });

  it('transaction pooler with a direct listen URL: LISTEN goes there', () => {
    const s = connectionSettings({ DATABASE_POOL_MODE: 'transaction', DATABASE_LISTEN_URL: DB }, POOLER);
    expect(s).toMatchObject({ poolMode: 'transaction', wakeups: { listenUrl: DB } });
  });

  it('transaction pooler without one, or DATABASE_LISTEN_URL=none: poll-only, saying why', () => {
    expect(connectionSettings({ DATABASE_POOL_MODE: 'transaction', DB_POLL_MS: '250' }, POOLER).wakeups).toMatchObject({
      listenUrl: null,
      pollMs: 250,
      pollReason: 'DATABASE_POOL_MODE=transaction without DATABASE_LISTEN_URL',
    });
    expect(connectionSettings({ DATABASE_LISTEN_URL: 'none' }, DB).wakeups).toMatchObject({ listenUrl: null, pollReason: 'DATABASE_LISTEN_URL=none' });
  });

  it('every bad value at once, one line each, the listen URL never quoted (it may hold a password)', () => {
    expect(() =>
      connectionSettings({ DATABASE_POOL_MODE: 'x', DATABASE_LISTEN_URL: 'mysql://u:hunter2@h/d', DB_WAKE_JITTER_MS: '-1' }, DB),
    ).toThrow(
      'invalid configuration: DATABASE_POOL_MODE: unknown value "x"; expected one of session, transaction; ' +
        'DATABASE_LISTEN_URL: expected a postgres://… URL (direct or session-mode pooler) or "none" for poll-only; ' +
        'DB_WAKE_JITTER_MS: "-1" is not a whole number >= 0',
    );
  });
});

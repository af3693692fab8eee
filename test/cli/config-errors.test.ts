/**
 * A bad setting is one line on stderr naming the setting and what it accepts, exit 2, before any
 * database is touched (no file created, no connection made), for one-shot commands and workers.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runJobyard as jobyard } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'jobyard-config-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const untouched = join(dir, 'never-created', 'jobyard.db');

function expectOneLineExit2(r: { code: number; stdout: string; stderr: string }, message: RegExp): void {
  expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 2, stdout: '' });
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
}

describe('configuration errors on the command line', () => {
  it.each([
    ['WORKER_CONCURRENCY', '1.5', /WORKER_CONCURRENCY: "1\.5" is not a whole number >= 1/],
    ['MAX_WORKERS', '2.5', /MAX_WORKERS: "2\.5" is not a whole number >= 1/],
    ['LOG_LEVEL', 'verbose', /LOG_LEVEL: unknown value "verbose"; expected one of fatal, error, warn, info, debug, trace, silent/],
    ['DATABASE_POOL_MODE', 'statement', /DATABASE_POOL_MODE: unknown value "statement"; expected one of session, transaction/],
    ['DATABASE_LISTEN_URL', 'sqlite:x.db', /DATABASE_LISTEN_URL: expected a postgres:\/\/… URL \(direct or session-mode pooler\) or "none" for poll-only/],
    ['DB_POLL_MS', '0.5', /DB_POLL_MS: "0\.5" is not a whole number >= 10/],
    ['DB_LISTEN_CHECK_MS', '5', /DB_LISTEN_CHECK_MS: "5" is not a whole number >= 100/],
    ['DB_MAX_CLOCK_OFFSET_SECONDS', '-1', /DB_MAX_CLOCK_OFFSET_SECONDS: "-1" is not a number >= 0/],
    ['MAINTENANCE_JITTER', '2', /MAINTENANCE_JITTER: "2" is not a number from 0 to 0\.9/],
  ])('%s=%s is refused before the database is opened', async (name, value, message) => {
    const r = await jobyard(['status'], { DATABASE_URL: `sqlite:${untouched}`, [name]: value });
    expectOneLineExit2(r, message);
    expect(existsSync(untouched)).toBe(false);
  });

  it('refuses a fractional WORKER_CONCURRENCY for a worker too', async () => {
    const r = await jobyard(['worker', '--site', '1'], { DATABASE_URL: `sqlite:${untouched}`, WORKER_CONCURRENCY: '1.5' });
    expectOneLineExit2(r, /WORKER_CONCURRENCY: "1\.5" is not a whole number/);
    expect(existsSync(untouched)).toBe(false);
  });

  it('refuses a PostgreSQL URL with an impossible port, naming the port, password masked', async () => {
    const r = await jobyard(['status'], { DATABASE_URL: 'postgres://jy:hunter2@127.0.0.1:99999/x' });
    expectOneLineExit2(r, /DATABASE_URL "postgres:\/\/jy:\*\*\*@127\.0\.0\.1:99999\/x": port "99999" is not a port number; expected 1-65535/);
    expect(r.stderr).not.toContain('hunter2');
  });

  it.each([
    ['a folder under /proc (no endless mkdir)', 'sqlite:/proc/x/y.db', /DATABASE_URL sqlite:\/proc\/x\/y\.db: cannot create the folder \/proc\/x: ENOENT/],
    ['a directory', 'sqlite:/tmp', /DATABASE_URL sqlite:\/tmp: \/tmp is a directory; expected the path of a database file/],
    ['a path below a file', 'sqlite:/etc/passwd/x.db', /DATABASE_URL sqlite:\/etc\/passwd\/x\.db: \/etc\/passwd is not a directory/],
  ])('refuses an SQLite path that is %s', async (_what, url, message) => {
    const r = await jobyard(['status'], { DATABASE_URL: url });
    expectOneLineExit2(r, message);
  });
});

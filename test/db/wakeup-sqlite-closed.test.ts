/**
 * A SQLite store closed under a consumer that has not released its wake-ups yet (a shutdown in
 * progress, or a dashboard viewer still connected): the folder watch and the poll must stop
 * quietly. Reading data_version from the closed connection inside a file event was an uncaught
 * exception that ended the process.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openSqliteWakeups } from '../../src/db/wakeup-sqlite.js';
import { capturingLogger } from '../helpers/logs.js';

async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('SQLite wake-ups after the store closed', () => {
  it('a file event or a poll after the connection closed stops the watch instead of throwing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jobyard-wake-closed-'));
    const path = join(dir, 'queue.db');
    const db = new BetterSqlite3(path);
    db.pragma('journal_mode = WAL');
    const { logger, text } = capturingLogger('debug');
    let woken = 0;
    const transport = openSqliteWakeups(path, () => db.pragma('data_version', { simple: true }) as number, {
      wake: () => {},
      wakeChanged: () => (woken++, false),
      revoked: () => {},
    }, logger);
    transport.waiters(1); // a consumer is waiting: the watch and the poll are live
    transport.leaseWatchers(1);
    await until(() => woken > 0, 'the poll ran while the database was open');
    db.close();
    writeFileSync(`${path}-wal`, 'another process wrote'); // the folder watch fires
    await until(() => text().includes('wake-ups stopped'), 'the closed database was noticed');
    const seen = woken;
    await new Promise((r) => setTimeout(r, 300)); // several poll periods
    expect(woken).toBe(seen);
    transport.close();
  });
});

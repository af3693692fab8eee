/**
 * Wake-ups between connections: a ticket taken before a claim must be woken by work another
 * connection commits before the consumer starts waiting (SQLite: data_version; PostgreSQL:
 * NOTIFY to the LISTEN connection). Two stores on one database stand for two processes; the
 * insert goes straight to the table, so no in-process signal is involved.
 */
import { expect, it } from 'vitest';
import { acquireWakeups, type WakeupOptions } from '../../src/queue/wakeup.js';
import { describeBackends } from '../helpers/backends.js';

// NOTIFY reaches every listener of a database, whatever its schema: a database of its own keeps
// other test files' inserts from waking the ticket that must time out.
const OWN_DATABASE = { isolation: 'database' } as const;

describeBackends('wake-ups from another connection', (ctx) => {
  async function insertItem(store = ctx.open()) {
    const now = Date.now();
    await store.db
      .insertInto('job_scheduler_work_items')
      .values({ kind: 'scheduled_run', lane: 'default', status: 'queued', payload_json: '{}' as never, priority: 40, available_at: now, attempt_count: 0, max_attempts: 3, created_at: now, updated_at: now })
      .execute();
  }

  /** Acquires wake-ups on a new connection, lets the PostgreSQL listener connect, runs `body`. */
  async function withWakeups(options: WakeupOptions, body: (wakeups: ReturnType<typeof acquireWakeups>) => Promise<void>) {
    const wakeups = acquireWakeups(ctx.open(), undefined, options);
    try {
      // A first ticket is woken once the PostgreSQL listener listens (SQLite: nothing to wait for).
      const warm = wakeups.ticket(undefined);
      await warm.wait(ctx.backend === 'postgres' ? 5_000 : 0);
      warm.dispose();
      await body(wakeups);
    } finally {
      wakeups.release();
    }
  }

  it('work committed between taking the ticket and waiting on it still wakes the waiter', () =>
    withWakeups({}, async (wakeups) => {
      const ticket = wakeups.ticket(undefined); // taken before the (here: skipped) claim
      await insertItem();
      await new Promise((r) => setTimeout(r, 100)); // the commit is older than the wait
      await ticket.wait(5_000);
      expect(ticket.woken).toBe(true);
      ticket.dispose();
    }));

  // A one-minute poll: only the folder watch (SQLite) or the notification (PostgreSQL) can wake
  // the waiter before its 10 s wait ends.
  it('an idle waiter is woken by another connection\'s commit without waiting for the poll (SQLite: folder watch; PostgreSQL: LISTEN)', () =>
    withWakeups({ sqlitePollMs: () => 60_000 }, async (wakeups) => {
      const producer = ctx.open();
      for (let round = 0; round < 3; round++) {
        const ticket = wakeups.ticket(undefined);
        const waited = ticket.wait(10_000);
        await new Promise((r) => setTimeout(r, 150)); // the consumer is idle in wait()
        await insertItem(producer);
        await waited;
        expect(ticket.woken).toBe(true);
        ticket.dispose();
      }
    }));

  it('a ticket with nothing new times out unwoken', () =>
    withWakeups({}, async (wakeups) => {
      const ticket = wakeups.ticket(undefined);
      await ticket.wait(300);
      expect(ticket.woken).toBe(false);
      ticket.dispose();
    }));
}, OWN_DATABASE);

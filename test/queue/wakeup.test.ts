/**
 * Wake-ups between connections: a ticket taken before a claim must be woken by work another
 * connection commits before the consumer starts waiting (SQLite: data_version; PostgreSQL:
 * NOTIFY to the LISTEN connection). Two stores on one database stand for two processes; the
 * insert goes straight to the table, so no in-process signal is involved.
 */
import { expect, it } from 'vitest';
import { acquireWakeups } from '../../src/queue/wakeup.js';
import { describeBackends } from '../helpers/backends.js';

describeBackends('wake-ups from another connection', (ctx) => {
  async function insertItem(store = ctx.open()) {
    const now = Date.now();
    await store.db
      .insertInto('job_scheduler_work_items')
      .values({ kind: 'scheduled_run', lane: 'default', status: 'queued', payload_json: '{}' as never, priority: 40, available_at: now, attempt_count: 0, max_attempts: 3, created_at: now, updated_at: now })
      .execute();
  }

  it('work committed between taking the ticket and waiting on it still wakes the waiter', async () => {
    const consumer = ctx.open();
    const wakeups = acquireWakeups(consumer);
    try {
      // Let the PostgreSQL listener connect: a first ticket is woken once it listens.
      const warm = wakeups.ticket(undefined);
      await warm.wait(ctx.backend === 'postgres' ? 5_000 : 0);
      warm.dispose();

      const ticket = wakeups.ticket(undefined); // taken before the (here: skipped) claim
      await insertItem();
      await new Promise((r) => setTimeout(r, 100)); // the commit is older than the wait
      await ticket.wait(5_000);
      expect(ticket.woken).toBe(true);
      ticket.dispose();
    } finally {
      wakeups.release();
    }
  });

  it('a waiter is woken within milliseconds of another connection\'s commit, without polling (SQLite: the folder watch; PostgreSQL: LISTEN)', async () => {
    const consumer = ctx.open();
    // A one-minute poll: only the watch (SQLite) or the notification (PostgreSQL) can wake it in time.
    const wakeups = acquireWakeups(consumer, undefined, { sqlitePollMs: () => 60_000 });
    const producer = ctx.open();
    try {
      const warm = wakeups.ticket(undefined);
      await warm.wait(ctx.backend === 'postgres' ? 5_000 : 0);
      warm.dispose();
      for (let round = 0; round < 3; round++) {
        const ticket = wakeups.ticket(undefined);
        const waited = ticket.wait(10_000);
        await new Promise((r) => setTimeout(r, 150)); // the consumer is idle in wait()
        await insertItem(producer);
        await waited; // 10 s at most, far below the poll: woken means the watch/LISTEN did it
        expect(ticket.woken).toBe(true);
        ticket.dispose();
      }
    } finally {
      wakeups.release();
    }
  });

  it('a ticket with nothing new times out unwoken', async () => {
    const consumer = ctx.open();
    const wakeups = acquireWakeups(consumer);
    try {
      const warm = wakeups.ticket(undefined);
      await warm.wait(ctx.backend === 'postgres' ? 5_000 : 0);
      warm.dispose();
      const ticket = wakeups.ticket(undefined);
      await ticket.wait(300);
      expect(ticket.woken).toBe(false);
      ticket.dispose();
    } finally {
      wakeups.release();
    }
  });
});

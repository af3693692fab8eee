/**
 * AUDIT_RETENTION_DAYS: the scheduler's prune loop deletes audit rows older than the retention
 * and keeps the rest, on both backends (a fixed far-future clock).
 */
import { expect, it, vi } from 'vitest';
import { recordAudit } from '../../src/audit/audit-log.js';
import { SchedulerService } from '../../src/daemon/scheduler.js';
import { silentLogger } from '../../src/log.js';
import { describeBackends } from '../helpers/backends.js';

const NOW = 1_900_000_000_000;
const DAY = 86_400_000;

describeBackends('audit retention', (ctx) => {
  it('prunes audit rows older than the retention in the scheduler prune loop', async () => {
    await recordAudit(ctx.db, { actor: 'cli:a', action: 'job.enable', objectType: 'job', objectId: 1, at: NOW - 31 * DAY });
    await recordAudit(ctx.db, { actor: 'cli:a', action: 'job.disable', objectType: 'job', objectId: 1, at: NOW - 29 * DAY });
    const scheduler = new SchedulerService({ store: ctx.store, logger: silentLogger, clock: () => NOW, auditRetentionMs: 30 * DAY }).start();
    try {
      const prune = scheduler.loops.find((l) => l.name === 'prune')!;
      await vi.waitFor(() => expect(prune.lastSuccessAt).not.toBeNull(), { timeout: 10_000 });
    } finally {
      await scheduler.stop();
    }
    expect((await ctx.db.selectFrom('audit_log').select('action').execute()).map((r) => r.action)).toEqual(['job.disable']);
  });
});

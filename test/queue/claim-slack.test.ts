/**
 * An item another process enqueued "now" is claimable at once, although each PostgreSQL process
 * estimates the server's clock with an error of half its sample's round trip: a claim counts items
 * due within that uncertainty (never more than a second) as due. On SQLite every process reads one
 * host clock, and nothing is claimed before its time.
 */
import { beforeEach, expect, it } from 'vitest';
import { clockNow, MAX_CLAIM_SLACK_MS } from '../../src/db/clock.js';
import { claimWorkItems, enqueueWorkItem } from '../../src/queue/index.js';
import { describeBackends } from '../helpers/backends.js';

describeBackends('claims and the clocks of several processes', (ctx) => {
  beforeEach(() => ctx.truncateAll());

  it('claims an item due within the clock uncertainty at once, and never one due later than a second from now', async () => {
    const now = await clockNow(ctx.store.clock);
    const slack = ctx.store.clock.claimSlackMs();
    if (ctx.backend === 'sqlite') expect(slack).toBe(0);
    else {
      expect(slack).toBeGreaterThan(0);
      expect(slack).toBeLessThanOrEqual(MAX_CLAIM_SLACK_MS);
    }
    // As written by a producer whose estimate of the server's clock is a little ahead of ours.
    const aheadBy = ctx.backend === 'sqlite' ? 0 : Math.floor(slack / 2);
    const soon = await enqueueWorkItem(ctx.store, { kind: 'slack', siteId: 1, availableAt: now + aheadBy });
    const later = await enqueueWorkItem(ctx.store, { kind: 'slack', siteId: 1, availableAt: now + MAX_CLAIM_SLACK_MS + 60_000 });
    const claimed = await claimWorkItems(ctx.store, { owner: 'w', kinds: ['slack'], limit: 10, leaseSeconds: 60 });
    expect(claimed.map((i) => i.id)).toEqual([soon.item.id]);
    expect(claimed.map((i) => i.id)).not.toContain(later.item.id);
  });

  it('an explicit `now` (tests, replays) is taken as it is, without slack', async () => {
    await enqueueWorkItem(ctx.store, { kind: 'slack', siteId: 1, availableAt: 10_000 });
    expect(await claimWorkItems(ctx.store, { owner: 'w', kinds: ['slack'], limit: 10, leaseSeconds: 60, now: 9_999 })).toEqual([]);
    expect(await claimWorkItems(ctx.store, { owner: 'w', kinds: ['slack'], limit: 10, leaseSeconds: 60, now: 10_000 })).toHaveLength(1);
  });
});

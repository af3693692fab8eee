import { describe, expect, it } from 'vitest';
import { BACKFILL_CAP, planOccurrences, type DueJob } from '../../src/schedule/occurrences.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T = Date.UTC(2026, 10, 2, 9, 0, 0); // Mon 2026-11-02 09:00Z

const job = (over: Partial<DueJob>): DueJob => ({
  schedule_type: 'every_hour',
  start_ts: T,
  time_zone: 'UTC',
  cron_expression: null,
  duration_stop_enabled: false,
  expiration: null,
  missed_policy: 'skip',
  next_run_at: T,
  ...over,
});

describe('planOccurrences', () => {
  it('fires an on-time occurrence and advances to the next one', () => {
    expect(planOccurrences(job({}), T + 500)).toEqual({ fire: [T], missed: null, nextRunAt: T + HOUR, expired: false });
  });

  it('fires nothing before the due time', () => {
    expect(planOccurrences(job({}), T - 1).fire).toEqual([]);
  });

  it('fires immediately/once jobs once and then stops', () => {
    expect(planOccurrences(job({ schedule_type: 'once' }), T + 10)).toEqual({ fire: [T], missed: null, nextRunAt: null, expired: false });
    expect(planOccurrences(job({ schedule_type: 'immediately' }), T + 10).nextRunAt).toBeNull();
  });

  describe('after a 3-day outage of an hourly job (due at T, now T + 3 days + 30 min)', () => {
    const now = T + 3 * DAY + 30 * 60_000;

    it('skip: records the 73 missed occurrences in one Skipped run and jumps ahead', () => {
      const plan = planOccurrences(job({ missed_policy: 'skip' }), now);
      expect(plan.fire).toEqual([]);
      expect(plan.missed).toEqual({ scheduledTs: T, count: 73, firstTs: T, lastTs: T + 3 * DAY });
      expect(plan.nextRunAt).toBe(T + 3 * DAY + HOUR);
    });

    it('run_once: one catch-up run at the latest missed occurrence; the rest recorded as skipped', () => {
      const plan = planOccurrences(job({ missed_policy: 'run_once' }), now);
      expect(plan.fire).toEqual([T + 3 * DAY]);
      expect(plan.missed).toMatchObject({ count: 72, firstTs: T, lastTs: T + 3 * DAY - HOUR });
      expect(plan.nextRunAt).toBe(T + 3 * DAY + HOUR);
    });

    it('run_all: backfills every missed occurrence under the cap', () => {
      const plan = planOccurrences(job({ missed_policy: 'run_all' }), now);
      expect(plan.fire).toHaveLength(73);
      expect(plan.fire[0]).toBe(T);
      expect(plan.fire[72]).toBe(T + 3 * DAY);
      expect(plan.missed).toBeNull();
    });

    it('run_all: past the cap, backfills the most recent ones and records the older ones', () => {
      const plan = planOccurrences(job({ missed_policy: 'run_all', schedule_type: 'every_15_minutes' }), now);
      // 291 occurrences from T to now: the last one (at now) is on time, 290 were missed.
      expect(plan.fire).toHaveLength(BACKFILL_CAP + 1);
      expect(plan.fire.at(-1)).toBe(now);
      expect(plan.fire.at(-2)! - plan.fire[0]!).toBe((BACKFILL_CAP - 1) * 15 * 60_000);
      expect(plan.missed).toMatchObject({ scheduledTs: T, count: 290 - BACKFILL_CAP, firstTs: T, lastTs: plan.fire[0]! - 15 * 60_000 });
    });
  });

  it('treats occurrences within the grace period as on time', () => {
    const plan = planOccurrences(job({}), T + HOUR + 30_000, { misfireGraceMs: 60_000 });
    expect(plan.fire).toEqual([T + HOUR]);
    expect(plan.missed).toMatchObject({ count: 1, firstTs: T });
  });

  it('stops at the expiration and says so', () => {
    const plan = planOccurrences(job({ duration_stop_enabled: true, expiration: T + 2 * HOUR }), T + HOUR + 1);
    expect(plan).toEqual({ fire: [T, T + HOUR].slice(1), missed: { scheduledTs: T, count: 1, firstTs: T, lastTs: T }, nextRunAt: null, expired: true });
    const ignored = planOccurrences(job({ duration_stop_enabled: false, expiration: T + 2 * HOUR }), T + HOUR + 1);
    expect(ignored.nextRunAt).toBe(T + 2 * HOUR);
  });

  it('a due time already past the expiration fires nothing', () => {
    expect(planOccurrences(job({ duration_stop_enabled: true, expiration: T }), T + 5)).toEqual({ fire: [], missed: null, nextRunAt: null, expired: true });
  });
});

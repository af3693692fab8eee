import { describe, it, expect } from 'vitest';
import {
  SCHEDULE_TYPES,
  firstOccurrence,
  isScheduleType,
  nextOccurrenceAfter,
  occurrencesBetween,
  validateRecurrence,
  type RecurrenceSpec,
} from '../../src/schedule/recurrence.js';
import { wallClockAt, zonedInstant } from '../../src/schedule/zoned-time.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const iso = (ts: number | null): string | null => (ts === null ? null : new Date(ts).toISOString());
const isoAll = (list: number[]): string[] => list.map((t) => new Date(t).toISOString());

describe('schedule types', () => {
  it('lists the twelve types and recognises only them', () => {
    expect(SCHEDULE_TYPES).toHaveLength(12);
    expect(isScheduleType('every_15_minutes')).toBe(true);
    expect(isScheduleType('cron')).toBe(true);
    expect(isScheduleType('every_7_minutes')).toBe(false);
    expect(isScheduleType(5)).toBe(false);
  });
});

describe('immediately and once', () => {
  const createdAt = Date.UTC(2026, 0, 10, 12, 0, 0);
  it('immediately runs at createdAt, once at startTs (or createdAt), and neither has a next', () => {
    expect(firstOccurrence({ scheduleType: 'immediately', startTs: Date.UTC(2030, 0, 1) }, createdAt)).toBe(createdAt);
    expect(firstOccurrence({ scheduleType: 'once', startTs: Date.UTC(2026, 1, 1, 8) }, createdAt)).toBe(Date.UTC(2026, 1, 1, 8));
    expect(firstOccurrence({ scheduleType: 'once', startTs: null }, createdAt)).toBe(createdAt);
    expect(nextOccurrenceAfter({ scheduleType: 'once', startTs: Date.UTC(2026, 1, 1, 8) }, createdAt)).toBeNull();
    expect(nextOccurrenceAfter({ scheduleType: 'immediately', startTs: null }, createdAt - DAY)).toBeNull();
    expect(occurrencesBetween({ scheduleType: 'once', startTs: createdAt }, createdAt - DAY, createdAt + DAY, 10)).toEqual([]);
  });
});

describe('interval types (rule 1: elapsed time anchored at startTs)', () => {
  const anchor = Date.UTC(2026, 0, 1, 0, 3, 0);
  const cases = [
    ['every_5_minutes', 5 * MIN],
    ['every_10_minutes', 10 * MIN],
    ['every_15_minutes', 15 * MIN],
    ['every_30_minutes', 30 * MIN],
    ['every_hour', HOUR],
  ] as const;
  for (const [scheduleType, step] of cases) {
    it(`${scheduleType} steps ${step / MIN} minutes from the anchor`, () => {
      const spec: RecurrenceSpec = { scheduleType, startTs: anchor };
      expect(firstOccurrence(spec, anchor + DAY)).toBe(anchor); // past anchor kept: caller's policy
      expect(nextOccurrenceAfter(spec, anchor - 1)).toBe(anchor);
      expect(nextOccurrenceAfter(spec, anchor)).toBe(anchor + step);
      expect(nextOccurrenceAfter(spec, anchor + 2 * step)).toBe(anchor + 3 * step); // strictly after
      expect(nextOccurrenceAfter(spec, anchor + 2 * step + 1)).toBe(anchor + 3 * step);
      expect(nextOccurrenceAfter(spec, anchor + 3 * step - 1)).toBe(anchor + 3 * step);
    });
  }

  it('uses createdAt when startTs is null', () => {
    const createdAt = Date.UTC(2026, 4, 5, 6, 7, 8);
    expect(firstOccurrence({ scheduleType: 'every_hour', startTs: null }, createdAt)).toBe(createdAt);
  });

  it('keeps the phase of an anchor years in the past', () => {
    const spec: RecurrenceSpec = { scheduleType: 'every_5_minutes', startTs: Date.UTC(2000, 0, 1, 0, 3) };
    expect(iso(nextOccurrenceAfter(spec, Date.UTC(2026, 5, 15, 12, 0, 30)))).toBe('2026-06-15T12:03:00.000Z');
  });

  it('is O(1): an anchor ~200,000 years back (≈7e11 steps) answers instantly', () => {
    const spec: RecurrenceSpec = { scheduleType: 'every_5_minutes', startTs: Date.UTC(-200000, 0, 1) };
    expect(iso(nextOccurrenceAfter(spec, Date.UTC(2026, 5, 15, 12, 0, 30)))).toBe('2026-06-15T12:05:00.000Z');
  }, 2_000); // a step-by-step loop takes tens of seconds here; the suite default (60 s) would hide it

  it('ignores the time zone and DST (hourly stays 60 elapsed minutes apart)', () => {
    const spec: RecurrenceSpec = { scheduleType: 'every_hour', startTs: Date.UTC(2026, 2, 28, 23, 0), timeZone: 'Europe/Berlin' };
    // Berlin jumps 02:00 CET → 03:00 CEST at 01:00Z on 2026-03-29.
    expect(isoAll(occurrencesBetween(spec, Date.UTC(2026, 2, 29, 0, 0), Date.UTC(2026, 2, 29, 3, 0), 10))).toEqual([
      '2026-03-29T01:00:00.000Z',
      '2026-03-29T02:00:00.000Z',
      '2026-03-29T03:00:00.000Z',
    ]);
  });
});

describe('calendar types in UTC (rule 2)', () => {
  it('daily keeps the time of day, across month and year ends', () => {
    const spec: RecurrenceSpec = { scheduleType: 'daily', startTs: Date.UTC(2026, 0, 15, 9, 30) };
    expect(firstOccurrence(spec, Date.UTC(2026, 0, 1))).toBe(Date.UTC(2026, 0, 15, 9, 30));
    expect(iso(nextOccurrenceAfter(spec, Date.UTC(2026, 0, 1)))).toBe('2026-01-15T09:30:00.000Z');
    expect(iso(nextOccurrenceAfter(spec, Date.UTC(2026, 0, 15, 9, 30)))).toBe('2026-01-16T09:30:00.000Z');
    expect(iso(nextOccurrenceAfter(spec, Date.UTC(2026, 0, 20, 9, 29, 59, 999)))).toBe('2026-01-20T09:30:00.000Z');
    expect(iso(nextOccurrenceAfter(spec, Date.UTC(2026, 0, 31, 10)))).toBe('2026-02-01T09:30:00.000Z');
    expect(iso(nextOccurrenceAfter(spec, Date.UTC(2026, 11, 31, 10)))).toBe('2027-01-01T09:30:00.000Z');
  });

  it('weekly keeps weekday and time', () => {
    const spec: RecurrenceSpec = { scheduleType: 'weekly', startTs: Date.UTC(2026, 0, 1, 8) }; // Thursday
    expect(iso(nextOccurrenceAfter(spec, Date.UTC(2026, 0, 2, 12)))).toBe('2026-01-08T08:00:00.000Z');
    expect(iso(nextOccurrenceAfter(spec, Date.UTC(2026, 0, 8, 8)))).toBe('2026-01-15T08:00:00.000Z');
    expect(iso(nextOccurrenceAfter(spec, Date.UTC(2026, 11, 30)))).toBe('2026-12-31T08:00:00.000Z');
    expect(iso(nextOccurrenceAfter(spec, Date.UTC(2026, 11, 31, 9)))).toBe('2027-01-07T08:00:00.000Z');
  });

  it('monthly keeps day of month and time', () => {
    const spec: RecurrenceSpec = { scheduleType: 'monthly', startTs: Date.UTC(2026, 0, 15, 12) };
    expect(iso(nextOccurrenceAfter(spec, Date.UTC(2026, 0, 15, 12)))).toBe('2026-02-15T12:00:00.000Z');
    expect(iso(nextOccurrenceAfter(spec, Date.UTC(2026, 5, 20)))).toBe('2026-07-15T12:00:00.000Z');
    expect(iso(nextOccurrenceAfter(spec, Date.UTC(2026, 6, 15, 11, 59)))).toBe('2026-07-15T12:00:00.000Z');
    expect(iso(nextOccurrenceAfter(spec, Date.UTC(2026, 11, 15, 12)))).toBe('2027-01-15T12:00:00.000Z');
  });

  it('yearly keeps month, day and time', () => {
    const spec: RecurrenceSpec = { scheduleType: 'yearly', startTs: Date.UTC(2026, 6, 4) };
    expect(iso(nextOccurrenceAfter(spec, Date.UTC(2026, 6, 4)))).toBe('2027-07-04T00:00:00.000Z');
    expect(iso(nextOccurrenceAfter(spec, Date.UTC(2030, 6, 3, 23, 59, 59, 999)))).toBe('2030-07-04T00:00:00.000Z');
    expect(iso(nextOccurrenceAfter(spec, Date.UTC(2030, 6, 4, 0, 0, 0, 1)))).toBe('2031-07-04T00:00:00.000Z');
  });
});

describe('daily in Europe/Berlin across the 2026 DST changes (rule 2)', () => {
  // 09:00 CET = 08:00Z in winter, 09:00 CEST = 07:00Z in summer.
  const spec: RecurrenceSpec = { scheduleType: 'daily', startTs: Date.UTC(2026, 2, 27, 8), timeZone: 'Europe/Berlin' };

  it('stays 09:00 local through spring-forward on 2026-03-29', () => {
    expect(isoAll(occurrencesBetween(spec, Date.UTC(2026, 2, 27, 8), Date.UTC(2026, 3, 1, 7), 10))).toEqual([
      '2026-03-28T08:00:00.000Z',
      '2026-03-29T07:00:00.000Z',
      '2026-03-30T07:00:00.000Z',
      '2026-03-31T07:00:00.000Z',
      '2026-04-01T07:00:00.000Z',
    ]);
  });

  it('stays 09:00 local through fall-back on 2026-10-25', () => {
    expect(isoAll(occurrencesBetween(spec, Date.UTC(2026, 9, 23, 12), Date.UTC(2026, 9, 26, 12), 10))).toEqual([
      '2026-10-24T07:00:00.000Z',
      '2026-10-25T08:00:00.000Z',
      '2026-10-26T08:00:00.000Z',
    ]);
  });
});

describe('monthly on the 31st and yearly on Feb 29 (rule 3: clamp from the original day)', () => {
  it('runs on the last day of shorter months and returns to the 31st, incl. 2027 and leap 2028 Februaries', () => {
    const spec: RecurrenceSpec = { scheduleType: 'monthly', startTs: Date.UTC(2027, 0, 31, 10) };
    expect(isoAll(occurrencesBetween(spec, Date.UTC(2027, 0, 31, 10), Date.UTC(2028, 2, 31, 10), 100))).toEqual([
      '2027-02-28T10:00:00.000Z',
      '2027-03-31T10:00:00.000Z',
      '2027-04-30T10:00:00.000Z',
      '2027-05-31T10:00:00.000Z',
      '2027-06-30T10:00:00.000Z',
      '2027-07-31T10:00:00.000Z',
      '2027-08-31T10:00:00.000Z',
      '2027-09-30T10:00:00.000Z',
      '2027-10-31T10:00:00.000Z',
      '2027-11-30T10:00:00.000Z',
      '2027-12-31T10:00:00.000Z',
      '2028-01-31T10:00:00.000Z',
      '2028-02-29T10:00:00.000Z',
      '2028-03-31T10:00:00.000Z',
    ]);
    // Asked directly after the clamped Feb 28, the next is Mar 31 (not Mar 28).
    expect(iso(nextOccurrenceAfter(spec, Date.UTC(2027, 1, 28, 10)))).toBe('2027-03-31T10:00:00.000Z');
  });

  it('monthly on the 30th clamps only February', () => {
    const spec: RecurrenceSpec = { scheduleType: 'monthly', startTs: Date.UTC(2028, 0, 30, 6) };
    expect(isoAll(occurrencesBetween(spec, Date.UTC(2028, 0, 30, 6), Date.UTC(2028, 3, 30, 6), 10))).toEqual([
      '2028-02-29T06:00:00.000Z',
      '2028-03-30T06:00:00.000Z',
      '2028-04-30T06:00:00.000Z',
    ]);
  });

  it('yearly on Feb 29 runs Feb 28 in non-leap years', () => {
    const spec: RecurrenceSpec = { scheduleType: 'yearly', startTs: Date.UTC(2028, 1, 29, 12) };
    expect(isoAll(occurrencesBetween(spec, Date.UTC(2028, 1, 29, 12), Date.UTC(2032, 11, 31), 10))).toEqual([
      '2029-02-28T12:00:00.000Z',
      '2030-02-28T12:00:00.000Z',
      '2031-02-28T12:00:00.000Z',
      '2032-02-29T12:00:00.000Z',
    ]);
  });
});

describe('America/New_York DST edges for calendar types (rules 4 and 5)', () => {
  it('spring-forward: daily 02:30 runs once on 2026-03-08, at 03:30 EDT', () => {
    // Anchor 2026-03-06 02:30 EST = 07:30Z.
    const spec: RecurrenceSpec = { scheduleType: 'daily', startTs: Date.UTC(2026, 2, 6, 7, 30), timeZone: 'America/New_York' };
    expect(isoAll(occurrencesBetween(spec, Date.UTC(2026, 2, 6, 7, 30), Date.UTC(2026, 2, 10, 12), 10))).toEqual([
      '2026-03-07T07:30:00.000Z', // 02:30 EST
      '2026-03-08T07:30:00.000Z', // 03:30 EDT: 02:30 does not exist, shifted by the 1h gap
      '2026-03-09T06:30:00.000Z', // 02:30 EDT
      '2026-03-10T06:30:00.000Z',
    ]);
    // Local day 2026-03-08 is [05:00Z, 04:00Z next day): exactly one run in it.
    expect(occurrencesBetween(spec, Date.UTC(2026, 2, 8, 5) - 1, Date.UTC(2026, 2, 9, 4) - 1, 10)).toHaveLength(1);
    expect(wallClockAt(Date.UTC(2026, 2, 8, 7, 30), 'America/New_York')).toMatchObject({ day: 8, hour: 3, minute: 30 });
  });

  it('fall-back: daily 01:30 runs once on 2026-11-01, at the first (EDT) 01:30', () => {
    // Anchor 2026-10-30 01:30 EDT = 05:30Z.
    const spec: RecurrenceSpec = { scheduleType: 'daily', startTs: Date.UTC(2026, 9, 30, 5, 30), timeZone: 'America/New_York' };
    expect(isoAll(occurrencesBetween(spec, Date.UTC(2026, 9, 30, 5, 30), Date.UTC(2026, 10, 2, 12), 10))).toEqual([
      '2026-10-31T05:30:00.000Z',
      '2026-11-01T05:30:00.000Z', // 01:30 EDT; 01:30 EST (06:30Z) is skipped
      '2026-11-02T06:30:00.000Z', // 01:30 EST
    ]);
    expect(iso(nextOccurrenceAfter(spec, Date.UTC(2026, 10, 1, 5, 30)))).toBe('2026-11-02T06:30:00.000Z');
    expect(iso(nextOccurrenceAfter(spec, Date.UTC(2026, 10, 1, 6, 0)))).toBe('2026-11-02T06:30:00.000Z');
  });

  it('zonedInstant resolves gap and overlap as documented', () => {
    const wall = { year: 2026, month: 3, day: 8, hour: 2, minute: 30, second: 0, millisecond: 0 };
    expect(iso(zonedInstant(wall, 'America/New_York'))).toBe('2026-03-08T07:30:00.000Z');
    expect(iso(zonedInstant({ ...wall, month: 11, day: 1, hour: 1 }, 'America/New_York'))).toBe('2026-11-01T05:30:00.000Z');
    expect(iso(zonedInstant({ ...wall, month: 7, day: 1, hour: 9 }, 'Europe/Berlin'))).toBe('2026-07-01T07:30:00.000Z');
  });
});

describe('cron (rule 6: croner in the job time zone)', () => {
  const weekdays9: RecurrenceSpec = { scheduleType: 'cron', startTs: null, cronExpression: '0 9 * * 1-5', timeZone: 'Europe/Berlin' };

  it('firstOccurrence is the first match at or after startTs ?? createdAt', () => {
    // Fri 2026-03-27 09:00 CET = 08:00Z; Mon 2026-03-30 09:00 CEST = 07:00Z.
    expect(iso(firstOccurrence(weekdays9, Date.UTC(2026, 2, 27, 8)))).toBe('2026-03-27T08:00:00.000Z'); // inclusive
    expect(iso(firstOccurrence(weekdays9, Date.UTC(2026, 2, 27, 8, 0, 0, 1)))).toBe('2026-03-30T07:00:00.000Z');
    expect(iso(firstOccurrence({ ...weekdays9, startTs: Date.UTC(2026, 3, 4) }, Date.UTC(2026, 0, 1)))).toBe(
      '2026-04-06T07:00:00.000Z', // Sat Apr 4 anchor → Mon Apr 6
    );
  });

  it('nextOccurrenceAfter is strictly after, across the weekend and the DST change', () => {
    expect(iso(nextOccurrenceAfter(weekdays9, Date.UTC(2026, 2, 27, 7, 59, 59, 999)))).toBe('2026-03-27T08:00:00.000Z');
    expect(iso(nextOccurrenceAfter(weekdays9, Date.UTC(2026, 2, 27, 8)))).toBe('2026-03-30T07:00:00.000Z');
    expect(iso(nextOccurrenceAfter(weekdays9, Date.UTC(2026, 2, 27, 8, 0, 0, 500)))).toBe('2026-03-30T07:00:00.000Z');
    expect(isoAll(occurrencesBetween(weekdays9, Date.UTC(2026, 2, 26, 12), Date.UTC(2026, 2, 31, 12), 10))).toEqual([
      '2026-03-27T08:00:00.000Z',
      '2026-03-30T07:00:00.000Z',
      '2026-03-31T07:00:00.000Z',
    ]);
  });

  it('ignores matches before startTs', () => {
    const spec = { ...weekdays9, startTs: Date.UTC(2026, 3, 1) };
    expect(iso(nextOccurrenceAfter(spec, Date.UTC(2026, 2, 27, 12)))).toBe('2026-04-01T07:00:00.000Z');
  });

  it('follows croner DST semantics in America/New_York', () => {
    const ny = (cronExpression: string): RecurrenceSpec => ({ scheduleType: 'cron', startTs: null, cronExpression, timeZone: 'America/New_York' });
    // Spring-forward: 02:30 does not exist on 2026-03-08 → 03:30 EDT.
    expect(iso(firstOccurrence(ny('30 2 * * *'), Date.UTC(2026, 2, 8, 5)))).toBe('2026-03-08T07:30:00.000Z');
    // Fall-back: hourly skips the second 01:00 (EST, 06:00Z).
    expect(isoAll(occurrencesBetween(ny('0 * * * *'), Date.UTC(2026, 10, 1, 4, 30), Date.UTC(2026, 10, 1, 8), 10))).toEqual([
      '2026-11-01T05:00:00.000Z',
      '2026-11-01T07:00:00.000Z',
      '2026-11-01T08:00:00.000Z',
    ]);
    // From inside the repeated hour's second pass croner 9 answers an earlier instant; we do not.
    expect(iso(nextOccurrenceAfter(ny('*/15 * * * *'), Date.UTC(2026, 10, 1, 6, 10)))).toBe('2026-11-01T07:00:00.000Z');
  });
});

describe('expiry (rule 7)', () => {
  const t = Date.UTC(2026, 5, 1, 12);
  const spec: RecurrenceSpec = { scheduleType: 'every_hour', startTs: t, expiresAt: t + 3 * HOUR };

  it('has no occurrence at or after expiresAt', () => {
    expect(firstOccurrence(spec, t - DAY)).toBe(t);
    expect(nextOccurrenceAfter(spec, t + HOUR)).toBe(t + 2 * HOUR);
    expect(nextOccurrenceAfter(spec, t + 2 * HOUR)).toBeNull(); // t+3h is exactly expiresAt
    expect(occurrencesBetween(spec, t - 1, t + 10 * HOUR, 100)).toEqual([t, t + HOUR, t + 2 * HOUR]);
    expect(nextOccurrenceAfter({ ...spec, expiresAt: t + 3 * HOUR + 1 }, t + 2 * HOUR)).toBe(t + 3 * HOUR);
  });

  it('applies to the first occurrence of every kind', () => {
    expect(firstOccurrence({ scheduleType: 'immediately', startTs: null, expiresAt: t }, t)).toBeNull();
    expect(firstOccurrence({ scheduleType: 'immediately', startTs: null, expiresAt: t + 1 }, t)).toBe(t);
    expect(firstOccurrence({ scheduleType: 'daily', startTs: null, expiresAt: t }, t)).toBeNull();
    const cron: RecurrenceSpec = { scheduleType: 'cron', startTs: null, cronExpression: '0 0 * * *', expiresAt: Date.UTC(2026, 5, 2) };
    expect(firstOccurrence(cron, t)).toBeNull(); // first match is 2026-06-02T00:00Z == expiresAt
    expect(firstOccurrence({ ...cron, expiresAt: Date.UTC(2026, 5, 2) + 1 }, t)).toBe(Date.UTC(2026, 5, 2));
  });
});

describe('occurrencesBetween', () => {
  const t = Date.UTC(2026, 0, 1);
  const spec: RecurrenceSpec = { scheduleType: 'every_15_minutes', startTs: t };

  it('is (from, to], ascending, capped by limit', () => {
    expect(occurrencesBetween(spec, t, t + DAY, 3)).toEqual([t + 15 * MIN, t + 30 * MIN, t + 45 * MIN]);
    expect(occurrencesBetween(spec, t, t + 30 * MIN, 10)).toEqual([t + 15 * MIN, t + 30 * MIN]);
    expect(occurrencesBetween(spec, t - 1, t + 15 * MIN - 1, 10)).toEqual([t]);
    expect(occurrencesBetween(spec, t, t + DAY, 0)).toEqual([]);
    expect(occurrencesBetween(spec, t + DAY, t, 10)).toEqual([]);
    expect(occurrencesBetween(spec, t, t + DAY, 1000)).toHaveLength(96);
  });
});

describe('validateRecurrence', () => {
  it('accepts valid specs, including once without start_ts and a non-cron type with a stray expression', () => {
    expect(validateRecurrence({ scheduleType: 'once', startTs: null })).toEqual([]);
    expect(validateRecurrence({ scheduleType: 'daily', startTs: 0, timeZone: 'America/New_York' })).toEqual([]);
    expect(validateRecurrence({ scheduleType: 'daily', startTs: 0, cronExpression: 'nonsense' })).toEqual([]);
    expect(validateRecurrence({ scheduleType: 'cron', startTs: null, cronExpression: '0 9 * * 1-5', timeZone: 'Europe/Berlin' })).toEqual([]);
    expect(validateRecurrence({ scheduleType: 'cron', startTs: null, cronExpression: '*/10 * * * * *' })).toEqual([]);
  });

  it('names schedule_type and lists every accepted value', () => {
    const spec = { scheduleType: 'every_7_minutes', startTs: null } as unknown as RecurrenceSpec;
    expect(validateRecurrence(spec)).toEqual([
      'schedule_type: unknown value "every_7_minutes"; expected one of immediately, once, every_5_minutes, ' +
        'every_10_minutes, every_15_minutes, every_30_minutes, every_hour, daily, weekly, monthly, yearly, cron',
    ]);
  });

  it('names time_zone for unknown zones', () => {
    const problems = validateRecurrence({ scheduleType: 'daily', startTs: 0, timeZone: 'Mars/Base' });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^time_zone: unknown IANA time zone "Mars\/Base"; expected an IANA zone name such as "UTC"/);
  });

  it('names cron_expression when missing, malformed, date-like, "?"-based or never matching', () => {
    const cron = (cronExpression: string | null): string[] => validateRecurrence({ scheduleType: 'cron', startTs: null, cronExpression });
    const help = 'expected 5 space-separated fields "minute hour day-of-month month day-of-week" (or 6 with leading seconds)';
    expect(cron(null)).toEqual([`cron_expression: required when schedule_type is cron; ${help}, e.g. "0 9 * * 1-5"`]);
    expect(cron('  ')[0]).toMatch(/^cron_expression: required when schedule_type is cron/);
    expect(cron('61 * * * *')).toEqual([
      `cron_expression: invalid cron expression "61 * * * *": Invalid value for minute: 61; ${help}, e.g. "0 9 * * 1-5"`,
    ]);
    expect(cron('0 9 * *')[0]).toMatch(/^cron_expression: invalid cron expression "0 9 \* \*": invalid configuration format/);
    expect(cron('2026-01-01T00:00:00')[0]).toMatch(/^cron_expression: "2026-01-01T00:00:00" looks like a date/);
    expect(cron('0 ? * * *')[0]).toMatch(/^cron_expression: "\?" is not supported/);
    expect(cron('0 0 30 2 *')[0]).toMatch(/^cron_expression: "0 0 30 2 \*" never matches any date/);
  });

  it('names start_ts / expires_at for bad timestamps and reports several problems at once', () => {
    expect(validateRecurrence({ scheduleType: 'daily', startTs: Number.NaN })).toEqual([
      'start_ts: must be an integer epoch-milliseconds timestamp or null, got NaN',
    ]);
    expect(validateRecurrence({ scheduleType: 'daily', startTs: 1000, expiresAt: 1000 })[0]).toMatch(/^expires_at: must be later than start_ts/);
    expect(validateRecurrence({ scheduleType: 'immediately', startTs: 1000, expiresAt: 1000 })).toEqual([]);
    const many = validateRecurrence({ scheduleType: 'cron', startTs: null, timeZone: 'Nowhere/Land', cronExpression: '99 * * * *' });
    expect(many.map((p) => p.split(':')[0])).toEqual(['time_zone', 'cron_expression']);
  });

  it('makes the occurrence functions throw on invalid specs', () => {
    expect(() => firstOccurrence({ scheduleType: 'daily', startTs: 0, timeZone: 'Mars/Base' }, 0)).toThrow(RangeError);
    expect(() => nextOccurrenceAfter({ scheduleType: 'cron', startTs: null }, 0)).toThrow(/cron_expression: required/);
  });
});

/**
 * Time-zone helpers for calendar recurrences, built on `Intl.DateTimeFormat` only.
 * Pure: every function takes the instant it works on; nothing reads the clock.
 *
 * A "wall clock" is what a clock on the wall in a zone shows (civil date + time of day).
 * Converting instant → wall clock is a lookup; wall clock → instant is where DST decides things
 * (see `zonedInstant`).
 */

/** Civil date and time of day in some zone. `month` is 1–12. */
export interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  millisecond: number;
}

export interface CivilDate {
  year: number;
  month: number;
  day: number;
}

const DAY_MS = 86_400_000;

// Building a formatter costs far more than using one; zones are few, so cache per zone.
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let fmt = formatters.get(timeZone);
  if (!fmt) {
    fmt = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23', // 00–23; 'hour12: false' can print midnight as "24"
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, fmt);
  }
  return fmt;
}

/** True when `Intl` knows the zone (IANA names, case-insensitive, plus aliases such as "UTC"). */
export function isValidTimeZone(timeZone: string): boolean {
  if (timeZone.trim() === '') return false;
  try {
    formatterFor(timeZone);
    return true;
  } catch {
    return false; // RangeError: Invalid time zone specified
  }
}

// Zones Intl resolves to UTC ("UTC", "Etc/UTC", "GMT", "Zulu", …) have offset 0 at every instant:
// their wall clock is the Date's UTC fields, without a formatter.
const utcZones = new Map<string, boolean>();

function isUtcZone(timeZone: string): boolean {
  let utc = utcZones.get(timeZone);
  if (utc === undefined) {
    utc = formatterFor(timeZone).resolvedOptions().timeZone === 'UTC';
    utcZones.set(timeZone, utc);
  }
  return utc;
}

// formatToParts dominates a tick's planning (every calendar job reads a few wall clocks, and jobs
// share instants: the tick's "now", common anchors and their day-neighbours). Exact-instant memo,
// emptied when it grows past a bound so it cannot grow without limit.
const wallClockMemo = new Map<string, WallClock>();
const WALL_CLOCK_MEMO_MAX = 50_000;

/** The wall clock shown in `timeZone` at instant `ts` (epoch ms). */
export function wallClockAt(ts: number, timeZone: string): WallClock {
  if (isUtcZone(timeZone)) {
    const d = new Date(ts);
    return {
      year: d.getUTCFullYear(),
      month: d.getUTCMonth() + 1,
      day: d.getUTCDate(),
      hour: d.getUTCHours(),
      minute: d.getUTCMinutes(),
      second: d.getUTCSeconds(),
      millisecond: d.getUTCMilliseconds(),
    };
  }
  const key = `${timeZone}|${ts}`;
  const memo = wallClockMemo.get(key);
  if (memo) return { ...memo };
  const parts = formatterFor(timeZone).formatToParts(ts);
  const field = (type: Intl.DateTimeFormatPartTypes): number =>
    Number(parts.find((p) => p.type === type)?.value);
  const wall: WallClock = {
    year: field('year'),
    month: field('month'),
    day: field('day'),
    hour: field('hour'),
    minute: field('minute'),
    second: field('second'),
    millisecond: ((ts % 1000) + 1000) % 1000, // zones offsets are whole seconds
  };
  if (wallClockMemo.size >= WALL_CLOCK_MEMO_MAX) wallClockMemo.clear();
  wallClockMemo.set(key, wall);
  return { ...wall };
}

/** The wall clock read as if it were UTC: a plain number to do arithmetic on. */
function wallAsUtc(w: WallClock): number {
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second, w.millisecond);
}

/** UTC offset (ms, east positive) of `timeZone` at instant `ts`. */
export function offsetAt(ts: number, timeZone: string): number {
  if (isUtcZone(timeZone)) return 0;
  return wallAsUtc(wallClockAt(ts, timeZone)) - ts;
}

/**
 * The instant at which `timeZone` shows wall clock `w`. DST rules (decided here, once, for all
 * calendar schedules):
 * - Overlap (fall-back, the wall time happens twice): the FIRST instance, i.e. the one still on
 *   the pre-transition (summer) offset. 01:30 New York on 2026-11-01 → 01:30 EDT (05:30Z).
 * - Gap (spring-forward, the wall time never happens): shift forward by the gap length, i.e.
 *   read the wall time with the pre-transition offset. 02:30 New York on 2026-03-08 → 03:30 EDT
 *   (07:30Z). The occurrence still happens that day, exactly once.
 * Assumes at most one offset change within ±1 day of the wall time (true for real zones).
 */
export function zonedInstant(w: WallClock, timeZone: string): number {
  const naive = wallAsUtc(w);
  // No offset ever, so no gap or overlap: the same answer as below, without four wall-clock reads.
  if (isUtcZone(timeZone)) return naive;
  const offsetBefore = offsetAt(naive - DAY_MS, timeZone);
  const offsetAfter = offsetAt(naive + DAY_MS, timeZone);
  const early = naive - offsetBefore;
  const late = naive - offsetAfter;
  // A candidate is real when the zone's offset at that instant is the one we assumed.
  const earlyValid = offsetAt(early, timeZone) === offsetBefore;
  const lateValid = offsetAt(late, timeZone) === offsetAfter;
  if (earlyValid && lateValid) return Math.min(early, late); // overlap: first instance
  if (earlyValid) return early;
  if (lateValid) return late;
  return early; // gap: pre-transition offset = shifted forward by the gap length
}

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

/** Days in `month` (1–12) of `year`. */
export function daysInMonth(year: number, month: number): number {
  return month === 2 && isLeapYear(year) ? 29 : (MONTH_DAYS[month - 1] ?? 31);
}

/** Days since 1970-01-01 of a civil date (proleptic Gregorian). */
export function dayNumber(d: CivilDate): number {
  return Math.floor(Date.UTC(d.year, d.month - 1, d.day) / DAY_MS);
}

/** The civil date `days` days after `d` (negative goes back). */
export function addDays(d: CivilDate, days: number): CivilDate {
  const t = new Date((dayNumber(d) + days) * DAY_MS);
  return { year: t.getUTCFullYear(), month: t.getUTCMonth() + 1, day: t.getUTCDate() };
}

/**
 * Recurrence math for scheduled jobs. Pure: no database, no I/O, no clock — callers pass every
 * instant. All timestamps are integer epoch milliseconds.
 *
 * Anchor: `startTs` anchors every recurrence. The caller is expected to persist the result of
 * `firstOccurrence` as the anchor; if `startTs` is null anyway, `nextOccurrenceAfter(spec, after)`
 * treats `after` as the anchor (so the series continues one step after the last run).
 */
import { Cron } from 'croner';
import { addDays, dayNumber, daysInMonth, isValidTimeZone, wallClockAt, zonedInstant } from './zoned-time.js';
import type { WallClock } from './zoned-time.js';

export const SCHEDULE_TYPES = [
  'immediately',
  'once',
  'every_5_minutes',
  'every_10_minutes',
  'every_15_minutes',
  'every_30_minutes',
  'every_hour',
  'daily',
  'weekly',
  'monthly',
  'yearly',
  'cron',
] as const;

export type ScheduleType = (typeof SCHEDULE_TYPES)[number];

export function isScheduleType(x: unknown): x is ScheduleType {
  return typeof x === 'string' && (SCHEDULE_TYPES as readonly string[]).includes(x);
}

export interface RecurrenceSpec {
  scheduleType: ScheduleType;
  /** Epoch ms; anchors every recurrence. */
  startTs: number | null;
  /** IANA zone; default 'UTC'. Used by calendar types and cron. */
  timeZone?: string | null;
  /** Only for 'cron'; ignored otherwise. */
  cronExpression?: string | null;
  /** No occurrence at or after this instant. */
  expiresAt?: number | null;
}

const MINUTE_MS = 60_000;

/** Interval types: fixed elapsed-time steps. */
export const INTERVAL_MS = {
  every_5_minutes: 5 * MINUTE_MS,
  every_10_minutes: 10 * MINUTE_MS,
  every_15_minutes: 15 * MINUTE_MS,
  every_30_minutes: 30 * MINUTE_MS,
  every_hour: 60 * MINUTE_MS,
} as const;
type IntervalType = keyof typeof INTERVAL_MS;
type CalendarType = 'daily' | 'weekly' | 'monthly' | 'yearly';

function isIntervalType(t: ScheduleType): t is IntervalType {
  return t in INTERVAL_MS;
}

const CRON_HELP =
  'expected 5 space-separated fields "minute hour day-of-month month day-of-week" ' +
  '(or 6 with leading seconds), e.g. "0 9 * * 1-5"';

// ---------------------------------------------------------------------------------------------
// Validation

/** Human-readable problems with `spec`, each naming the field; empty when valid. */
export function validateRecurrence(spec: RecurrenceSpec): string[] {
  const problems: string[] = [];
  const type: unknown = spec.scheduleType;
  if (!isScheduleType(type)) {
    problems.push(`schedule_type: unknown value "${String(type)}"; expected one of ${SCHEDULE_TYPES.join(', ')}`);
  }
  const tz = spec.timeZone;
  if (tz != null && !isValidTimeZone(tz)) {
    problems.push(
      `time_zone: unknown IANA time zone "${tz}"; expected an IANA zone name such as "UTC", "Europe/Berlin" or "America/New_York"`,
    );
  }
  for (const [field, value] of [['start_ts', spec.startTs], ['expires_at', spec.expiresAt]] as const) {
    if (value != null && !Number.isSafeInteger(value)) {
      problems.push(`${field}: must be an integer epoch-milliseconds timestamp or null, got ${String(value)}`);
    }
  }
  // 'immediately' ignores startTs, so only the other types can be expired before they start.
  if (type !== 'immediately' && spec.startTs != null && spec.expiresAt != null && spec.expiresAt <= spec.startTs) {
    problems.push(`expires_at: must be later than start_ts (${spec.expiresAt} <= ${spec.startTs}); no occurrence could run`);
  }
  if (type === 'cron') {
    const problem = cronProblem(spec.cronExpression, tz != null && isValidTimeZone(tz) ? tz : 'UTC');
    if (problem) problems.push(`cron_expression: ${problem}`);
  }
  return problems;
}

// Every tick validates each due job's schedule, and each recurrence call re-checks it: building
// a Cron and probing it is the costly part, so results and instances are kept per pattern and zone
// (few distinct ones; the maps are emptied past a bound).
const MEMO_MAX = 10_000;
const cronProblems = new Map<string, string | null>();
const crons = new Map<string, Cron>();

function cronProblem(expr: string | null | undefined, timeZone: string): string | null {
  const key = `${timeZone}|${String(expr)}`;
  const known = cronProblems.get(key);
  if (known !== undefined) return known;
  const problem = findCronProblem(expr, timeZone);
  if (cronProblems.size >= MEMO_MAX) cronProblems.clear();
  cronProblems.set(key, problem);
  return problem;
}

/** A Cron for a pattern validateRecurrence accepted (croner's nextRun does not depend on state). */
function cronFor(expr: string, timeZone: string): Cron {
  const key = `${timeZone}|${expr}`;
  let cron = crons.get(key);
  if (!cron) {
    cron = new Cron(expr, { timezone: timeZone });
    if (crons.size >= MEMO_MAX) crons.clear();
    crons.set(key, cron);
  }
  return cron;
}

function findCronProblem(expr: string | null | undefined, timeZone: string): string | null {
  if (expr == null || expr.trim() === '') return `required when schedule_type is cron; ${CRON_HELP}`;
  // croner treats any string containing ":" as a one-off ISO date, and replaces "?" with the
  // current time at construction; neither is a stable recurring pattern.
  if (expr.includes(':')) return `"${expr}" looks like a date, not a cron pattern; ${CRON_HELP}`;
  if (expr.includes('?')) return `"?" is not supported in "${expr}" (it would mean "the current time"); ${CRON_HELP}`;
  let cron: Cron;
  try {
    cron = new Cron(expr, { timezone: timeZone });
  } catch (err) {
    const reason = (err instanceof Error ? err.message : String(err)).replace(/^CronPattern:\s*/, '');
    return `invalid cron expression "${expr}": ${reason}; ${CRON_HELP}`;
  }
  // Patterns have no year field, so one that matches nothing after 1970 matches nothing ever.
  if (cron.nextRun(new Date(0)) === null) return `"${expr}" never matches any date (e.g. February 30); ${CRON_HELP}`;
  return null;
}

function assertValid(spec: RecurrenceSpec): void {
  const problems = validateRecurrence(spec);
  if (problems.length > 0) throw new RangeError(`invalid recurrence: ${problems.join('; ')}`);
}

// ---------------------------------------------------------------------------------------------
// Public API

/** First occurrence for a new job created at `createdAt`; null when it falls at/after expiry. */
export function firstOccurrence(spec: RecurrenceSpec, createdAt: number): number | null {
  assertValid(spec);
  const type = spec.scheduleType;
  // Interval/calendar/once: startTs even if it is already in the past — what to do about missed
  // occurrences is the caller's policy. Cron: the first match at or after the anchor.
  const first =
    type === 'immediately' ? createdAt
    : type === 'cron' ? cronAtOrAfter(spec, spec.startTs ?? createdAt)
    : (spec.startTs ?? createdAt);
  return unexpired(spec, first);
}

/**
 * First occurrence strictly after `after`, or null. `immediately`/`once` have a single occurrence
 * (see `firstOccurrence`) which is never "after" anything, so they always return null.
 */
export function nextOccurrenceAfter(spec: RecurrenceSpec, after: number): number | null {
  assertValid(spec);
  return unexpired(spec, nextUnbounded(spec, after));
}

/** Occurrences in (fromExclusive, toInclusive], ascending, at most `limit` (missed-run backfill). */
export function occurrencesBetween(spec: RecurrenceSpec, fromExclusive: number, toInclusive: number, limit: number): number[] {
  assertValid(spec);
  const out: number[] = [];
  let t = unexpired(spec, nextUnbounded(spec, fromExclusive));
  while (t !== null && t <= toInclusive && out.length < limit) {
    out.push(t);
    t = unexpired(spec, nextUnbounded(spec, t));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Internals

/** Rule 7: nothing at or after expiresAt. Occurrences ascend, so the first expired ends the series. */
function unexpired(spec: RecurrenceSpec, ts: number | null): number | null {
  if (ts === null) return null;
  return spec.expiresAt != null && ts >= spec.expiresAt ? null : ts;
}

function nextUnbounded(spec: RecurrenceSpec, after: number): number | null {
  const type = spec.scheduleType;
  if (type === 'immediately' || type === 'once') return null;
  if (type === 'cron') {
    // Matches before the anchor do not count.
    return spec.startTs != null && after < spec.startTs ? cronAtOrAfter(spec, spec.startTs) : cronAfter(spec, after);
  }
  const anchor = spec.startTs ?? after;
  if (isIntervalType(type)) return intervalNext(anchor, INTERVAL_MS[type], after);
  return calendarNext(type, anchor, spec.timeZone ?? 'UTC', after);
}

/**
 * Rule 1: interval types are anchor + k·step (k >= 0) in elapsed time — no zones, no DST (an
 * hourly job stays 60 minutes apart across DST changes). O(1): the step index is computed.
 */
function intervalNext(anchor: number, step: number, after: number): number {
  if (after < anchor) return anchor;
  return anchor + (Math.floor((after - anchor) / step) + 1) * step;
}

/**
 * Rules 2 & 3: calendar types keep the anchor's wall-clock time in the job's zone. Occurrence k is
 * the anchor's wall clock moved k days/weeks/months/years, then resolved to an instant by
 * `zonedInstant` (which decides DST gaps/overlaps — rules 4 & 5). Monthly/yearly clamp the
 * ORIGINAL anchor day to each target month's length (Jan 31 → Feb 28/29 → Mar 31; Feb 29 → Feb 28
 * in non-leap years), never the previous occurrence's day. Occurrence 0 is the anchor itself.
 */
function calendarOccurrence(type: CalendarType, anchor: number, a: WallClock, timeZone: string, k: number): number {
  if (k === 0) return anchor;
  let date: { year: number; month: number; day: number };
  switch (type) {
    case 'daily':
      date = addDays(a, k);
      break;
    case 'weekly':
      date = addDays(a, 7 * k);
      break;
    case 'monthly': {
      const index = a.year * 12 + (a.month - 1) + k;
      const year = Math.floor(index / 12);
      const month = index - year * 12 + 1;
      date = { year, month, day: Math.min(a.day, daysInMonth(year, month)) };
      break;
    }
    case 'yearly': {
      const year = a.year + k;
      date = { year, month: a.month, day: Math.min(a.day, daysInMonth(year, a.month)) };
      break;
    }
  }
  return zonedInstant({ ...a, ...date }, timeZone);
}

/** Smallest k with occurrence(k) > after: estimate k from calendar distance, then correct by ±1s. */
function calendarNext(type: CalendarType, anchor: number, timeZone: string, after: number): number {
  if (after < anchor) return anchor;
  const a = wallClockAt(anchor, timeZone);
  const w = wallClockAt(after, timeZone);
  const days = dayNumber(w) - dayNumber(a);
  let k =
    type === 'daily' ? days
    : type === 'weekly' ? Math.floor(days / 7)
    : type === 'monthly' ? (w.year - a.year) * 12 + (w.month - a.month)
    : w.year - a.year;
  k = Math.max(0, k);
  const at = (i: number): number => calendarOccurrence(type, anchor, a, timeZone, i);
  while (at(k) <= after) k++;
  while (k > 0 && at(k - 1) > after) k--;
  return at(k);
}

/**
 * Rule 6: cron via croner in the job's zone. croner's `nextRun(from)` is strictly after `from`
 * at whole-second resolution (it drops `from`'s milliseconds, then adds one second), so
 * "at or after t" is `nextRun(t - 1 ms)`. croner's DST semantics:
 * - spring-forward: a match inside the gap runs at the same wall time shifted by the gap
 *   ("30 2 * * *" in New York runs 03:30 EDT on 2026-03-08); matches that land on an existing
 *   time are not duplicated ("0 * * * *" runs 01:00 EST, then 03:00 EDT).
 * - fall-back: only the first (summer-time) pass through the repeated hour matches; the second
 *   pass is skipped ("0 * * * *" runs 01:00 EDT, then 02:00 EST, two hours later).
 * - croner 9 can answer an instant BEFORE `from` when `from` is inside the repeated hour's second
 *   pass; we keep stepping until the answer is strictly after (bounded by matches in one hour).
 */
function cronAfter(spec: RecurrenceSpec, after: number): number | null {
  const cron = cronFor(spec.cronExpression ?? '', spec.timeZone ?? 'UTC');
  let next = cron.nextRun(new Date(after));
  for (let guard = 0; next !== null && next.getTime() <= after; guard++) {
    if (guard > 4000) throw new Error(`croner did not advance past ${after} for "${spec.cronExpression}"`);
    next = cron.nextRun(next);
  }
  return next === null ? null : next.getTime();
}

function cronAtOrAfter(spec: RecurrenceSpec, ts: number): number | null {
  return cronAfter(spec, ts - 1);
}

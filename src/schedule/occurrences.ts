/**
 * Which occurrences of a due job a tick fires, and where the job's due time goes next. Pure:
 * the ticker passes the job and the clock.
 *
 * An occurrence is on time while it is at most `misfireGraceMs` old; older ones were missed
 * (no scheduler ran then). The job's missed_policy decides what happens to those:
 * - `skip` (default): none of them runs; one run records them (status Skipped,
 *   skip_reason `missed`, the count and range in `error`), and the job jumps to its next
 *   future occurrence.
 * - `run_once`: one catch-up run, at the latest missed occurrence.
 * - `run_all`: every missed occurrence runs, up to BACKFILL_CAP (100) of the most recent ones;
 *   older ones beyond the cap are recorded as one Skipped run, as with `skip`. The cap keeps a
 *   long outage of a 5-minute job (864 a day) from flooding the queue on restart.
 * On-time occurrences always run.
 */
import { nextOccurrenceAfter, occurrencesBetween, type RecurrenceSpec, type ScheduleType } from './recurrence.js';

export const MISSED_POLICIES = ['skip', 'run_once', 'run_all'] as const;
export type MissedPolicy = (typeof MISSED_POLICIES)[number];

export const BACKFILL_CAP = 100;
export const DEFAULT_MISFIRE_GRACE_MS = 60_000;
/** Upper bound on occurrences enumerated for one job in one tick (a year of 5-minute steps). */
const ENUMERATION_LIMIT = 110_000;

export interface DueJob {
  schedule_type: string;
  start_ts: number | null;
  time_zone: string;
  cron_expression: string | null;
  duration_stop_enabled: boolean;
  expiration: number | null;
  missed_policy: string;
  next_run_at: number | null;
}

export interface MissedRecord {
  /** The run's scheduled_ts: the first missed occurrence. */
  scheduledTs: number;
  count: number;
  firstTs: number;
  lastTs: number;
}

export interface OccurrencePlan {
  /** Occurrences to fire (runs with targets and work items), ascending. */
  fire: number[];
  /** Missed occurrences recorded as one Skipped run, if any. */
  missed: MissedRecord | null;
  /** The job's new due time; null when it has no further occurrence. */
  nextRunAt: number | null;
  /** True when the job stopped because its expiration passed (recorded once, with a run). */
  expired: boolean;
}

/** The recurrence of a job (row or definition); the expiration counts only with duration_stop_enabled. */
export function recurrenceOf(
  job: Pick<DueJob, 'schedule_type' | 'start_ts' | 'time_zone' | 'cron_expression' | 'duration_stop_enabled' | 'expiration'>,
): RecurrenceSpec {
  return {
    scheduleType: job.schedule_type as ScheduleType,
    startTs: job.start_ts,
    timeZone: job.time_zone,
    cronExpression: job.cron_expression,
    expiresAt: job.duration_stop_enabled ? job.expiration : null,
  };
}

export function planOccurrences(
  job: DueJob,
  now: number,
  options: { misfireGraceMs?: number; backfillCap?: number } = {},
): OccurrencePlan {
  const grace = options.misfireGraceMs ?? DEFAULT_MISFIRE_GRACE_MS;
  const cap = options.backfillCap ?? BACKFILL_CAP;
  const due = job.next_run_at;
  const spec = recurrenceOf(job);
  if (due === null || due > now) return { fire: [], missed: null, nextRunAt: due, expired: false };

  // A due time at or past the expiration (it was shortened after scheduling): nothing fires.
  if (spec.expiresAt != null && due >= spec.expiresAt) {
    return { fire: [], missed: null, nextRunAt: null, expired: true };
  }

  const due_occurrences = [due, ...occurrencesBetween(spec, due, now, ENUMERATION_LIMIT)];
  const onTime = due_occurrences.filter((ts) => ts >= now - grace);
  const missed = due_occurrences.filter((ts) => ts < now - grace);

  let fire = onTime;
  let missedRecord: MissedRecord | null = null;
  const record = (list: number[]): MissedRecord => ({
    scheduledTs: list[0]!,
    count: list.length,
    firstTs: list[0]!,
    lastTs: list[list.length - 1]!,
  });
  if (missed.length > 0) {
    const policy = (MISSED_POLICIES as readonly string[]).includes(job.missed_policy) ? job.missed_policy : 'skip';
    if (policy === 'run_once') {
      fire = [missed[missed.length - 1]!, ...onTime];
      if (missed.length > 1) missedRecord = record(missed.slice(0, -1));
    } else if (policy === 'run_all') {
      const backfill = missed.slice(-cap);
      fire = [...backfill, ...onTime];
      if (missed.length > cap) missedRecord = record(missed.slice(0, missed.length - cap));
    } else {
      missedRecord = record(missed);
    }
  }

  const last = due_occurrences[due_occurrences.length - 1]!;
  const nextRunAt = nextOccurrenceAfter(spec, Math.max(last, now));
  let expired = false;
  if (nextRunAt === null && spec.expiresAt != null) {
    const unbounded = nextOccurrenceAfter({ ...spec, expiresAt: null }, Math.max(last, now));
    expired = unbounded !== null;
  }
  return { fire, missed: missedRecord, nextRunAt, expired };
}

/**
 * A job row back as the definition an operator writes (job.json): what `jobs export` prints and
 * `jobs create --file` accepts unchanged, and what `jobs update` compares to say which fields
 * changed. Pure. Times are ISO-8601 UTC, every field is spelled out (no reliance on defaults).
 */
import type { ScheduledJob } from '../db/schema.js';
import { wallClockAt } from './zoned-time.js';

/** The definition fields, in the order a job.json lists them. */
export const DEFINITION_FIELDS = [
  'name',
  'job_kind',
  'schedule_type',
  'start_ts',
  'time_zone',
  'cron_expression',
  'duration_stop_enabled',
  'expiration',
  'missed_policy',
  'enabled',
  'targets',
  'components',
  'execution_context',
  'credential_id',
  'use_service_account',
] as const;

export type ExportedJob = Record<(typeof DEFINITION_FIELDS)[number], unknown>;

export function exportJob(job: ScheduledJob): ExportedJob {
  return {
    name: job.name,
    job_kind: job.job_kind,
    schedule_type: job.schedule_type,
    start_ts: isoOrNull(job.start_ts),
    time_zone: job.time_zone,
    cron_expression: job.cron_expression,
    duration_stop_enabled: job.duration_stop_enabled,
    expiration: isoOrNull(job.expiration),
    missed_policy: job.missed_policy,
    enabled: job.enabled,
    targets: job.targets_json,
    components: job.components_json,
    execution_context: job.execution_context,
    credential_id: job.credential_id,
    use_service_account: job.use_service_account,
  };
}

/** The fields whose value differs, each as { before, after } (compared as JSON). */
export function changedFields(before: ExportedJob, after: ExportedJob): Record<string, { before: unknown; after: unknown }> {
  const changed: Record<string, { before: unknown; after: unknown }> = {};
  for (const field of DEFINITION_FIELDS) {
    if (JSON.stringify(before[field]) !== JSON.stringify(after[field])) changed[field] = { before: before[field], after: after[field] };
  }
  return changed;
}

const INTERVAL_WORDS: Record<string, string> = {
  every_5_minutes: 'every 5 minutes',
  every_10_minutes: 'every 10 minutes',
  every_15_minutes: 'every 15 minutes',
  every_30_minutes: 'every 30 minutes',
  every_hour: 'every hour',
};
const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

type ScheduleFields = Pick<ScheduledJob, 'schedule_type' | 'start_ts' | 'time_zone' | 'cron_expression' | 'duration_stop_enabled' | 'expiration'>;

/**
 * The schedule in words, e.g. "daily at 02:30 (Europe/Berlin)", "weekly on Tuesday at 03:00 (UTC)",
 * "cron "0 9 * * 1-5" (Europe/Berlin)", "every 15 minutes from 2099-12-01T02:30:00.000Z"; an
 * expiring schedule adds "until …". Calendar times are the wall clock of start_ts in the job's zone.
 */
export function describeSchedule(job: ScheduleFields): string {
  const zone = job.time_zone || 'UTC';
  const until = job.duration_stop_enabled && job.expiration !== null ? `, until ${iso(job.expiration)}` : '';
  const type = job.schedule_type;
  if (type === 'immediately') return 'immediately (once, as soon as a scheduler ticks)';
  if (type === 'once') return job.start_ts === null ? 'once' : `once at ${iso(job.start_ts)}`;
  if (type === 'cron') return `cron "${job.cron_expression ?? ''}" (${zone})${until}`;
  const interval = INTERVAL_WORDS[type];
  if (interval) return `${interval}${job.start_ts === null ? '' : ` from ${iso(job.start_ts)}`}${until}`;
  if (job.start_ts === null) return `${type} (${zone})${until}`;
  let w;
  try {
    w = wallClockAt(job.start_ts, zone);
  } catch {
    return `${type} from ${iso(job.start_ts)} (${zone}: unknown time zone)${until}`;
  }
  const at = `at ${pad(w.hour)}:${pad(w.minute)}`;
  const day = new Date(Date.UTC(w.year, w.month - 1, w.day)).getUTCDay();
  const words =
    type === 'daily' ? `daily ${at}`
    : type === 'weekly' ? `weekly on ${WEEKDAYS[day]} ${at}`
    : type === 'monthly' ? `monthly on day ${w.day} ${at}${w.day > 28 ? ' (the last day in shorter months)' : ''}`
    : type === 'yearly' ? `yearly on ${w.day} ${MONTHS[w.month - 1]} ${at}`
    : type;
  return `${words} (${zone})${until}`;
}

function isoOrNull(ts: number | null): string | null {
  return ts === null ? null : iso(ts);
}

function iso(ts: number): string {
  return new Date(ts).toISOString();
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

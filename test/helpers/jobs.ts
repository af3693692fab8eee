/**
 * Scheduled jobs for tests, in the two forms they take:
 * - `jobDefinition(overrides)`: a job definition as an operator writes it (job.json), the input
 *   of validateJobDefinition, createScheduledJob and `jobyard jobs create`;
 * - `insertJob(db, row)`: a `scheduled_jobs` row written as given, without validation, for tests
 *   that need a job in a particular state (due, disabled, even invalid).
 */
import type { Insertable, Kysely } from 'kysely';
import { toJson } from '../../src/db/dialect.js';
import type { Database, ScheduledJob, ScheduledJobsTable } from '../../src/db/schema.js';

/**
 * A complete, valid definition with every field spelled out: a daily `df -h` at 02:30 Berlin
 * time from 2099-12-01 (far in the future, so tests on the wall clock never see it due).
 */
export function jobDefinition(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'nightly cleanup',
    job_kind: 'automation',
    schedule_type: 'daily',
    start_ts: '2099-12-01T02:30:00Z',
    time_zone: 'Europe/Berlin',
    cron_expression: null,
    duration_stop_enabled: false,
    expiration: null,
    missed_policy: 'skip',
    enabled: true,
    targets: { hostnames: ['ws-1'], sites: [1], filters: [3] },
    components: [{ kind: 'command', name: 'df', argv: ['df', '-h'], timeout_seconds: 30 }],
    execution_context: 'system',
    credential_id: null,
    use_service_account: false,
    ...overrides,
  };
}

/** The least a valid definition needs: an hourly `true` on one hostname, everything else defaulted. */
export function minimalJobDefinition(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'm',
    schedule_type: 'every_hour',
    targets: { hostnames: ['a'] },
    components: [{ kind: 'command', argv: ['true'] }],
    ...overrides,
  };
}

/**
 * The columns of a job row; `at` is when the job was written and is first due (created_at,
 * updated_at, start_ts and next_run_at unless given). JSON columns take `toJson(value)`.
 */
export type JobRow = Partial<Insertable<ScheduledJobsTable>> & { at: number };

/**
 * Inserts a `scheduled_jobs` row and returns it. Unless overridden: an enabled, hourly automation
 * job named "job" that runs `true` and targets nothing.
 */
export async function insertJob(db: Kysely<Database>, row: JobRow): Promise<ScheduledJob> {
  const { at, ...columns } = row;
  return db
    .insertInto('scheduled_jobs')
    .values({
      name: 'job',
      components_json: toJson([{ kind: 'command', argv: ['true'] }]),
      targets_json: toJson({ sites: [] }),
      schedule_type: 'every_hour',
      start_ts: at,
      next_run_at: at,
      created_at: at,
      updated_at: at,
      ...columns,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

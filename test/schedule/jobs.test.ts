import { beforeEach, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import {
  createScheduledJob,
  getScheduledJob,
  listRuns,
  listScheduledJobs,
  setJobEnabled,
} from '../../src/schedule/jobs.js';
import { describeBackends } from '../helpers/backends.js';
import { jobDefinition } from '../helpers/jobs.js';

const HOUR = 3_600_000;
const START = Date.UTC(2026, 11, 1, 2, 30);
const NOW = Date.UTC(2026, 10, 20, 12);

/** The example definition (test/helpers/jobs.ts), hourly from START, after NOW. */
const definition = (overrides: Record<string, unknown> = {}) => jobDefinition({ schedule_type: 'every_hour', start_ts: START, ...overrides });

describeBackends('scheduled jobs repository', (ctx) => {
  beforeEach(() => ctx.truncateAll());

  async function addRun(jobId: number, scheduledTs: number, status = 'Success') {
    return ctx.db
      .insertInto('scheduled_job_runs')
      .values({ job_id: jobId, scheduled_ts: scheduledTs, status, created_at: NOW, updated_at: NOW })
      .returning('id')
      .executeTakeFirstOrThrow();
  }

  it('creates a job and reads it back with parsed JSON, booleans and epoch-ms timestamps', async () => {
    const job = await createScheduledJob(ctx.store, definition(), { now: NOW });
    expect(job).toMatchObject({
      name: 'nightly cleanup',
      job_kind: 'automation',
      schedule_type: 'every_hour',
      start_ts: START,
      time_zone: 'Europe/Berlin',
      cron_expression: null,
      missed_policy: 'skip',
      enabled: true,
      duration_stop_enabled: false,
      use_service_account: false,
      execution_context: 'system',
      credential_id: null,
      created_at: NOW,
      updated_at: NOW,
      next_run_at: START,
      targets_json: { hostnames: ['ws-1'], sites: [1], filters: [3] },
      components_json: [{ kind: 'command', name: 'df', argv: ['df', '-h'], timeout_seconds: 30 }],
    });
    expect(typeof job.id).toBe('number');
    expect(await getScheduledJob(ctx.store, job.id)).toEqual(job);
    expect(await getScheduledJob(ctx.store, job.id + 1000)).toBeUndefined();
  });

  it('lists jobs oldest first', async () => {
    const a = await createScheduledJob(ctx.store, definition({ name: 'a' }), { now: NOW });
    const b = await createScheduledJob(ctx.store, definition({ name: 'b', enabled: false }), { now: NOW });
    const jobs = await listScheduledJobs(ctx.store);
    expect(jobs.map((j) => [j.id, j.name, j.enabled, j.next_run_at])).toEqual([
      [a.id, 'a', true, START],
      [b.id, 'b', false, null],
    ]);
  });

  it('writes nothing for an invalid definition and says why', async () => {
    const create = createScheduledJob(ctx.store, definition({ schedule_type: 'every_7_minutes', components: [] }), { now: NOW });
    await expect(create).rejects.toBeInstanceOf(UserError);
    await expect(create).rejects.toThrow(
      /^invalid job definition: schedule_type: unknown value "every_7_minutes"; expected one of immediately, .*; components: must not be empty$/,
    );
    expect(await listScheduledJobs(ctx.store)).toEqual([]);
  });

  it('disable clears next_run_at; enable schedules the first occurrence after now', async () => {
    const job = await createScheduledJob(ctx.store, definition(), { now: NOW });
    const later = START + 2.5 * HOUR;
    const disabled = await setJobEnabled(ctx.store, job.id, false, { now: later });
    expect(disabled).toMatchObject({ id: job.id, enabled: false, next_run_at: null, updated_at: later });

    const enabled = await setJobEnabled(ctx.store, job.id, true, { now: later });
    expect(enabled).toMatchObject({ enabled: true, next_run_at: START + 3 * HOUR, updated_at: later });
    expect(await getScheduledJob(ctx.store, job.id)).toEqual(enabled);
  });

  it('enabling a job whose start is still ahead schedules the start', async () => {
    const job = await createScheduledJob(ctx.store, definition({ enabled: false }), { now: NOW });
    expect((await setJobEnabled(ctx.store, job.id, true, { now: NOW }))?.next_run_at).toBe(START);
  });

  it('enabling an enabled job changes nothing (its due occurrence stays due)', async () => {
    const job = await createScheduledJob(ctx.store, definition(), { now: NOW });
    expect(await setJobEnabled(ctx.store, job.id, true, { now: START + 5 * HOUR })).toEqual(job);
  });

  it('an immediately/once job that never ran gets its first occurrence; one that ran gets none', async () => {
    const imm = await createScheduledJob(ctx.store, definition({ schedule_type: 'immediately', enabled: false }), { now: NOW });
    expect((await setJobEnabled(ctx.store, imm.id, true, { now: NOW + HOUR }))?.next_run_at).toBe(NOW + HOUR);

    const once = await createScheduledJob(ctx.store, definition({ schedule_type: 'once', enabled: false }), { now: NOW });
    expect((await setJobEnabled(ctx.store, once.id, true, { now: NOW }))?.next_run_at).toBe(START);

    await setJobEnabled(ctx.store, once.id, false, { now: NOW });
    await addRun(once.id, START);
    expect(await setJobEnabled(ctx.store, once.id, true, { now: NOW })).toMatchObject({ enabled: true, next_run_at: null });
  });

  it('returns undefined for an unknown job', async () => {
    expect(await setJobEnabled(ctx.store, 424242, false, { now: NOW })).toBeUndefined();
    expect(await setJobEnabled(ctx.store, 424242, true, { now: NOW })).toBeUndefined();
  });

  it("lists a job's runs newest scheduled_ts first, up to the limit", async () => {
    const job = await createScheduledJob(ctx.store, definition(), { now: NOW });
    const other = await createScheduledJob(ctx.store, definition({ name: 'other' }), { now: NOW });
    for (const ts of [START + HOUR, START, START + 3 * HOUR, START + 2 * HOUR]) await addRun(job.id, ts);
    await addRun(other.id, START + 9 * HOUR);
    const runs = await listRuns(ctx.store, { jobId: job.id, limit: 3 });
    expect(runs.map((r) => r.scheduled_ts)).toEqual([START + 3 * HOUR, START + 2 * HOUR, START + HOUR]);
    expect(runs.every((r) => r.job_id === job.id && r.shared_execution === false)).toBe(true);
    expect(await listRuns(ctx.store, { jobId: job.id })).toHaveLength(4);
    expect(await listRuns(ctx.store, { jobId: 424242 })).toEqual([]);
  });
});

/** Pure parts of the job lifecycle: the schedule in words, the changed-field diff, per-target rows. */
import { describe, expect, it } from 'vitest';
import { changedFields, describeSchedule, DEFINITION_FIELDS, type ExportedJob } from '../../src/schedule/job-export.js';
import { SNIPPET_CHARS, targetRows } from '../../src/schedule/run-detail.js';

const base = { start_ts: Date.UTC(2099, 0, 5, 2, 30), time_zone: 'UTC', cron_expression: null, duration_stop_enabled: false, expiration: null };

describe('describeSchedule', () => {
  it('says each schedule type in words, at the wall-clock time of start_ts in the job zone', () => {
    const say = (fields: Record<string, unknown>) => describeSchedule({ ...base, ...fields } as never);
    expect(say({ schedule_type: 'daily', time_zone: 'Europe/Berlin' })).toBe('daily at 03:30 (Europe/Berlin)');
    expect(say({ schedule_type: 'weekly' })).toBe('weekly on Monday at 02:30 (UTC)'); // 2099-01-05 is a Monday
    expect(say({ schedule_type: 'monthly', start_ts: Date.UTC(2099, 0, 31, 8, 0) })).toBe('monthly on day 31 at 08:00 (the last day in shorter months) (UTC)');
    expect(say({ schedule_type: 'yearly' })).toBe('yearly on 5 January at 02:30 (UTC)');
    expect(say({ schedule_type: 'every_15_minutes' })).toBe('every 15 minutes from 2099-01-05T02:30:00.000Z');
    expect(say({ schedule_type: 'once' })).toBe('once at 2099-01-05T02:30:00.000Z');
    expect(say({ schedule_type: 'immediately' })).toBe('immediately (once, as soon as a scheduler ticks)');
    expect(say({ schedule_type: 'cron', cron_expression: '0 9 * * 1-5', time_zone: 'Europe/Berlin' })).toBe('cron "0 9 * * 1-5" (Europe/Berlin)');
    expect(say({ schedule_type: 'daily', duration_stop_enabled: true, expiration: Date.UTC(2099, 11, 31) })).toBe(
      'daily at 02:30 (UTC), until 2099-12-31T00:00:00.000Z',
    );
  });
});

describe('changedFields', () => {
  it('lists only the fields whose value differs, before and after', () => {
    const a = Object.fromEntries(DEFINITION_FIELDS.map((f) => [f, null])) as ExportedJob;
    const b = { ...a, name: 'new', targets: { sites: [2] } };
    expect(changedFields({ ...a, name: 'old', targets: { sites: [1] } }, b)).toEqual({
      name: { before: 'old', after: 'new' },
      targets: { before: { sites: [1] }, after: { sites: [2] } },
    });
    expect(changedFields(a, { ...a })).toEqual({});
  });
});

describe('targetRows', () => {
  const target = (id: number, hostname: string, status: string) => ({
    id, hostname, site_id: 1, resolution_status: 'resolved', resolution_reason: null, status, finished_at: null,
  });
  const activity = (hostname: string, fields: Record<string, unknown>) => ({ hostname, exit_code: null, duration_ms: null, detail: null, stdout: null, stderr: null, ...fields });

  it('joins activity by hostname (case-insensitively): the last component decides exit code and snippets, durations add up', () => {
    const rows = targetRows(
      [target(1, 'WS-1', 'Failed'), target(2, 'ws-2', 'Expired')],
      [activity('ws-1', { exit_code: 0, duration_ms: 10, detail: 'exit code 0', stdout: 'ok' }), activity('ws-1', { exit_code: 2, duration_ms: 5, detail: 'exit code 2', stderr: 'e'.repeat(SNIPPET_CHARS + 1) })],
    );
    expect(rows[0]).toMatchObject({ hostname: 'WS-1', outcome: 'Failed', components_run: 2, exit_code: 2, duration_ms: 15, detail: 'exit code 2', stdout_snippet: null });
    expect(rows[0]!.stderr_snippet).toBe(`…${'e'.repeat(SNIPPET_CHARS)}`);
    expect(rows[1]).toMatchObject({ hostname: 'ws-2', outcome: 'Expired', components_run: 0, exit_code: null, duration_ms: null });
  });
});

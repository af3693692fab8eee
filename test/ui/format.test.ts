/** The dashboard's pure pieces: counts, durations, schedules in words, and the work-item filter in the URL. */
import { describe, expect, it } from 'vitest';
import { cappedCount, cronInWords, duration, explainRunStatus, scheduleInWords } from '../../src/http/ui/format.js';
import { filterToQuery, parseItemFilter } from '../../src/http/ui/item-filter.js';
import { jsonCandidates } from '../../src/db/json-search.js';

describe('formatting', () => {
  it('shows counts past the cap as "10,000+"', () => {
    expect(cappedCount(9999)).toBe('9,999');
    expect(cappedCount(10_000)).toBe('10,000');
    expect(cappedCount(10_001)).toBe('10,000+');
  });

  it('shows durations in the largest readable unit', () => {
    expect(duration(850)).toBe('850 ms');
    expect(duration(42_000)).toBe('42 s');
    expect(duration(7 * 60_000)).toBe('7 min');
    expect(duration(185 * 60_000)).toBe('3 h 5 min');
    expect(duration(52 * 3600_000)).toBe('2 d 4 h');
    expect(duration(null)).toBe('—');
  });

  it('puts schedules in words, cron with its zone', () => {
    expect(scheduleInWords({ schedule_type: 'every_15_minutes', cron_expression: null, time_zone: 'UTC' })).toBe('every 15 minutes');
    expect(scheduleInWords({ schedule_type: 'cron', cron_expression: '30 2 * * 1-5', time_zone: 'Europe/Berlin' })).toBe('every weekday at 02:30 (Europe/Berlin)');
    expect(cronInWords('*/5 * * * *')).toBe('every 5 minutes');
    expect(cronInWords('0 6 * * 0')).toBe('every Sunday at 06:00');
    expect(cronInWords('0 6 1 * *')).toBe('on day 1 of every month at 06:00');
    expect(cronInWords('0 6 1 1 *')).toBe('cron 0 6 1 1 *');
  });

  it('explains Skipped and Expired runs, and nothing else', () => {
    expect(explainRunStatus({ status: 'Skipped', skip_reason: 'previous occurrence still running', error: null })).toContain('previous occurrence still running');
    expect(explainRunStatus({ status: 'Expired', skip_reason: null, error: null })).toContain('expiry');
    expect(explainRunStatus({ status: 'Success', skip_reason: null, error: null })).toBeNull();
  });
});

describe('the work-item filter in the URL', () => {
  it('round-trips every field', () => {
    const q = new URLSearchParams({ status: 'failed', kind: 'scheduled_run', site: 'none', lane: 'fast', worker: 'w-1', run: '7', from: '2099-01-01T00:00', to: '4070908800000', payload: 'host.name=web-1' });
    const { filter, problems } = parseItemFilter(q);
    expect(problems).toEqual([]);
    expect(filter).toEqual({
      status: 'failed', kind: 'scheduled_run', site: null, lane: 'fast', worker: 'w-1', runId: 7,
      from: Date.UTC(2099, 0, 1), to: 4070908800000, payloadPath: 'host.name', payloadValue: 'web-1',
    });
    expect(parseItemFilter(new URLSearchParams(filterToQuery(filter))).filter).toEqual(filter);
  });

  it('names every bad field and what it accepts', () => {
    const { problems } = parseItemFilter(new URLSearchParams({ status: 'done', site: 'north', run: 'x', from: 'yesterday', payload: 'no-equals' }));
    expect(problems).toEqual([
      'status: "done" is not one of queued, running, succeeded, failed, dead, cancelled',
      'site: "north" is not a site id or "none"',
      'run: "x" is not a run id',
      'from: "yesterday" is not a time (ISO 8601 such as 2026-12-02T08:00 UTC, or epoch ms)',
      'payload: "no-equals" is not path=value (for example host.name=web-1)',
    ]);
  });

  it('matches a typed payload value as a string, or as the JSON it spells', () => {
    expect(jsonCandidates('web-1')).toEqual(['"web-1"']);
    expect(jsonCandidates('22')).toEqual(['"22"', '22']);
    expect(jsonCandidates('["a"]')).toEqual(['"[\\"a\\"]"', '["a"]']);
    expect(jsonCandidates('"quoted"')).toEqual(['"\\"quoted\\""']);
  });
});

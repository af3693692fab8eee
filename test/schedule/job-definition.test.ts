import { describe, expect, it } from 'vitest';
import { parseIsoInstant, validateJobDefinition, type JobDefinitionResult } from '../../src/schedule/job-definition.js';
import { jobDefinition, minimalJobDefinition } from '../helpers/jobs.js';

const NOW = Date.UTC(2026, 10, 20, 12, 0, 0); // 2026-11-20T12:00:00Z

/** The operator's example definition (job.json), starting 2026-12-01T02:30Z, after NOW. */
const example = (overrides: Record<string, unknown> = {}) => jobDefinition({ start_ts: '2026-12-01T02:30:00Z', ...overrides });

const minimal = minimalJobDefinition;

function valid(input: unknown, now = NOW) {
  const r = validateJobDefinition(input, { now });
  if (!r.ok) throw new Error(`expected valid, got: ${r.problems.join(' | ')}`);
  return r;
}

function problems(input: unknown, now = NOW): string[] {
  const r: JobDefinitionResult = validateJobDefinition(input, { now });
  if (r.ok) throw new Error('expected problems, got a valid definition');
  return r.problems;
}

const SCHEDULE_TYPES_LIST =
  'immediately, once, every_5_minutes, every_10_minutes, every_15_minutes, every_30_minutes, every_hour, daily, weekly, monthly, yearly, cron';

describe('validateJobDefinition: valid definitions', () => {
  it('turns the example into scheduled_jobs columns', () => {
    const { values, definition } = valid(example());
    const start = Date.UTC(2026, 11, 1, 2, 30);
    expect(values).toEqual({
      name: 'nightly cleanup',
      job_kind: 'automation',
      schedule_type: 'daily',
      start_ts: start,
      time_zone: 'Europe/Berlin',
      cron_expression: null,
      duration_stop_enabled: false,
      expiration: null,
      missed_policy: 'skip',
      enabled: true,
      targets_json: JSON.stringify({ hostnames: ['ws-1'], sites: [1], filters: [3] }),
      components_json: JSON.stringify([{ kind: 'command', name: 'df', argv: ['df', '-h'], timeout_seconds: 30 }]),
      execution_context: 'system',
      credential_id: null,
      use_service_account: false,
      created_at: NOW,
      updated_at: NOW,
      next_run_at: start,
    });
    expect(definition.start_ts).toBe(start);
  });

  it('applies defaults: automation, skip, UTC, enabled, anchored at now', () => {
    const { values } = valid(minimal());
    expect(values).toMatchObject({
      job_kind: 'automation',
      missed_policy: 'skip',
      time_zone: 'UTC',
      enabled: true,
      duration_stop_enabled: false,
      use_service_account: false,
      credential_id: null,
      execution_context: null,
      cron_expression: null,
      expiration: null,
      start_ts: NOW,
      next_run_at: NOW,
    });
  });

  it('accepts every job kind, schedule type and missed policy it lists', () => {
    for (const job_kind of ['automation', 'agent_maintenance', 'onboarding']) expect(valid(minimal({ job_kind })).values.job_kind).toBe(job_kind);
    for (const missed_policy of ['skip', 'run_once', 'run_all']) expect(valid(minimal({ missed_policy })).values.missed_policy).toBe(missed_policy);
    for (const schedule_type of SCHEDULE_TYPES_LIST.split(', ')) {
      const extra = schedule_type === 'cron' ? { cron_expression: '0 9 * * 1-5' } : {};
      expect(valid(minimal({ schedule_type, ...extra })).values.schedule_type).toBe(schedule_type);
    }
  });

  it('passes components of a configured plug-in kind and onboarding scope through unchanged', () => {
    const plugin = { kind: 'custom_patch', name: 'patch', playbook: 'site.yml', vars: { a: [1, 2] } };
    const r = validateJobDefinition(minimal({ components: [plugin] }), { now: NOW, pluginKinds: ['custom_patch'] });
    expect(r.ok && JSON.parse(r.values.components_json)).toEqual([plugin]);
    const onboarding = valid({
      name: 'onboard',
      job_kind: 'onboarding',
      schedule_type: 'immediately',
      targets: { onboarding_scope: { site_id: 4, hosts: ['10.0.0.1 # rack 2'] } },
      components: [{ kind: 'device_onboarding', ssh_port: 22 }],
    });
    expect(JSON.parse(onboarding.values.targets_json)).toEqual({ onboarding_scope: { site_id: 4, hosts: ['10.0.0.1 # rack 2'] } });
    expect(JSON.parse(onboarding.values.components_json)).toEqual([{ kind: 'device_onboarding', ssh_port: 22 }]);
  });

  it('accepts http components with an http(s) url and a positive credential_id', () => {
    const { values } = valid(minimal({ components: [{ kind: 'http', url: 'https://example.test/hook' }], credential_id: 7 }));
    expect(values.credential_id).toBe(7);
  });
});

describe('validateJobDefinition: times', () => {
  it('parses ISO-8601 with Z or an offset, and epoch milliseconds', () => {
    const at = Date.UTC(2026, 11, 1, 2, 30);
    for (const start_ts of ['2026-12-01T02:30:00Z', '2026-12-01T03:30:00+01:00', '2026-12-01T03:30+0100', '2026-11-30T21:30:00.000-05:00', at]) {
      expect(valid(example({ start_ts })).values.start_ts).toBe(at);
    }
    expect(parseIsoInstant('2026-12-01T02:30:00.123456Z')).toBe(at + 123);
    expect(parseIsoInstant('2026-12-01t02:30:00z')).toBe(at);
  });

  it('refuses times without a zone, impossible dates and non-integers', () => {
    for (const bad of ['2026-12-01T02:30:00', '2026-12-01', '2026-02-30T00:00:00Z', '2026-12-01T24:00:00Z', 'tomorrow', 1.5, -1, true]) {
      expect(problems(example({ start_ts: bad }))).toEqual([
        expect.stringMatching(/^start_ts: must be an ISO-8601 time with a zone or offset \(e\.g\. "2026-12-01T02:30:00Z"\) or epoch milliseconds, from 1970 to 9999, got /),
      ]);
    }
  });

  it('stores the expiration when duration_stop_enabled, and requires the two together', () => {
    const expiration = '2027-01-01T00:00:00Z';
    expect(valid(example({ duration_stop_enabled: true, expiration })).values.expiration).toBe(Date.UTC(2027, 0, 1));
    expect(problems(example({ duration_stop_enabled: true }))).toEqual(['expiration: required when duration_stop_enabled is true']);
    expect(problems(example({ expiration }))).toEqual([
      'expiration: only used when duration_stop_enabled is true; set both or neither',
    ]);
  });
});

describe('validateJobDefinition: next_run_at', () => {
  it('is the first occurrence: start for calendar types, now for immediately, the first cron match', () => {
    expect(valid(example()).values.next_run_at).toBe(Date.UTC(2026, 11, 1, 2, 30));
    expect(valid(minimal({ schedule_type: 'immediately', start_ts: '2027-01-01T00:00:00Z' })).values.next_run_at).toBe(NOW);
    expect(valid(minimal({ schedule_type: 'once', start_ts: '2026-12-24T18:00:00+01:00' })).values.next_run_at).toBe(Date.UTC(2026, 11, 24, 17));
    // 09:00 on weekdays in New York (EST, UTC-5); NOW is Friday 2026-11-20 12:00Z = 07:00 EST.
    const cron = valid(minimal({ schedule_type: 'cron', cron_expression: '0 9 * * 1-5', time_zone: 'America/New_York' })).values;
    expect(cron.next_run_at).toBe(Date.UTC(2026, 10, 20, 14));
  });

  it('a recurring job anchored in the past starts at its first occurrence from now: nothing before it existed is missed', () => {
    const { values } = valid(example({ start_ts: '2026-01-01T00:00:00Z' }));
    expect(values.start_ts).toBe(Date.UTC(2026, 0, 1)); // still the anchor of the series
    // Daily at 01:00 Berlin (00:00 UTC in winter): the next one after 2026-11-20T12:00Z.
    expect(values.next_run_at).toBe(Date.UTC(2026, 10, 21, 0, 0));
  });

  it('a once job runs at its start_ts, which must not be in the past', () => {
    expect(valid(example({ schedule_type: 'once', start_ts: '2026-12-01T00:00:00Z' })).values.next_run_at).toBe(Date.UTC(2026, 11, 1));
    expect(problems(example({ schedule_type: 'once', start_ts: '2026-01-01T00:00:00Z' }))).toEqual([
      'start_ts: 2026-01-01T00:00:00.000Z is in the past; a once job runs at start_ts, so it must be later than now',
    ]);
  });

  it('is null for a disabled job', () => {
    const { values } = valid(example({ enabled: false }));
    expect(values.enabled).toBe(false);
    expect(values.next_run_at).toBeNull();
    expect(values.start_ts).toBe(Date.UTC(2026, 11, 1, 2, 30));
  });

  it('refuses an enabled job that would never run', () => {
    expect(problems(minimal({ schedule_type: 'every_hour', duration_stop_enabled: true, expiration: NOW - 1 }))).toEqual([
      `expiration: ${new Date(NOW - 1).toISOString()} is not after the first occurrence; the job would never run`,
    ]);
  });
});

describe('validateJobDefinition: problems', () => {
  it('names the accepted values of every enum, exactly', () => {
    expect(problems(example({ schedule_type: 'every_7_minutes' }))).toEqual([
      `schedule_type: unknown value "every_7_minutes"; expected one of ${SCHEDULE_TYPES_LIST}`,
    ]);
    expect(problems(example({ job_kind: 'maintenance' }))).toEqual([
      'job_kind: unknown value "maintenance"; expected one of automation, onboarding, agent_maintenance',
    ]);
    expect(problems(example({ missed_policy: 'never' }))).toEqual([
      'missed_policy: unknown value "never"; expected one of skip, run_once, run_all',
    ]);
    expect(problems(example({ schedule_type: undefined }))).toEqual([`schedule_type: required; expected one of ${SCHEDULE_TYPES_LIST}`]);
    expect(problems(example({ missed_policy: 3 }))).toEqual(['missed_policy: unknown value 3; expected one of skip, run_once, run_all']);
  });

  it('reports every problem at once', () => {
    const found = problems({
      ...example({ name: '', job_kind: 'auto', schedule_type: 'every_7_minutes', time_zone: 'Mars/Olympus', credential_id: 0 }),
      targets: { sites: [0, 'x'], hostname: ['a'] },
      components: [{ kind: 'command', argv: [] }, { kind: 'http', url: 'ftp://x' }, { kind: 'command' }, 5],
      foo: 1,
    });
    expect(found).toEqual(
      expect.arrayContaining([
        'name: must not be empty',
        'job_kind: unknown value "auto"; expected one of automation, onboarding, agent_maintenance',
        `schedule_type: unknown value "every_7_minutes"; expected one of ${SCHEDULE_TYPES_LIST}`,
        expect.stringMatching(/^time_zone: unknown IANA time zone "Mars\/Olympus"/),
        'targets.sites.0: must be a positive integer up to 2147483647, got 0',
        'targets.sites.1: must be a positive integer up to 2147483647, got "x"',
        'targets.hostname: unknown field; expected one of hostnames, sites, filters, onboarding_scope',
        'components.0.argv: must not be empty',
        'components.1.url: must be an http:// or https:// URL',
        'components.2.argv: required',
        'components.3: must be an object, got a number',
        'credential_id: must be a positive integer up to 2147483647, got 0',
        expect.stringMatching(/^foo: unknown field; expected one of name, job_kind, schedule_type, start_ts, time_zone, /),
      ]),
    );
    expect(found).toHaveLength(13);
    expect(found.every((p) => !p.includes('\n'))).toBe(true);
  });

  it('reports unknown top-level fields with the accepted names', () => {
    expect(problems(example({ schedule: 'daily' }))).toEqual([
      'schedule: unknown field; expected one of name, job_kind, schedule_type, start_ts, time_zone, cron_expression, ' +
        'duration_stop_enabled, expiration, missed_policy, enabled, targets, components, execution_context, credential_id, use_service_account',
    ]);
  });

  it('reports required fields and wrong types', () => {
    expect(problems({})).toEqual(
      expect.arrayContaining(['name: required', 'targets: required', 'components: required', expect.stringMatching(/^schedule_type: required/)]),
    );
    expect(problems(example({ enabled: 'yes', name: 5 }))).toEqual(['name: must be a string, got a number', 'enabled: must be true or false, got a string']);
    expect(problems([])).toEqual(['job definition: must be a JSON object, got an array']);
    expect(problems(null)).toEqual(['job definition: must be a JSON object, got null']);
  });

  it('needs hostnames, sites or filters for automation and agent maintenance jobs', () => {
    for (const job_kind of ['automation', 'agent_maintenance']) {
      expect(problems(example({ job_kind, targets: {} }))).toEqual([
        `targets: an ${job_kind} job needs at least one of hostnames, sites or filters`,
      ]);
      expect(problems(example({ job_kind, targets: { hostnames: [], sites: [] } }))).toHaveLength(1);
    }
    expect(valid(example({ targets: { filters: [2] } })).values.targets_json).toBe('{"filters":[2]}');
  });

  it('keeps onboarding scope and device_onboarding components to onboarding jobs', () => {
    expect(problems(example({ targets: { hostnames: ['a'], onboarding_scope: { site_id: 1 } } }))).toEqual([
      'targets.onboarding_scope: only onboarding jobs have an onboarding scope',
    ]);
    expect(problems(example({ components: [{ kind: 'device_onboarding' }] }))).toEqual([
      'components.0.kind: "device_onboarding" is only for onboarding jobs',
    ]);
  });

  it('checks components: non-empty, a kind, argv for command, url for http', () => {
    expect(problems(example({ components: [] }))).toEqual(['components: must not be empty']);
    expect(problems(example({ components: [{ argv: ['x'] }] }))).toEqual(['components.0.kind: required']);
    expect(problems(example({ components: [{ kind: 'command', argv: ['ok', 3] }] }))).toEqual([
      'components.0.argv.1: must be a string, got a number',
    ]);
    expect(problems(example({ components: [{ kind: 'http' }] }))).toEqual(['components.0.url: required']);
  });

  it('folds in recurrence problems', () => {
    expect(problems(example({ schedule_type: 'cron' }))).toEqual([expect.stringMatching(/^cron_expression: required when schedule_type is cron; /)]);
    expect(problems(example({ schedule_type: 'cron', cron_expression: '61 * * * *' }))).toEqual([
      expect.stringMatching(/^cron_expression: invalid cron expression "61 \* \* \* \*"/),
    ]);
    expect(problems(example({ cron_expression: '0 9 * * *' }))).toEqual(['cron_expression: only used when schedule_type is cron; set it to null']);
    expect(problems(example({ duration_stop_enabled: true, expiration: '2026-12-01T00:00:00Z' }))).toEqual([
      expect.stringMatching(/^expiration: must be later than start_ts/),
    ]);
  });

  it('refuses secret-named keys anywhere, pointing to credential_id', () => {
    expect(problems(example({ components: [{ kind: 'command', argv: ['deploy'], env: { API_TOKEN: 'abc', HOME: '/root' } }] }))).toEqual([
      'components.0.env.API_TOKEN: secrets never enter job definitions; use credential_id',
    ]);
    const found = problems({
      ...example(),
      job_kind: 'onboarding',
      targets: { onboarding_scope: { site_id: 1, ssh: { password: 'hunter2' } } },
      components: [{ kind: 'device_onboarding', privateKey: 'x' }],
    });
    expect(found).toEqual([
      'targets.onboarding_scope.ssh.password: secrets never enter job definitions; use credential_id',
      'components.0.privateKey: secrets never enter job definitions; use credential_id',
    ]);
    expect(found.join(' ')).not.toContain('hunter2');
  });
});

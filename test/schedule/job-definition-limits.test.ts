/**
 * What a job definition may not hold: values the worker would refuse when it runs them, kinds no
 * executor runs, times outside 1970–9999 or (for a once job) before now, sizes past the limits,
 * and control characters where a one-line value is expected (NUL anywhere). Pure: an injected clock.
 */
import { describe, expect, it } from 'vitest';
import { JOB_LIMITS, validateJobDefinition } from '../../src/schedule/job-definition.js';
import { minimalJobDefinition } from '../helpers/jobs.js';

const NOW = Date.UTC(2050, 0, 1);
const job = minimalJobDefinition;

function problems(input: unknown, options: { pluginKinds?: string[] } = {}): string[] {
  const r = validateJobDefinition(input, { now: NOW, ...options });
  if (r.ok) throw new Error('expected problems, got a valid definition');
  return r.problems;
}

describe('validateJobDefinition: bad input', () => {
  it('refuses command components the worker would refuse: env values that are not strings, shell that is not a boolean', () => {
    expect(problems(job({ components: [{ kind: 'command', argv: ['env'], env: { A: 1, B: 'ok', C: null } }] }))).toEqual([
      'components.0.env.A: must be a string, got a number',
      'components.0.env.C: must be a string, got null',
    ]);
    expect(problems(job({ components: [{ kind: 'command', argv: ['ls'], shell: 'yes' }] }))).toEqual(['components.0.shell: must be true or false, got a string']);
    expect(problems(job({ components: [{ kind: 'http', url: 'https://x.test', headers: { a: 1 } }] }))).toEqual(['components.0.headers.a: must be a string, got a number']);
  });

  it('refuses a component kind with no executor unless a plug-in of that kind is configured', () => {
    expect(problems(job({ components: [{ kind: 'custom_check' }] }))).toEqual([
      'components.0.kind: unknown kind "custom_check"; expected one of command, script, http, device_onboarding, ansible_playbook (other kinds need a plug-in; none is configured)',
    ]);
    expect(validateJobDefinition(job({ components: [{ kind: 'custom_check' }] }), { now: NOW, pluginKinds: ['custom_check'] }).ok).toBe(true);
  });

  it('refuses a once job in the past (judged by the given clock) and times outside 1970–9999', () => {
    expect(problems(job({ schedule_type: 'once', start_ts: '2000-01-01T00:00:00Z' }))).toEqual([
      'start_ts: 2000-01-01T00:00:00.000Z is in the past; a once job runs at start_ts, so it must be later than now',
    ]);
    expect(validateJobDefinition(job({ schedule_type: 'once', start_ts: '2099-01-01T00:00:00Z' }), { now: NOW }).ok).toBe(true);
    const year255479 = 8_000_000_000_000_000;
    expect(problems(job({ start_ts: year255479 }))).toEqual([expect.stringMatching(/^start_ts: must be .* from 1970 to 9999, got 8000000000000000$/)]);
    expect(problems(job({ duration_stop_enabled: true, expiration: JOB_LIMITS.latestInstant + 1 }))).toEqual([expect.stringMatching(/^expiration: must be .* from 1970 to 9999/)]);
  });

  it('refuses a name over 200 characters, over 100 components and definitions over 1 MiB', () => {
    expect(problems(job({ name: 'n'.repeat(201) }))).toEqual(['name: must be at most 200 characters']);
    expect(validateJobDefinition(job({ name: 'n'.repeat(200) }), { now: NOW }).ok).toBe(true);
    const components = Array.from({ length: 101 }, () => ({ kind: 'command', argv: ['true'] }));
    expect(problems(job({ components }))).toEqual(['components: must have at most 100 components']);
    expect(problems(job({ name: 'n'.repeat(50 * 1024 * 1024) }))).toEqual([expect.stringMatching(/^job definition: \d+ bytes as JSON; the limit is 1048576 \(1 MiB\)$/)]);
    const many = Array.from({ length: 200_000 }, () => ({ kind: 'command', argv: ['true'] }));
    expect(problems(job({ components: many }))).toEqual([expect.stringMatching(/^job definition: \d+ bytes as JSON; the limit is 1048576/)]);
  });

  it('refuses control characters in one-line values and NUL anywhere', () => {
    expect(problems(job({ name: 'evil\u001b[2J' }))).toEqual(['name: must not contain control characters']);
    expect(problems(job({ targets: { hostnames: ['ws\u0007-1'] } }))).toEqual(['targets.hostnames.0: must not contain control characters']);
    expect(problems(job({ time_zone: 'UTC\u0085' }))).toEqual(['time_zone: must not contain control characters']);
    expect(problems(job({ components: [{ kind: 'command', name: 'a\u009bb', argv: ['true'] }] }))).toEqual(['components.0.name: must not contain control characters']);
    expect(problems(job({ components: [{ kind: 'command', argv: ['echo', 'a\u0000b'] }] }))).toEqual([
      'components.0.argv.1: contains a NUL character (\\u0000), which cannot be stored',
    ]);
    expect(problems(job({ name: 'a\u0000' }))).toEqual(['name: contains a NUL character (\\u0000), which cannot be stored']);
    // Multi-line text belongs in arguments: a script passed to sh -c keeps its newlines and tabs.
    expect(validateJobDefinition(job({ components: [{ kind: 'command', argv: ['sh', '-c', 'a\n\tb'] }] }), { now: NOW }).ok).toBe(true);
  });
});

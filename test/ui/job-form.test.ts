/** The job form's pure mapping: fields ↔ definition, and problems placed beside their fields. */
import { describe, expect, it } from 'vitest';
import { blankForm, definitionFromForm, fieldOfProblem, formFromDefinition, GENERAL, mergeProblems, problemsByField, redactJsonText, REDACTED } from '../../src/http/ui/job-form.js';
import { validateJobDefinition } from '../../src/schedule/job-definition.js';

const NOW = Date.UTC(2099, 0, 5, 12, 0, 0);

const exported = {
  name: 'patch web',
  job_kind: 'automation',
  schedule_type: 'weekly',
  start_ts: '2099-02-03T02:00:00.000Z',
  time_zone: 'Europe/Berlin',
  cron_expression: null,
  duration_stop_enabled: true,
  expiration: '2099-06-01T00:00:00.000Z',
  missed_policy: 'run_all',
  enabled: false,
  targets: { hostnames: ['web-1', 'web-2'], sites: [3], filters: [7, 8] },
  components: [{ kind: 'script', script: 'apt-get -y upgrade', become: true }],
  execution_context: 'ssh',
  credential_id: 4,
  use_service_account: true,
};

describe('job form', () => {
  it('gives back the definition it was filled from (an export round-trips)', () => {
    const { definition, problems } = definitionFromForm(formFromDefinition(exported));
    expect(problems).toEqual([]);
    expect(definition).toEqual(exported);
    expect(validateJobDefinition(definition, { now: NOW }).ok).toBe(true);
  });

  it('starts a new job with a form the validator accepts once a name and a target are given', () => {
    const { definition } = definitionFromForm({ ...blankForm(), name: 'x', hostnames: 'a\nb' });
    expect(definition.targets).toEqual({ hostnames: ['a', 'b'] });
    expect(validateJobDefinition(definition, { now: NOW }).ok).toBe(true);
  });

  it('leaves ids that are not numbers as text for the validator to name', () => {
    const { definition } = definitionFromForm({ ...blankForm(), name: 'x', sites: '1, two', credential_id: 'cred' });
    expect(definition.targets).toEqual({ sites: [1, 'two'] });
    expect(definition.credential_id).toBe('cred');
    const r = validateJobDefinition(definition, { now: NOW });
    expect(r.ok ? [] : r.problems.map(fieldOfProblem)).toEqual(expect.arrayContaining(['sites', 'credential_id']));
  });

  it('reports JSON fields that do not parse instead of the validator\'s "required"', () => {
    const form = { ...blankForm(), name: 'x', hostnames: 'a', components: '[{', onboarding_scope: '{"site_id": }' };
    const { definition, problems, unparsed } = definitionFromForm(form);
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^targets\.onboarding_scope: not valid JSON/);
    expect(problems[1]).toMatch(/^components: not valid JSON/);
    const r = validateJobDefinition(definition, { now: NOW });
    const merged = mergeProblems(problems, unparsed, r.ok ? [] : r.problems);
    expect(merged.filter((p) => p.startsWith('components:'))).toEqual([problems[1]]);
  });

  it('places each problem beside the field it names', () => {
    expect(fieldOfProblem('targets.hostnames.0: must not contain control characters')).toBe('hostnames');
    expect(fieldOfProblem('targets: an automation job needs at least one of hostnames, sites or filters')).toBe('hostnames');
    expect(fieldOfProblem('components.0.argv: required')).toBe('components');
    expect(fieldOfProblem('duration_stop_enabled: must be a boolean')).toBe('expiration');
    expect(fieldOfProblem('job definition: must be a JSON object, got array')).toBe(GENERAL);
    expect(fieldOfProblem('password: secrets never enter job definitions; use credential_id')).toBe(GENERAL);
    expect([...problemsByField(['name: required', 'name: required', 'time_zone: unknown']).entries()]).toEqual([
      ['name', ['name: required']],
      ['time_zone', ['time_zone: unknown']],
    ]);
  });

  it('removes values under secret-named keys from JSON text shown again, and leaves other text alone', () => {
    const text = '[{"kind":"http","url":"https://x","headers":{"X-Api-Key":"k-123","Accept":"json"}}]';
    expect(JSON.parse(redactJsonText(text))).toEqual([{ kind: 'http', url: 'https://x', headers: { 'X-Api-Key': REDACTED, Accept: 'json' } }]);
    expect(redactJsonText('[{"kind":"command","argv":["ls"]}]')).toBe('[{"kind":"command","argv":["ls"]}]');
    expect(redactJsonText('[{ not json')).toBe('[{ not json');
  });
});

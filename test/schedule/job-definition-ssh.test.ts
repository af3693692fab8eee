/** Job definitions for remote execution: script components, become, and the credential an ssh job needs. */
import { describe, expect, it } from 'vitest';
import { validateJobDefinition } from '../../src/schedule/job-definition.js';
import { jobDefinition } from '../helpers/jobs.js';

const NOW = Date.parse('2026-12-01T00:00:00Z');
const problems = (overrides: Record<string, unknown>) => {
  const r = validateJobDefinition(jobDefinition(overrides), { now: NOW });
  return r.ok ? [] : r.problems;
};

describe('ssh job definitions', () => {
  it('accepts command and script components with become on an ssh job with a credential', () => {
    expect(problems({
      execution_context: 'ssh',
      credential_id: 4,
      components: [
        { kind: 'command', argv: ['systemctl', 'restart', 'nginx'], become: true },
        { kind: 'script', script: 'df -h /', become_user: 'postgres', timeout_seconds: 30 },
      ],
    })).toEqual([]);
  });

  it('refuses an ssh job without a credential, become outside ssh, an empty script and a bad user name', () => {
    expect(problems({ execution_context: 'ssh', credential_id: null })).toEqual([
      'credential_id: an ssh job logs in with a credential (a username with a password or private key); name one',
    ]);
    expect(problems({ components: [{ kind: 'command', argv: ['id'], become: true }] })).toEqual(['components.0.become: only for jobs whose execution_context is ssh']);
    const bad = problems({ execution_context: 'ssh', credential_id: 1, components: [{ kind: 'script', script: ' ' }, { kind: 'command', argv: ['id'], become_user: 'a b' }] });
    expect(bad).toHaveLength(2);
    expect(bad[0]).toMatch(/^components\.0\.script: /);
    expect(bad[1]).toBe('components.1.become_user: must be a user name');
  });
});

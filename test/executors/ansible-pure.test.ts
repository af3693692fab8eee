/** The pure parts of the ansible_playbook component: recap parsing, the run's files, job validation. */
import { describe, expect, it } from 'vitest';
import { ansibleEnvironment, inventoryAlias, inventoryJson, knownHostsText, varsJson } from '../../src/executors/ansible/inventory.js';
import { componentStatus, fatalReasons, hostOutcome, parseRecap } from '../../src/executors/ansible/recap.js';
import { findAnsiblePlaybook } from '../../src/executors/ansible/tool.js';
import { validateJobDefinition } from '../../src/schedule/job-definition.js';
import { jobDefinition } from '../helpers/jobs.js';

const OUTPUT = `
PLAY [all] *********************************************************************

TASK [who] *********************************************************************
changed: [web-1]
fatal: [web-down]: UNREACHABLE! => {"changed": false, "msg": "Failed to connect to the host via ssh: ssh: connect to host 10.0.0.2 port 22: Connection timed out", "unreachable": true}
fatal: [web-bad]: FAILED! => {"changed": false, "msg": "non-zero return code"}

PLAY RECAP *********************************************************************
web-1                      : ok=2    changed=1    unreachable=0    failed=0    skipped=1    rescued=0    ignored=0
web-bad                    : ok=0    changed=0    unreachable=0    failed=1    skipped=0    rescued=0    ignored=0
web-down                   : ok=0    changed=0    unreachable=1    failed=0    skipped=0    rescued=0    ignored=0
`;

describe('PLAY RECAP', () => {
  it('reads every host line with all seven counters', () => {
    const recaps = parseRecap(OUTPUT);
    expect([...recaps.keys()]).toEqual(['web-1', 'web-bad', 'web-down']);
    expect(recaps.get('web-1')).toEqual({ ok: 2, changed: 1, unreachable: 0, failed: 0, skipped: 1, rescued: 0, ignored: 0 });
    expect(parseRecap('ERROR! the playbook could not be found')).toEqual(new Map());
  });

  it("turns each host's recap line and fatal message into its outcome; the component rolls up", () => {
    const recaps = parseRecap(OUTPUT);
    const reasons = fatalReasons(OUTPUT);
    expect(hostOutcome(recaps.get('web-1'), reasons.get('web-1'))).toEqual({ status: 'Success' });
    expect(hostOutcome(recaps.get('web-down'), reasons.get('web-down'))).toEqual({
      status: 'Failed',
      detail: 'unreachable: Failed to connect to the host via ssh: ssh: connect to host 10.0.0.2 port 22: Connection timed out',
    });
    expect(hostOutcome(recaps.get('web-bad'), reasons.get('web-bad'))).toEqual({ status: 'Failed', detail: 'failed: non-zero return code' });
    expect(hostOutcome(undefined, undefined)).toMatchObject({ status: 'Failed', detail: expect.stringMatching(/no PLAY RECAP line/) });
    expect(hostOutcome({ ok: 0, changed: 0, unreachable: 1, failed: 0, skipped: 0, rescued: 0, ignored: 0 }, 'unreachable: Host key verification failed.')).toMatchObject({
      detail: expect.stringMatching(/^host key changed: /),
    });
    expect(componentStatus([{ status: 'Success' }, { status: 'Success' }])).toBe('Success');
    expect(componentStatus([{ status: 'Success' }, { status: 'Failed', detail: 'x' }])).toBe('Partial');
    expect(componentStatus([{ status: 'Failed', detail: 'x' }])).toBe('Failed');
  });
});

describe("the run's files", () => {
  const hosts = [
    { alias: 'web-1', host: '10.0.0.1', port: 22, keyType: 'ssh-ed25519', publicKey: 'AAAA1' },
    { alias: 'web-2', host: '10.0.0.2', port: 2222, keyType: 'ssh-ed25519', publicKey: 'AAAA2' },
  ];

  it('an inventory alias per target, ansible_host/port from the endpoint, known_hosts from the pins', () => {
    expect(JSON.parse(inventoryJson(hosts))).toEqual({ all: { hosts: { 'web-1': { ansible_host: '10.0.0.1', ansible_port: 22 }, 'web-2': { ansible_host: '10.0.0.2', ansible_port: 2222 } } } });
    expect(knownHostsText(hosts)).toBe('10.0.0.1 ssh-ed25519 AAAA1\n[10.0.0.2]:2222 ssh-ed25519 AAAA2\n');
    expect(inventoryAlias('web-1', 7, new Set())).toBe('web-1');
    expect(inventoryAlias('web-1', 7, new Set(['web-1']))).toBe('web-1-7');
    expect(inventoryAlias('bad name;rm', 7, new Set())).toBe('target-7');
  });

  it('credentials only in the vars file; the environment holds no secret and checks host keys strictly', () => {
    expect(JSON.parse(varsJson({ username: 'u', password: 'p', becomePassword: 'b' }))).toEqual({ ansible_user: 'u', ansible_password: 'p', ansible_become_password: 'b' });
    const env = ansibleEnvironment('/tmp/x', { path: '/usr/bin', forks: 5, connectTimeoutSeconds: 3 });
    expect(env.ANSIBLE_HOST_KEY_CHECKING).toBe('True');
    expect(env.ANSIBLE_SSH_ARGS).toContain('-o StrictHostKeyChecking=yes -o UserKnownHostsFile=/tmp/x/known_hosts');
    expect(env).toMatchObject({ ANSIBLE_GATHERING: 'explicit', ANSIBLE_PIPELINING: 'True', ANSIBLE_FORKS: '5', HOME: '/tmp/x' });
    expect(Object.values(env).join(' ')).not.toMatch(/\bp\b.*\bb\b/);
  });

  it('finds ansible-playbook on PATH like command -v', () => {
    expect(findAnsiblePlaybook('/nonexistent')).toBeNull();
  });
});

describe('ansible_playbook job definitions', () => {
  const NOW = Date.parse('2026-12-01T00:00:00Z');
  const problems = (overrides: Record<string, unknown>) => {
    const r = validateJobDefinition(jobDefinition(overrides), { now: NOW });
    return r.ok ? [] : r.problems;
  };

  it('accepts inline playbooks on an ssh job with a credential', () => {
    expect(problems({ execution_context: 'ssh', credential_id: 1, components: [{ kind: 'ansible_playbook', name: 'base', playbook: '- hosts: all\n  tasks: []\n', become: true }] })).toEqual([]);
  });

  it('refuses an empty playbook, a playbook outside ssh jobs, and playbooks mixed with other kinds', () => {
    expect(problems({ execution_context: 'ssh', credential_id: 1, components: [{ kind: 'ansible_playbook', playbook: ' ' }] })).toEqual([expect.stringMatching(/^components\.0\.playbook: /)]);
    expect(problems({ components: [{ kind: 'ansible_playbook', playbook: 'x' }] })).toEqual(['components.0.kind: "ansible_playbook" needs execution_context "ssh"']);
    expect(problems({ execution_context: 'ssh', credential_id: 1, components: [{ kind: 'ansible_playbook', playbook: 'x' }, { kind: 'command', argv: ['id'] }] })).toEqual([
      'components.1.kind: a job with ansible_playbook components has only ansible_playbook components',
    ]);
  });
});

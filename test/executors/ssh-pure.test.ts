/** The pure parts of remote execution: the command line a target runs, device addresses, host-key display. */
import { describe, expect, it } from 'vitest';
import { deviceEndpoint, parseEndpoint } from '../../src/executors/ssh/endpoint.js';
import { fingerprintOf, keyTypeOf } from '../../src/executors/ssh/host-keys.js';
import { buildRemoteCommand, shQuote } from '../../src/executors/ssh/remote-command.js';
import { remoteProblems } from '../../src/executors/ssh/remote-component.js';

const markers = { pid: 'JYPID1:', prompt: '[jobyard-sudo ab]' };

describe('the remote command line', () => {
  it('quotes argv words, exports the non-secret variables, changes directory, reports its pid and reads nothing from stdin', () => {
    expect(buildRemoteCommand({ argv: ['echo', "it's", '$HOME'], env: { JOBYARD_RUN_ID: '7' }, cwd: '/srv/app' }, markers)).toBe(
      `exec </dev/null; echo "JYPID1:$$" >&2; export JOBYARD_RUN_ID='7'; cd '/srv/app' && 'echo' 'it'\\''s' '$HOME'`,
    );
  });

  it('passes shell text as written and drops variable names a shell would not accept', () => {
    expect(buildRemoteCommand({ argv: ['df -h | tail -1'], shell: true, env: { 'BAD NAME': 'x' } }, markers)).toBe('exec </dev/null; echo "JYPID1:$$" >&2; df -h | tail -1');
  });

  it('becomes another user through sudo with a random prompt, a TERM trap for the whole tree, and no password anywhere', () => {
    const line = buildRemoteCommand({ argv: ['id'], become: { user: 'postgres' } }, markers);
    expect(line).toBe(
      `echo "JYPID1:$$" >&2; exec sudo -S -k -p '[jobyard-sudo ab]' -u 'postgres' -- /bin/sh -c 'trap '\\''trap - TERM; kill -TERM 0'\\'' TERM; exec </dev/null; (\n'\\''id'\\''\n) & wait $!'`,
    );
  });

  it('shQuote survives any text', () => {
    expect(shQuote(`a'b"c$d`)).toBe(`'a'\\''b"c$d'`);
  });

  it('checks remote components', () => {
    expect(remoteProblems({ kind: 'script', script: '  ' })).toEqual(['script must be non-empty shell text']);
    expect(remoteProblems({ kind: 'command', argv: ['id'], become: 'yes', become_user: 'a b' })).toEqual(['become must be true or false', 'become_user must be a user name']);
    expect(remoteProblems({ kind: 'command', argv: ['id'], become_user: 'postgres' })).toEqual([]);
  });
});

describe('device addresses', () => {
  const none = { hostname: null, connection_endpoint: null, internal_ip: null, external_ip: null };
  it('prefers connection_endpoint, then internal_ip, external_ip, hostname; port 22 by default', () => {
    expect(deviceEndpoint({ ...none, connection_endpoint: '10.0.0.5:2222', internal_ip: '10.0.0.9' })).toEqual({ host: '10.0.0.5', port: 2222 });
    expect(deviceEndpoint({ ...none, internal_ip: '10.0.0.9', external_ip: '1.2.3.4', hostname: 'h' })).toEqual({ host: '10.0.0.9', port: 22 });
    expect(deviceEndpoint({ ...none, external_ip: '1.2.3.4', hostname: 'h' })).toEqual({ host: '1.2.3.4', port: 22 });
    expect(deviceEndpoint({ ...none, hostname: 'web-1.lan' })).toEqual({ host: 'web-1.lan', port: 22 });
    expect(deviceEndpoint(none)).toEqual({ error: 'the device has no connection_endpoint, address or hostname' });
  });
  it('parses endpoint forms and refuses others', () => {
    expect(parseEndpoint('ssh://admin@web-1:2200/x')).toEqual({ host: 'web-1', port: 2200 });
    expect(parseEndpoint('[fd00::5]:2201')).toEqual({ host: 'fd00::5', port: 2201 });
    expect(parseEndpoint('fd00::5')).toEqual({ host: 'fd00::5', port: 22 });
    expect(parseEndpoint('https://web-1')).toBeUndefined();
    expect(parseEndpoint('web-1:70000')).toBeUndefined();
    expect(deviceEndpoint({ ...none, connection_endpoint: 'wss://x' })).toEqual({ error: 'connection_endpoint "wss://x" is not host, host:port, [v6]:port or ssh://host[:port]' });
  });
});

describe('host keys', () => {
  it('names the key type and prints the fingerprint as OpenSSH does', () => {
    const blob = Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from('ssh-ed25519'), Buffer.from([0, 0, 0, 32]), Buffer.alloc(32, 1)]);
    expect(keyTypeOf(blob)).toBe('ssh-ed25519');
    expect(keyTypeOf(Buffer.from([1, 2]))).toBe('unknown');
    expect(fingerprintOf(blob)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });
});

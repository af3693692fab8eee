import { describe, expect, it } from 'vitest';
import { columnParams, constantColumns } from '../../src/db/bulk-insert.js';
import { UserError } from '../../src/errors.js';
import { retryDelayMs } from '../../src/queue/backoff.js';
import { LazyAbort } from '../../src/queue/handler.js';
import { defaultPriority, retryPolicyFor } from '../../src/queue/kinds.js';
import { findSecretKeys, isSecretKey, serialisePayload } from '../../src/queue/payload.js';

describe('retryDelayMs', () => {
  const policy = { maxAttempts: 10, baseDelayMs: 1000, maxDelayMs: 60_000 };

  it('doubles per attempt between half and all of the ceiling', () => {
    expect(retryDelayMs(1, policy, () => 0)).toBe(500);
    expect(retryDelayMs(1, policy, () => 1)).toBe(1000);
    expect(retryDelayMs(2, policy, () => 0)).toBe(1000);
    expect(retryDelayMs(3, policy, () => 1)).toBe(4000);
    expect(retryDelayMs(4, policy, () => 0.5)).toBe(6000);
  });

  it('is capped', () => {
    expect(retryDelayMs(20, policy, () => 1)).toBe(60_000);
    expect(retryDelayMs(500, policy, () => 0)).toBe(30_000);
  });
});

describe('kinds', () => {
  it('gives each kind its default priority (higher runs first): service actions, onboarding, agent maintenance, scheduled runs, then unknown kinds', () => {
    expect(defaultPriority('service_action')).toBe(100);
    expect(defaultPriority('onboarding_run')).toBe(50);
    expect(defaultPriority('agent_maintenance_run')).toBe(45);
    expect(defaultPriority('scheduled_run')).toBe(40);
    expect(defaultPriority('something_else')).toBe(0);
  });

  it('has retry policies per kind with overrides', () => {
    expect(retryPolicyFor('service_action').maxAttempts).toBe(3);
    expect(retryPolicyFor('unknown').maxAttempts).toBe(5);
    expect(retryPolicyFor('scheduled_run', { scheduled_run: { baseDelayMs: 1 } }).baseDelayMs).toBe(1);
  });
});

describe('payload secrets', () => {
  it.each(['password', 'db_password', 'apiKey', 'API_KEY', 'client-secret', 'token', 'access_token', 'private_key', 'passphrase', 'secret_value'])(
    'treats %s as a secret',
    (key) => expect(isSecretKey(key)).toBe(true),
  );

  it.each(['credential_id', 'hostname', 'tokens_used', 'passwords_rotated_at', 'keyword'])('allows %s', (key) =>
    expect(isSecretKey(key)).toBe(false),
  );

  it('finds secrets at any depth and names their paths', () => {
    expect(findSecretKeys({ a: { b: [{ ok: 1 }, { password: 'x' }] }, token: 't' })).toEqual(['a.b[1].password', 'token']);
  });

  it('refuses payloads with secrets, non-objects, and unserialisable values', () => {
    expect(() => serialisePayload({ nested: { apiKey: 'k' } })).toThrow(/nested\.apiKey/);
    expect(() => serialisePayload({ nested: { apiKey: 'k' } })).toThrow(UserError);
    expect(() => serialisePayload([1, 2])).toThrow(/must be a JSON object, got an array/);
    expect(() => serialisePayload('x')).toThrow(/got string/);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => serialisePayload(cyclic)).toThrow(/not serialisable/);
    expect(serialisePayload(undefined)).toBe('{}');
    expect(serialisePayload({ credential_id: 7 })).toBe('{"credential_id":7}');
  });
});

describe('LazyAbort', () => {
  it('an abort before the signal exists shows on the signal when it is made, with its reason', () => {
    const a = new LazyAbort();
    const reason = new Error('lease lost');
    a.abort(reason);
    a.abort(new Error('later'));
    expect(a.signal.aborted).toBe(true);
    expect(a.signal.reason).toBe(reason);
  });

  it('an abort after the signal was handed out fires it', () => {
    const a = new LazyAbort();
    const signal = a.signal;
    let fired = 0;
    signal.addEventListener('abort', () => fired++);
    expect(signal.aborted).toBe(false);
    a.abort(new Error('shutdown'));
    a.abort(new Error('again'));
    expect(fired).toBe(1);
    expect(a.signal).toBe(signal);
  });
});

describe('bulk insert parameters (PostgreSQL)', () => {
  const rows = [
    ['x', '{"i":1}', 0, null],
    ['x', '{"i":2}', 0, 'k"1'],
  ];

  it('finds the columns every row holds the same value in', () => {
    expect(constantColumns(rows, 4)).toEqual([true, false, true, false]);
    expect(constantColumns([rows[0]!], 4)).toEqual([true, true, true, true]);
  });

  it('sends a varying column as one array of its cells and a constant one as a single value, in column order', () => {
    const same = constantColumns(rows, 4);
    expect(columnParams(rows, same)).toEqual(['x', ['{"i":1}', '{"i":2}'], 0, [null, 'k"1']]);
    // A missing cell is a null, in an array or alone.
    expect(columnParams([['y', undefined as unknown as null]], [true, false])).toEqual(['y', [null]]);
  });
});

/**
 * Envelopes and key derivation, without a database: AES-256-GCM in `jy:v1:<nonce>:<body>`, a
 * fresh nonce per value, bound to its row and column, and a key that never prints itself.
 */
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { credentialAad, CredentialKey, EnvelopeError, isEnvelope, open, seal } from '../../src/credentials/envelope.js';
import { deriveKey, isKdfParams, newKdfParams } from '../../src/credentials/kdf.js';
import { CredentialLock, keyFromWorkerSecrets, workerKeyEnv } from '../../src/credentials/index.js';
import { splitSecrets } from '../../src/fleet/worker-secrets.js';

const key = new CredentialKey(randomBytes(32));
const aad = credentialAad(7, 'password_encrypted');

describe('envelopes', () => {
  it('round-trips a value, with a fresh nonce each time, in the versioned text format', () => {
    const a = seal(key, 'pässword ✓', aad);
    const b = seal(key, 'pässword ✓', aad);
    expect(a).toMatch(/^jy:v1:[A-Za-z0-9_-]{16}:[A-Za-z0-9_-]+$/);
    expect(a).not.toBe(b);
    expect(isEnvelope(a)).toBe(true);
    expect(open(key, a, aad)).toBe('pässword ✓');
    expect(open(key, b, aad)).toBe('pässword ✓');
    expect(a).not.toContain('pässword');
  });

  it('does not open under another row or column (no swapping ciphertexts)', () => {
    const sealed = seal(key, 'secret', aad);
    for (const other of [credentialAad(8, 'password_encrypted'), credentialAad(7, 'become_password_encrypted')]) {
      const err = (() => {
        try {
          return open(key, sealed, other);
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(EnvelopeError);
      expect((err as EnvelopeError).reason).toBe('authentication');
    }
  });

  it('refuses a wrong key, a tampered body and a foreign format, never echoing the value', () => {
    const sealed = seal(key, 'secret-value', aad);
    expect(() => open(new CredentialKey(randomBytes(32)), sealed, aad)).toThrow(EnvelopeError);
    const body = sealed.split(':')[3]!;
    const flipped = `${sealed.slice(0, sealed.length - body.length)}${body[0] === 'A' ? 'B' : 'A'}${body.slice(1)}`;
    expect(() => open(key, flipped, aad)).toThrow(/does not authenticate/);
    expect(() => open(key, 'aegis:v1:abc', aad)).toThrow(/not a jy:v1 envelope/);
    expect(() => open(key, 'jy:v1:short:x', aad)).toThrow(/not a jy:v1 envelope/);
  });

  it('a key shows itself as "[credential key]" in logs, JSON and inspection', () => {
    const bytes = key.bytes().toString('hex');
    for (const text of [String(key), JSON.stringify({ key }), inspect(key), `${key}`, inspect({ nested: key })]) {
      expect(text).toContain('[credential key]');
      expect(text).not.toContain(bytes);
      expect(text).not.toContain(key.export());
    }
    expect(CredentialKey.import(key.export()).bytes().equals(key.bytes())).toBe(true);
    expect(() => new CredentialKey(Buffer.alloc(16))).toThrow(/32 bytes/);
  });
});

describe('scrypt key derivation', () => {
  it('derives the same key from the same secret and parameters, another from another salt or secret', async () => {
    const params = newKdfParams({ N: 1024, r: 8, p: 1 });
    const one = await deriveKey('open sesame', params);
    expect((await deriveKey('open sesame', params)).bytes().equals(one.bytes())).toBe(true);
    expect((await deriveKey('open sesame!', params)).bytes().equals(one.bytes())).toBe(false);
    expect((await deriveKey('open sesame', newKdfParams({ N: 1024, r: 8, p: 1 }))).bytes().equals(one.bytes())).toBe(false);
  });

  it('accepts only sane stored parameters', () => {
    expect(isKdfParams(newKdfParams())).toBe(true);
    expect(newKdfParams()).toMatchObject({ N: 32768, r: 8, p: 1 });
    for (const bad of [null, {}, { ...newKdfParams(), N: 1000 }, { ...newKdfParams(), N: 2 ** 30 }, { ...newKdfParams(), salt: '' }, { ...newKdfParams(), p: 0 }]) {
      expect(isKdfParams(bad)).toBe(false);
    }
  });
});

describe('the key on its way to a site worker', () => {
  it('is secret-named, so both launchers send it on stdin, and nothing is sent while locked', () => {
    const lock = new CredentialLock();
    expect(workerKeyEnv(lock)).toEqual({});
    lock.unlock(key);
    const { env, secrets } = splitSecrets({ ...workerKeyEnv(lock), LOG_LEVEL: 'warn' });
    expect(env).toEqual({ LOG_LEVEL: 'warn' });
    expect(keyFromWorkerSecrets(secrets)!.bytes().equals(key.bytes())).toBe(true);
    expect(keyFromWorkerSecrets({})).toBeUndefined();
    expect(() => keyFromWorkerSecrets({ JOBYARD_CREDENTIALS_KEY: 'short' })).toThrow(/not a credentials key/);
  });
});

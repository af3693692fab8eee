/**
 * Versioned envelopes for secrets at rest (pure; no database, no I/O):
 *
 *   jy:v1:<nonce>:<ciphertext+tag>     (both base64url)
 *
 * AES-256-GCM with a fresh random 96-bit nonce per value. The additional authenticated data
 * binds a value to where it belongs (`credentials:<id>:<column>`), so a ciphertext copied to
 * another row or column fails authentication instead of decrypting as someone else's secret.
 * The version prefix lets a later format sit beside this one.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';

export const ENVELOPE_PREFIX = 'jy:v1:';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
export const KEY_BYTES = 32;

/**
 * A derived 256-bit key. It never prints itself (logs, JSON, util.inspect, template strings
 * show "[credential key]"), so a careless log line cannot leak it.
 */
export class CredentialKey {
  readonly #bytes: Buffer;

  constructor(bytes: Buffer) {
    if (bytes.length !== KEY_BYTES) throw new Error(`a credential key is ${KEY_BYTES} bytes, got ${bytes.length}`);
    this.#bytes = Buffer.from(bytes);
  }

  /** The raw key, for the cipher and for handing to a site worker on its stdin only. */
  bytes(): Buffer {
    return this.#bytes;
  }

  toString(): string {
    return '[credential key]';
  }

  toJSON(): string {
    return '[credential key]';
  }

  [inspect.custom](): string {
    return '[credential key]';
  }

  /** The key as text for the worker-secrets channel. */
  export(): string {
    return this.#bytes.toString('base64url');
  }

  static import(text: string): CredentialKey {
    const bytes = Buffer.from(text, 'base64url');
    return new CredentialKey(bytes);
  }
}

/** Where a value belongs: bound into the envelope as additional authenticated data. */
export function credentialAad(credentialId: number, column: string): string {
  return `credentials:${credentialId}:${column}`;
}

/** True when `value` is in this module's envelope format (any version we know). */
export function isEnvelope(value: string): boolean {
  return value.startsWith(ENVELOPE_PREFIX);
}

export function seal(key: CredentialKey, plaintext: string, aad: string): string {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key.bytes(), nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return `${ENVELOPE_PREFIX}${nonce.toString('base64url')}:${body.toString('base64url')}`;
}

/** Why an envelope could not be opened; the message never holds the value. */
export class EnvelopeError extends Error {
  constructor(readonly reason: 'format' | 'authentication') {
    super(reason === 'format' ? 'not a jy:v1 envelope' : 'the envelope does not authenticate with this key (wrong key, or a value moved from another row or column)');
    this.name = 'EnvelopeError';
  }
}

export function open(key: CredentialKey, envelope: string, aad: string): string {
  if (!isEnvelope(envelope)) throw new EnvelopeError('format');
  const parts = envelope.slice(ENVELOPE_PREFIX.length).split(':');
  if (parts.length !== 2) throw new EnvelopeError('format');
  const nonce = Buffer.from(parts[0]!, 'base64url');
  const body = Buffer.from(parts[1]!, 'base64url');
  if (nonce.length !== NONCE_BYTES || body.length < TAG_BYTES) throw new EnvelopeError('format');
  const decipher = createDecipheriv('aes-256-gcm', key.bytes(), nonce, { authTagLength: TAG_BYTES });
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(body.subarray(0, body.length - TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    throw new EnvelopeError('authentication');
  }
}

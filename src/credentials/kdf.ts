/**
 * The key-derivation function: scrypt over the operator's unlock secret, with parameters (N, r, p
 * and a random salt) that are stored in the keyring so that any process derives the same key.
 * scrypt is slow on purpose (tens of milliseconds and 32 MiB at the default cost): call it
 * outside any transaction. node:crypto runs it on the libuv thread pool, so the event loop
 * keeps serving while it works.
 */
import { randomBytes, scrypt } from 'node:crypto';
import { CredentialKey, KEY_BYTES } from './envelope.js';

export const KDF_NAME = 'scrypt';

export interface KdfParams {
  /** CPU/memory cost, a power of two. */
  N: number;
  r: number;
  p: number;
  /** base64url, 16 random bytes. */
  salt: string;
}

/** 2^15 × 8 × 128 bytes = 32 MiB per derivation (the OWASP floor for scrypt). */
export const DEFAULT_KDF_COST = { N: 2 ** 15, r: 8, p: 1 } as const;

export function newKdfParams(cost: { N: number; r: number; p: number } = DEFAULT_KDF_COST): KdfParams {
  return { ...cost, salt: randomBytes(16).toString('base64url') };
}

/** Checks stored parameters before they are used (a corrupt row must not hang or crash). */
export function isKdfParams(value: unknown): value is KdfParams {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  const int = (x: unknown, min: number, max: number) => Number.isInteger(x) && (x as number) >= min && (x as number) <= max;
  return int(v.N, 2, 2 ** 20) && ((v.N as number) & ((v.N as number) - 1)) === 0 && int(v.r, 1, 32) && int(v.p, 1, 16) && typeof v.salt === 'string' && v.salt.length >= 16;
}

export function deriveKey(secret: string, params: KdfParams): Promise<CredentialKey> {
  const maxmem = 256 * params.N * params.r * params.p + 1024 * 1024;
  return new Promise((resolve, reject) => {
    scrypt(secret.normalize('NFC'), Buffer.from(params.salt, 'base64url'), KEY_BYTES, { N: params.N, r: params.r, p: params.p, maxmem }, (err, bytes) => {
      if (err) reject(err);
      else resolve(new CredentialKey(bytes));
    });
  });
}

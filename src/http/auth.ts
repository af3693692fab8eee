/**
 * Optional bearer-token authentication. The comparison hashes both sides to a fixed length and
 * compares the digests with `timingSafeEqual`, so neither the token's content nor its length
 * leaks through response timing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/** True when `authorization` is `Bearer <token>` for exactly this token. */
export function bearerMatches(authorization: string | undefined, token: string): boolean {
  const match = /^Bearer +(\S+) *$/i.exec(authorization ?? '');
  // Compare something even when the header is missing or malformed: the same work either way.
  const given = match?.[1] ?? '';
  const equal = timingSafeEqual(digest(given), digest(token));
  return match !== null && equal;
}

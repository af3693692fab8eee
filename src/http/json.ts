/**
 * Serialises API responses. `*_json` columns already arrive parsed from the store (see
 * src/db/dialect.ts); this adds two guarantees on the way out:
 * - a corrupt SQLite JSON cell (an `InvalidJson` value) becomes `{ "invalid_json": "<text>" }`
 *   instead of failing the whole response;
 * - defence in depth: the value of any key that names a secret (`password`, `token`, `api_key`,
 *   … the same rule that keeps them out of payloads, src/secrets.ts) is replaced by
 *   "[redacted]", at any depth. The credentials table itself is never read by the API.
 */
import { InvalidJson } from '../db/dialect.js';
import { isSecretKey } from '../secrets.js';

export const REDACTED = '[redacted]';

export function toJsonText(value: unknown): string {
  return JSON.stringify(value, (key, v: unknown) => {
    if (key !== '' && isSecretKey(key) && v !== null && v !== undefined) return REDACTED;
    if (v instanceof InvalidJson) return { invalid_json: v.text };
    return v;
  });
}

import { UserError } from '../errors.js';

/** Key names that hold secrets; credentials are fetched by id while executing, never carried. */
const SECRET_WORDS = ['password', 'passwd', 'pwd', 'secret', 'token', 'private_key', 'passphrase', 'api_key', 'credentials'];

/** `apiKey`, `api-key`, `API_KEY` → `api_key`. */
function normaliseKey(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[-\s.]+/g, '_')
    .toLowerCase();
}

/** True when a key names a secret: `password`, `db_password`, `apiKey`, `client_secret`, … */
export function isSecretKey(key: string): boolean {
  const k = normaliseKey(key);
  return SECRET_WORDS.some((w) => k === w || k.endsWith(`_${w}`) || k.startsWith(`${w}_`));
}

/** Paths (`a.b[2].password`) of every secret-named key in a value, at any depth. */
export function findSecretKeys(value: unknown, path = '', seen: WeakSet<object> = new WeakSet()): string[] {
  if (value === null || typeof value !== 'object' || seen.has(value)) return [];
  seen.add(value); // a cyclic value is reported by JSON.stringify, not by a stack overflow here
  if (Array.isArray(value)) return value.flatMap((v, i) => findSecretKeys(v, `${path}[${i}]`, seen));
  return Object.entries(value).flatMap(([k, v]) => {
    const here = path ? `${path}.${k}` : k;
    return isSecretKey(k) ? [here, ...findSecretKeys(v, here, seen)] : findSecretKeys(v, here, seen);
  });
}

/**
 * Checks a work-item payload: a plain JSON object without secret-named keys. Returns its JSON
 * text. Throws a UserError naming the problem.
 */
export function serialisePayload(payload: unknown, field = 'payload'): string {
  if (payload === undefined) return '{}';
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    throw new UserError(`${field}: must be a JSON object, got ${Array.isArray(payload) ? 'an array' : typeof payload}`);
  }
  const secrets = findSecretKeys(payload);
  if (secrets.length > 0) {
    throw new UserError(
      `${field}: secrets never enter payload_json; remove ${secrets.join(', ')} and pass a credential id instead`,
    );
  }
  let text: string;
  try {
    text = JSON.stringify(payload);
  } catch (err) {
    throw new UserError(`${field}: not serialisable as JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  return text;
}

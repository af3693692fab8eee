import { UserError } from '../errors.js';
import { isSecretKey } from '../secrets.js';

// Which key names hold secrets is decided in one place for payloads, logs and output alike.
export { isSecretKey };

// Payload keys repeat from item to item (a batch is usually one shape), and deciding a key is
// three regex passes: remember the answer per key name, in a bounded map.
const secretByKey = new Map<string, boolean>();
const KEY_MEMO_MAX = 10_000;

function isSecretKeyMemo(key: string): boolean {
  let secret = secretByKey.get(key);
  if (secret === undefined) {
    secret = isSecretKey(key);
    if (secretByKey.size >= KEY_MEMO_MAX) secretByKey.clear();
    secretByKey.set(key, secret);
  }
  return secret;
}

/** Paths (`a.b[2].password`) of every secret-named key in a value, at any depth. */
export function findSecretKeys(value: unknown, path = '', seen: WeakSet<object> = new WeakSet()): string[] {
  const found: string[] = [];
  collectSecretKeys(value, path, seen, found);
  return found;
}

function collectSecretKeys(value: unknown, path: string, seen: WeakSet<object>, found: string[]): void {
  if (value === null || typeof value !== 'object' || seen.has(value)) return;
  seen.add(value); // a cyclic value is reported by JSON.stringify, not by a stack overflow here
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) collectSecretKeys(value[i], `${path}[${i}]`, seen, found);
    return;
  }
  for (const k in value) {
    if (!Object.prototype.hasOwnProperty.call(value, k)) continue;
    const v = (value as Record<string, unknown>)[k];
    // Paths are only built for what is reported or descended into.
    if (isSecretKeyMemo(k)) found.push(path ? `${path}.${k}` : k);
    if (v !== null && typeof v === 'object') collectSecretKeys(v, path ? `${path}.${k}` : k, seen, found);
  }
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

/**
 * The one list of key names that hold secrets, and the three forms it is used in:
 * - `isSecretKey`: payloads and job definitions refuse such keys (credentials are fetched by id
 *   while executing, never carried), and API responses redact them;
 * - `SECRET_KEY_PATTERN`: stored command output masks `key=value` pairs whose key contains one;
 * - `SECRET_LOG_FIELDS`: log lines never write such fields.
 * A word written with `_` also matches without it (`api_key`, `apiKey`, `apikey`).
 */
export const SECRET_KEY_WORDS = [
  'password',
  'passwd',
  'pwd',
  'secret',
  'token',
  'private_key',
  'passphrase',
  'api_key',
  'credentials',
  'authorization',
  'database_url',
  'connection_string',
] as const;

/** `apiKey`, `api-key`, `API_KEY` → `api_key`. */
function normaliseKey(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[-\s.]+/g, '_')
    .toLowerCase();
}

const WORDS = SECRET_KEY_WORDS.map((w) => w.replace(/_/g, '_?')).join('|');
/** The whole key, or its first or last `_`-separated part(s), is a secret word. */
const SECRET_KEY_NAME = new RegExp(`^(?:(?:${WORDS})(?:_.*)?|.*_(?:${WORDS}))$`);

/**
 * True when a key names a secret: `password`, `db_password`, `apiKey`, `client_secret`, …
 * (but not `credential_id` or `tokens_used`: only whole words at the start or end count).
 */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY_NAME.test(normaliseKey(key));
}

/**
 * A key in free text (case-insensitive) that contains a secret word anywhere, with any prefix or
 * suffix: `db_password`, `JOBYARD_CREDENTIAL_PASSWORD`, `x-api-key`.
 */
export function secretKeyPattern(options: { except?: readonly string[] } = {}): string {
  const words = SECRET_KEY_WORDS.filter((w) => !options.except?.includes(w)).map((w) => w.replace(/_/g, '[_-]?'));
  return String.raw`[A-Za-z0-9_.-]*(?:${words.join('|')})[A-Za-z0-9_.-]*`;
}

/** Field names the logger censors: each word as written, in camelCase and run together. */
export const SECRET_LOG_FIELDS: readonly string[] = [
  ...new Set(SECRET_KEY_WORDS.flatMap((w) => [w, w.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase()), w.replace(/_/g, '')])),
];

/**
 * How a launcher hands a site worker its secrets without putting them where the worker's
 * commands (or anyone listing processes or containers) could read them: never in the worker's
 * environment (/proc/<pid>/environ, /proc/1/environ in a container, `docker inspect`) nor its
 * argv (`ps`), but as one JSON object on the worker's stdin, which the worker reads to its end
 * before it starts anything. The launcher sets WORKER_SECRETS=stdin to say so.
 *
 * Secret: DATABASE_URL (it may carry a password), HTTP_TOKEN, and any variable whose name says
 * password, secret, token, key, passphrase or credential.
 */
import type { Readable } from 'node:stream';

/** Set to `stdin` by a launcher that sends the worker's secrets on its stdin. */
export const WORKER_SECRETS_VAR = 'WORKER_SECRETS';
/** The fd of the launcher's liveness socket in a process-launched worker. */
export const WORKER_LIVENESS_FD_VAR = 'WORKER_LIVENESS_FD';

const SECRET_NAMES = new Set(['DATABASE_URL', 'DATABASE_LISTEN_URL', 'HTTP_TOKEN', 'TEST_POSTGRES_URL', 'PGPASSWORD']);
const SECRET_PATTERN = /PASSWORD|PASSWD|SECRET|TOKEN|PRIVATE_?KEY|API_?KEY|ACCESS_?KEY|PASSPHRASE|CREDENTIAL/i;

export function isSecretName(name: string): boolean {
  return SECRET_NAMES.has(name.toUpperCase()) || SECRET_PATTERN.test(name);
}

/** Splits an environment into what may be seen (`env`) and what goes on the secret channel. */
export function splitSecrets(env: NodeJS.ProcessEnv | Record<string, string>): { env: Record<string, string>; secrets: Record<string, string> } {
  const plain: Record<string, string> = {};
  const secrets: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue;
    if (isSecretName(name)) secrets[name] = value;
    else plain[name] = value;
  }
  return { env: plain, secrets };
}

/** The inherited environment a process-launched worker keeps: everything but secrets. */
export function withoutSecrets(env: NodeJS.ProcessEnv): Record<string, string> {
  return splitSecrets(env).env;
}

/** Secrets a spare worker's assignment carried (it arrived on stdin before the worker command ran). */
let handedOver: Record<string, string> | undefined;

/** A spare worker hands its assignment's secrets to the worker command, which takes them once. */
export function handOverWorkerSecrets(secrets: Record<string, string>): void {
  handedOver = secrets;
}

/** The worker command's secrets: handed over by a spare's assignment, or read from `input`. */
export async function takeWorkerSecrets(input: Readable): Promise<Record<string, string>> {
  const secrets = handedOver;
  handedOver = undefined;
  return secrets ?? readWorkerSecrets(input);
}

/**
 * The worker's side: reads the JSON object on `input` to its end. Rejects after `timeoutMs`
 * (a launcher that never writes) or on anything but an object of strings.
 */
export async function readWorkerSecrets(input: Readable, timeoutMs = 30_000): Promise<Record<string, string>> {
  const text = await readToEnd(input, timeoutMs, `no secrets on stdin within ${timeoutMs} ms (${WORKER_SECRETS_VAR}=stdin)`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(`${WORKER_SECRETS_VAR}=stdin but stdin is not a JSON object`);
  }
  if (!isStringRecord(value)) throw new Error(`${WORKER_SECRETS_VAR}=stdin but stdin is not a JSON object of strings`);
  return value;
}

export const isStringRecord = (value: unknown): value is Record<string, string> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((v) => typeof v === 'string');

/** `input` to its end as text; rejects after `timeoutMs` with `timeoutMessage` (no timeout: waits as long as it stays open). */
export async function readToEnd(input: Readable, timeoutMs?: number, timeoutMessage = 'stdin did not end in time'): Promise<string> {
  const chunks: Buffer[] = [];
  let timer: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      if (timeoutMs !== undefined) timer = setTimeout(() => reject(new Error(timeoutMessage)), timeoutMs);
      input.on('data', (chunk: Buffer) => chunks.push(chunk));
      input.once('end', resolve);
      input.once('error', reject);
    });
  } finally {
    clearTimeout(timer);
    input.destroy();
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Where `jobyard credentials` gets secrets: never argv or the environment. Secrets come from a
 * no-echo prompt on a terminal, else stdin (one secret: the whole input; several: a JSON object);
 * a private key from a file; the unlock secret from CREDENTIALS_KEY_FILE,
 * CREDENTIALS_UNLOCK_COMMAND or a prompt. Errors name the field, never quote a value.
 */
import { readFile, stat } from 'node:fs/promises';
import { cliActor } from '../audit/audit-log.js';
import { loadConfig } from '../config.js';
import type { Store } from '../db/open.js';
import { UserError, ValidationError } from '../errors.js';
import type { CredentialKey, CredentialSecrets, SecretName } from '../credentials/index.js';

const credentials = () => import('../credentials/index.js');

export interface SecretOptions {
  password?: boolean;
  passphrase?: boolean;
  becomePassword?: boolean;
  privateKeyFile?: string;
}

/** The operator's current unlock secret: the configured source, else a prompt. */
export async function currentSecret(): Promise<string> {
  const c = await credentials();
  const configured = await c.readConfiguredSecret(loadConfig());
  if (configured !== undefined) return configured;
  const typed = await c.promptHidden('Credentials unlock secret: ');
  if (typed === undefined) {
    throw new UserError('credentials locked: set CREDENTIALS_KEY_FILE or CREDENTIALS_UNLOCK_COMMAND, or run this on a terminal to be asked');
  }
  return typed;
}

export async function unlock(store: Store): Promise<CredentialKey> {
  const c = await credentials();
  return (await c.unlockCredentials(store, await currentSecret(), { actor: cliActor() })).key;
}

export async function readNewSecret(file: string | undefined): Promise<string> {
  const c = await credentials();
  if (file !== undefined) {
    try {
      return c.readKeyFile(file);
    } catch (err) {
      // Same checks as the key file (mode 600, not empty); the message names this option.
      if (err instanceof UserError) throw new UserError(err.message.replace(/^CREDENTIALS_KEY_FILE/, 'credentials rotate-key: --new-key-file'));
      throw err;
    }
  }
  if (process.stdin.isTTY) {
    const first = await c.promptHidden('New unlock secret: ');
    const again = await c.promptHidden('New unlock secret (again): ');
    if (first !== again) throw new ValidationError(['new secret: the two entries differ']);
    if (!first) throw new ValidationError(['new secret: empty']);
    return first;
  }
  const text = (await readStdin()).replace(/\r?\n$/, '');
  if (text === '') throw new ValidationError(['new secret: nothing on stdin; give --new-key-file, or pipe the new secret in']);
  return text;
}

/** The secrets asked for, in prompt order. */
export function requested(options: SecretOptions): SecretName[] {
  const names: SecretName[] = [];
  if (options.password) names.push('password');
  if (options.passphrase) names.push('private_key_passphrase');
  if (options.becomePassword) names.push('become_password');
  return names;
}

export function wantsSecrets(options: SecretOptions): boolean {
  return requested(options).length > 0 || options.privateKeyFile !== undefined;
}

/** Stand-ins with the right shape, for checking the input before any secret is read. */
export function secretPlaceholders(options: SecretOptions): CredentialSecrets {
  const out: CredentialSecrets = {};
  for (const name of requested(options)) out[name] = 'x';
  if (options.privateKeyFile !== undefined) out.private_key = 'x';
  return out;
}

export function parseClear(text: string | undefined): CredentialSecrets {
  if (text === undefined) return {};
  const out: CredentialSecrets = {};
  for (const name of text.split(',').map((s) => s.trim()).filter(Boolean)) (out as Record<string, null>)[name] = null;
  return out;
}

const LABELS: Record<SecretName, string> = {
  password: 'Password',
  private_key: 'Private key',
  private_key_passphrase: 'Private key passphrase',
  become_password: 'Become password',
};

const MAX_SECRET_INPUT = 256 * 1024;

export async function readSecrets(options: SecretOptions): Promise<CredentialSecrets> {
  const secrets: CredentialSecrets = {};
  if (options.privateKeyFile !== undefined) secrets.private_key = await readPrivateKey(options.privateKeyFile);
  const names = requested(options);
  if (names.length === 0) return secrets;
  const c = await credentials();
  if (process.stdin.isTTY) {
    for (const name of names) {
      const value = await c.promptHidden(`${LABELS[name]}: `);
      if (!value) throw new ValidationError([`${name}: empty`]);
      secrets[name] = value;
    }
    return secrets;
  }
  const text = await readStdin();
  if (names.length === 1) {
    const value = text.replace(/\r?\n$/, '');
    if (value === '') throw new ValidationError([`${names[0]}: nothing on stdin; pipe the secret in, or run on a terminal to be asked`]);
    secrets[names[0]!] = value;
    return secrets;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const problems: string[] = [];
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ValidationError([`stdin: with several secrets, expected a JSON object with ${names.join(', ')}`]);
  }
  for (const name of names) {
    const value = (parsed as Record<string, unknown>)[name];
    if (typeof value !== 'string' || value === '') problems.push(`${name}: missing from the JSON object on stdin (a non-empty string)`);
    else secrets[name] = value;
  }
  for (const k of Object.keys(parsed)) if (!(names as string[]).includes(k)) problems.push(`${k}: not asked for (give its option)`);
  if (problems.length > 0) throw new ValidationError(problems);
  return secrets;
}

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    size += (chunk as Buffer).length;
    if (size > MAX_SECRET_INPUT) throw new ValidationError([`stdin: more than ${MAX_SECRET_INPUT} bytes`]);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Never quotes the file's content in an error (it is a key). */
export async function readPrivateKey(path: string): Promise<string> {
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new ValidationError([`private key file: ${path} is not a regular file`]);
    if (info.size > 64 * 1024) throw new ValidationError([`private key file: ${path} is ${info.size} bytes; the limit is 65536`]);
    const text = await readFile(path, 'utf8');
    if (text.trim() === '') throw new ValidationError([`private key file: ${path} is empty`]);
    return text;
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new ValidationError([`private key file: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`]);
  }
}

/**
 * The secret columns of `credentials` and how a value moves in and out of them: BYTEA/BLOB
 * holding the ASCII text of a jy:v1 envelope (before the first unlock, legacy plaintext).
 */
import { credentialAad, open, seal, type CredentialKey } from './envelope.js';

/** column → the secret's name (`JOBYARD_CREDENTIAL_<NAME>` in a component's environment). */
export const SECRET_COLUMNS = [
  ['password_encrypted', 'password'],
  ['private_key_encrypted', 'private_key'],
  ['private_key_passphrase_encrypted', 'private_key_passphrase'],
  ['become_password_encrypted', 'become_password'],
] as const;

export type SecretColumn = (typeof SECRET_COLUMNS)[number][0];
export type SecretName = (typeof SECRET_COLUMNS)[number][1];
export const SECRET_NAMES: readonly SecretName[] = SECRET_COLUMNS.map(([, name]) => name);

export function columnOf(name: SecretName): SecretColumn {
  return SECRET_COLUMNS.find(([, n]) => n === name)![0];
}

/** BYTEA/BLOB as a Buffer on both drivers; a TEXT value (SQLite's loose typing) as it is. */
export function cellText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
  return String(value);
}

export function sealCell(key: CredentialKey, credentialId: number, column: SecretColumn, plaintext: string): Buffer {
  return Buffer.from(seal(key, plaintext, credentialAad(credentialId, column)), 'utf8');
}

export function openCell(key: CredentialKey, credentialId: number, column: SecretColumn, envelope: string): string {
  return open(key, envelope, credentialAad(credentialId, column));
}

/**
 * Credential material for executors, read by id from the `credentials` table only while an item
 * runs (one short read per use; nothing is cached, logged or stored). A credential with a
 * `site_id` is handed out only for items of that site.
 *
 * Secret names (→ `JOBYARD_CREDENTIAL_<NAME>` in a component's environment):
 *   password_encrypted → password, private_key_encrypted → private_key,
 *   private_key_passphrase_encrypted → private_key_passphrase,
 *   become_password_encrypted → become_password. NULL columns are left out.
 *
 * NO DECRYPTION HAPPENS HERE YET. The `*_encrypted` columns are read as UTF-8 bytes, which is
 * right for plaintext values only. Encryption at rest (versioned envelopes such as `aegis:v1:`,
 * a scrypt-derived key held in memory after an operator unlock) belongs in this provider; until
 * it exists, a value that looks like an envelope is refused with a PermanentError rather than
 * handed to a command as if it were the secret.
 */
import type { Store } from '../db/open.js';
import { PermanentError } from '../queue/runtime.js';
import type { Credential, CredentialProvider } from './types.js';

const SECRET_COLUMNS = [
  ['password_encrypted', 'password'],
  ['private_key_encrypted', 'private_key'],
  ['private_key_passphrase_encrypted', 'private_key_passphrase'],
  ['become_password_encrypted', 'become_password'],
] as const;

const AEGIS_PREFIX = 'aegis:v1:';

export function createDatabaseCredentialProvider(store: Store): CredentialProvider {
  return {
    async get(credentialId: number, scope?: { siteId: number | null }): Promise<Credential | undefined> {
      const row = await store.db
        .selectFrom('credentials')
        .select(['id', 'name', 'site_id', 'username', ...SECRET_COLUMNS.map(([column]) => column)])
        .where('id', '=', credentialId)
        .executeTakeFirst();
      if (!row) return undefined;
      // A site's credential serves only that site's items; a global one (site_id NULL) every site.
      if (row.site_id !== null && (scope === undefined || row.site_id !== scope.siteId)) {
        const forWhat = scope === undefined ? 'a caller without a site' : scope.siteId === null ? 'a site-less item' : `an item of site ${scope.siteId}`;
        throw new PermanentError(`credential ${row.id} (${row.name}) belongs to site ${row.site_id}; it is not used for ${forWhat}`);
      }
      const secrets: Record<string, string> = {};
      for (const [column, name] of SECRET_COLUMNS) {
        const value = decodeSecret(row[column]);
        if (value === null) continue;
        if (value.startsWith(AEGIS_PREFIX)) {
          // Names only: never the value.
          throw new PermanentError(
            `credential ${row.id} (${row.name}): ${name} is Aegis-encrypted and this worker has no decryptor configured`,
          );
        }
        secrets[name] = value;
      }
      return { id: row.id, name: row.name, username: row.username, secrets };
    },
  };
}

/** BYTEA/BLOB as a Buffer on both drivers; a TEXT value (SQLite's loose typing) as it is. */
function decodeSecret(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
  return String(value);
}

/** `JOBYARD_CREDENTIAL_<NAME>` variables for a credential: its secrets and, when set, its username. */
export function credentialEnvironment(credential: Credential | undefined): Record<string, string> {
  if (!credential) return {};
  const env: Record<string, string> = {};
  if (credential.username) env.JOBYARD_CREDENTIAL_USERNAME = credential.username;
  for (const [name, value] of Object.entries(credential.secrets)) {
    env[`JOBYARD_CREDENTIAL_${name.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}`] = value;
  }
  return env;
}

/** The values to mask in every stored output. */
export function secretValues(credential: Credential | undefined): string[] {
  return credential ? Object.values(credential.secrets).filter((v) => v.length > 0) : [];
}

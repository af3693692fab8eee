/**
 * Credential material for executors, read by id only while an item runs: one short read per use,
 * decrypted then and there with the process's key, nothing decrypted is cached, logged or stored.
 * A credential with a `site_id` is handed out only for items of that site.
 *
 * Secret names (→ `JOBYARD_CREDENTIAL_<NAME>` in a component's environment):
 *   password_encrypted → password, private_key_encrypted → private_key,
 *   private_key_passphrase_encrypted → private_key_passphrase,
 *   become_password_encrypted → become_password. NULL columns are left out.
 *
 * While locked (no key in this process), a credential with secrets is refused with a retryable
 * "credentials locked: …" error: the item is retried with backoff and ends dead with that
 * message after its attempts, never run without its credential. A key that no longer opens the
 * keyring (rotated since this process got it) counts as locked too.
 */
import type { Store } from '../db/open.js';
import { PermanentError } from '../queue/runtime.js';
import type { Credential, CredentialProvider } from './types.js';
import { EnvelopeError, isEnvelope } from './envelope.js';
import { keyMatches, readKeyring } from './keyring.js';
import type { CredentialKeySource } from './lock.js';
import { cellText, openCell, SECRET_COLUMNS } from './secret-columns.js';

/** The item waits (retryable failure): an operator unlock, not a code change, fixes it. */
export class CredentialsLockedError extends Error {
  constructor(message: string) {
    super(`credentials locked: ${message}`);
    this.name = 'CredentialsLockedError';
  }
}

export function createDatabaseCredentialProvider(store: Store, keys: CredentialKeySource): CredentialProvider {
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
      const label = `credential ${row.id} (${row.name})`;
      const stored = SECRET_COLUMNS.map(([column, name]) => [column, name, cellText(row[column])] as const).filter(([, , v]) => v !== null);
      const secrets: Record<string, string> = {};
      if (stored.length === 0) return { id: row.id, name: row.name, username: row.username, secrets };
      const key = keys.current();
      if (!key) {
        throw new CredentialsLockedError(`${label} cannot be decrypted until an operator unlocks (CREDENTIALS_KEY_FILE or CREDENTIALS_UNLOCK_COMMAND for the scheduler)`);
      }
      for (const [column, name, value] of stored) {
        // Names only in errors: never the value.
        if (!isEnvelope(value!)) {
          throw new PermanentError(`${label}: ${name} is not encrypted (not a jy:v1 envelope); an unlock encrypts plaintext values, another format must be entered again`);
        }
        try {
          secrets[name] = openCell(key, row.id, column, value!);
        } catch (err) {
          if (!(err instanceof EnvelopeError)) throw err;
          const keyring = await readKeyring(store.db);
          if (!keyring || !keyMatches(key, keyring)) {
            throw new CredentialsLockedError(`${label}: this process's key no longer opens the keyring (rotated?); unlock again`);
          }
          throw new PermanentError(`${label}: ${name} does not decrypt with the current key (${err.reason}); enter it again with jobyard credentials update`);
        }
      }
      return { id: row.id, name: row.name, username: row.username, secrets };
    },
  };
}

/**
 * Credentials, encrypted at rest (owner of `credentials` and `credential_keyring`): envelopes
 * (envelope.ts), the scrypt key derivation (kdf.ts), the keyring with unlock and rotation
 * (keyring.ts), the rows operators manage (credential-store.ts), the provider executors read
 * through (provider.ts), a process's lock state (lock.ts) and where the unlock secret comes from
 * (unlock-source.ts). This file is the public face, plus the start-up unlock both the scheduler
 * and a hand-started worker use.
 */
import type { Store } from '../db/open.js';
import type { Logger } from '../log.js';
import { CredentialKey } from './envelope.js';
import { unlockCredentials } from './keyring.js';
import type { CredentialLock } from './lock.js';
import { readConfiguredSecret, unlockSourceKind, type UnlockSettings } from './unlock-source.js';

export { CredentialKey } from './envelope.js';
export { CredentialLock, type CredentialKeySource, type LockState } from './lock.js';
export { createDatabaseCredentialProvider, CredentialsLockedError } from './provider.js';
export { readKeyring, rotateKey, unlockCredentials, countPlaintext, WRONG_SECRET } from './keyring.js';
export {
  addCredential,
  checkCredentialInput,
  needsKey,
  CREDENTIAL_TYPES,
  CONNECTION_TYPES,
  BECOME_METHODS,
  findCredentials,
  listCredentials,
  removeCredential,
  showCredential,
  updateCredential,
  type CredentialFields,
  type CredentialInfo,
  type CredentialSecrets,
} from './credential-store.js';
export { readConfiguredSecret, readKeyFile, unlockSourceKind, promptHidden, type UnlockSettings } from './unlock-source.js';
export { SECRET_NAMES, type SecretName } from './secret-columns.js';

/**
 * The variable a launcher passes the derived key in, on the worker's stdin (worker-secrets.ts
 * sends every CREDENTIAL-named variable there): the key, never the operator's secret.
 */
export const WORKER_KEY_VAR = 'JOBYARD_CREDENTIALS_KEY';

/** The worker-env entry for the current key, or nothing while locked. */
export function workerKeyEnv(lock: CredentialLock): Record<string, string> {
  const key = lock.current();
  return key ? { [WORKER_KEY_VAR]: key.export() } : {};
}

/** A worker's key from its stdin secrets, if the launcher sent one. */
export function keyFromWorkerSecrets(secrets: Record<string, string>): CredentialKey | undefined {
  const text = secrets[WORKER_KEY_VAR];
  if (!text) return undefined;
  try {
    return CredentialKey.import(text);
  } catch {
    throw new Error(`${WORKER_KEY_VAR} on stdin is not a credentials key`);
  }
}

/**
 * Unlocks `lock` from CREDENTIALS_KEY_FILE or CREDENTIALS_UNLOCK_COMMAND when one is set (a wrong
 * secret or an unreadable source throws: a misconfigured unlock is not silently "locked");
 * otherwise leaves it locked and logs one line saying so.
 */
export async function unlockAtStart(store: Store, settings: UnlockSettings, lock: CredentialLock, logger: Logger): Promise<void> {
  const source = unlockSourceKind(settings);
  if (source === 'none') {
    logger.warn('credentials locked: neither CREDENTIALS_KEY_FILE nor CREDENTIALS_UNLOCK_COMMAND is set; items that need a credential fail with "credentials locked" until unlocked');
    return;
  }
  const secret = (await readConfiguredSecret(settings))!;
  const result = await unlockCredentials(store, secret, { actor: 'system' });
  lock.unlock(result.key);
  logger.info({ source, keyringCreated: result.initialised, plaintextEncrypted: result.migrated }, 'credentials unlocked');
}

/**
 * The keyring (owner of `credential_keyring`): unlock, first-time set-up, key rotation.
 *
 * Unlock derives the key from the operator's secret with the stored scrypt parameters and checks
 * it against the verification token; a wrong secret is "credentials: wrong unlock secret" and
 * nothing is decrypted. The first unlock ever creates the keyring and, in the same transaction,
 * encrypts every plaintext value left in `credentials` (later unlocks encrypt any that appeared
 * since, e.g. inserted by hand). Rotation re-encrypts every value in one transaction. scrypt runs
 * before each transaction opens (connection hygiene); inside one, only AES-GCM, which is cheap.
 */
import type { Kysely, Transaction } from 'kysely';
import { recordAudit, type Actor } from '../audit/audit-log.js';
import { toJson } from '../db/dialect.js';
import type { Store } from '../db/open.js';
import type { Database } from '../db/schema.js';
import { ConflictError, UserError } from '../errors.js';
import { EnvelopeError, isEnvelope, open, seal, type CredentialKey } from './envelope.js';
import { deriveKey, isKdfParams, KDF_NAME, newKdfParams, type KdfParams } from './kdf.js';
import { cellText, openCell, sealCell, SECRET_COLUMNS } from './secret-columns.js';

const KEYRING_ID = 1;
const VERIFICATION_PLAINTEXT = 'jobyard credentials keyring';
const VERIFICATION_AAD = 'credential_keyring:verification';

export const WRONG_SECRET = 'credentials: wrong unlock secret';

export interface Keyring {
  kdfName: string;
  params: KdfParams;
  verificationToken: string;
  createdAt: number;
  updatedAt: number;
}

export async function readKeyring(db: Kysely<Database>): Promise<Keyring | undefined> {
  const row = await db.selectFrom('credential_keyring').selectAll().where('id', '=', KEYRING_ID).executeTakeFirst();
  if (!row) return undefined;
  if (row.kdf_name !== KDF_NAME || !isKdfParams(row.kdf_params_json)) {
    throw new UserError(`credentials: the keyring names an unknown key derivation (${row.kdf_name}); this build knows ${KDF_NAME}`, 1);
  }
  return {
    kdfName: row.kdf_name,
    params: row.kdf_params_json,
    verificationToken: row.verification_token,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

/** True when `key` opens the keyring's verification token. */
export function keyMatches(key: CredentialKey, keyring: Keyring): boolean {
  try {
    return open(key, keyring.verificationToken, VERIFICATION_AAD) === VERIFICATION_PLAINTEXT;
  } catch (err) {
    if (err instanceof EnvelopeError) return false;
    throw err;
  }
}

/**
 * Inside a write transaction: takes the keyring row's lock (an UPDATE that changes nothing, the
 * same statement on both backends) and checks `key` still opens it, so a rotation cannot
 * interleave with a write that encrypts under the old key.
 */
export async function lockCurrentKey(trx: Transaction<Database>, key: CredentialKey): Promise<void> {
  await trx.updateTable('credential_keyring').set((eb) => ({ updated_at: eb.ref('updated_at') })).where('id', '=', KEYRING_ID).execute();
  const keyring = await readKeyring(trx);
  if (!keyring || !keyMatches(key, keyring)) {
    throw new ConflictError('credentials: the key was rotated since this command unlocked; run it again with the new secret');
  }
}

export interface UnlockResult {
  key: CredentialKey;
  /** True when this unlock created the keyring. */
  initialised: boolean;
  /** Credentials whose plaintext values this unlock encrypted. */
  migrated: number;
}

export interface UnlockOptions {
  now?: number;
  /** scrypt cost for a keyring created now (tests use a small one). */
  kdfCost?: { N: number; r: number; p: number };
  actor?: Actor;
}

/**
 * Derives the key from `secret` and checks it (wrong secret → UserError WRONG_SECRET), creating
 * the keyring on the first unlock; then encrypts any plaintext values, in one transaction.
 */
export async function unlockCredentials(store: Store, secret: string, options: UnlockOptions = {}): Promise<UnlockResult> {
  if (secret === '') throw new UserError('credentials: the unlock secret is empty');
  const now = options.now ?? Date.now();
  const existing = await readKeyring(store.db);
  if (!existing) {
    const params = newKdfParams(options.kdfCost);
    const key = await deriveKey(secret, params);
    const created = await store.db.transaction().execute(async (trx) => {
      if (await readKeyring(trx)) return undefined; // another process created it meanwhile
      await trx
        .insertInto('credential_keyring')
        .values({
          id: KEYRING_ID,
          kdf_name: KDF_NAME,
          kdf_params_json: toJson(params),
          verification_token: seal(key, VERIFICATION_PLAINTEXT, VERIFICATION_AAD),
          created_at: now,
          updated_at: now,
        })
        .execute();
      const migrated = await encryptPlaintext(trx, key);
      await recordAudit(trx, {
        actor: options.actor ?? 'system',
        action: 'credential.keyring_init',
        objectType: 'credential_keyring',
        objectId: KEYRING_ID,
        summary: { kdf: KDF_NAME, N: params.N, r: params.r, p: params.p, plaintext_encrypted: migrated },
        at: now,
      });
      return migrated;
    });
    if (created !== undefined) return { key, initialised: true, migrated: created };
  }
  const keyring = (await readKeyring(store.db))!;
  const key = await deriveKey(secret, keyring.params);
  if (!keyMatches(key, keyring)) throw new UserError(WRONG_SECRET);
  const migrated = await migratePlaintext(store, key, options);
  return { key, initialised: false, migrated };
}

/** Encrypts plaintext values left in `credentials` (a short transaction; none: no write). */
async function migratePlaintext(store: Store, key: CredentialKey, options: UnlockOptions): Promise<number> {
  if (!(await hasPlaintext(store.db))) return 0;
  return store.db.transaction().execute(async (trx) => {
    await lockCurrentKey(trx, key);
    const migrated = await encryptPlaintext(trx, key);
    if (migrated > 0) {
      await recordAudit(trx, {
        actor: options.actor ?? 'system',
        action: 'credential.encrypt_plaintext',
        objectType: 'credential_keyring',
        objectId: KEYRING_ID,
        summary: { plaintext_encrypted: migrated },
        ...(options.now !== undefined ? { at: options.now } : {}),
      });
    }
    return migrated;
  });
}

async function secretRows(db: Kysely<Database>) {
  return db
    .selectFrom('credentials')
    .select(['id', 'name', ...SECRET_COLUMNS.map(([column]) => column)])
    .orderBy('id')
    .execute();
}

/** Credential rows holding at least one value that is not an envelope. */
export async function countPlaintext(db: Kysely<Database>): Promise<number> {
  let n = 0;
  for (const row of await secretRows(db)) {
    if (SECRET_COLUMNS.some(([column]) => isPlain(cellText(row[column])))) n++;
  }
  return n;
}

async function hasPlaintext(db: Kysely<Database>): Promise<boolean> {
  return (await countPlaintext(db)) > 0;
}

/**
 * Plaintext to encrypt: not our envelope, and not another system's (`aegis:v1:…`): encrypting
 * that would later hand the envelope text to a command as if it were the secret.
 */
const isPlain = (value: string | null): value is string => value !== null && !isEnvelope(value) && !/^[a-z]+:v\d+:/.test(value);

async function encryptPlaintext(trx: Transaction<Database>, key: CredentialKey): Promise<number> {
  let migrated = 0;
  for (const row of await secretRows(trx)) {
    const set: Record<string, Buffer> = {};
    for (const [column] of SECRET_COLUMNS) {
      const value = cellText(row[column]);
      if (isPlain(value)) set[column] = sealCell(key, row.id, column, value);
    }
    if (Object.keys(set).length === 0) continue;
    await trx.updateTable('credentials').set(set).where('id', '=', row.id).execute();
    migrated++;
  }
  return migrated;
}

export interface RotateOptions {
  actor: Actor;
  now?: number;
  kdfCost?: { N: number; r: number; p: number };
  /** Test hook: called after each row is re-encrypted, inside the transaction. */
  afterRow?: (credentialId: number) => void;
}

/**
 * Re-encrypts every credential under a key derived from `newSecret` (fresh salt), in ONE
 * transaction with the keyring's new parameters and token: a failure anywhere leaves every value
 * readable with the old key. Both keys are derived before the transaction opens.
 */
export async function rotateKey(store: Store, oldSecret: string, newSecret: string, options: RotateOptions): Promise<{ credentials: number }> {
  if (newSecret === '') throw new UserError('credentials: the new unlock secret is empty');
  const keyring = await readKeyring(store.db);
  if (!keyring) throw new UserError('credentials: no keyring yet; the first unlock creates it (jobyard credentials status --check)');
  const oldKey = await deriveKey(oldSecret, keyring.params);
  if (!keyMatches(oldKey, keyring)) throw new UserError(WRONG_SECRET);
  const params = newKdfParams(options.kdfCost ?? { N: keyring.params.N, r: keyring.params.r, p: keyring.params.p });
  const newKey = await deriveKey(newSecret, params);
  const now = options.now ?? Date.now();
  return store.db.transaction().execute(async (trx) => {
    await lockCurrentKey(trx, oldKey);
    let count = 0;
    for (const row of await secretRows(trx)) {
      const set: Record<string, Buffer> = {};
      for (const [column, name] of SECRET_COLUMNS) {
        const value = cellText(row[column]);
        if (value === null) continue;
        let plaintext: string;
        try {
          plaintext = isEnvelope(value) ? openCell(oldKey, row.id, column, value) : value;
        } catch (err) {
          if (!(err instanceof EnvelopeError)) throw err;
          throw new UserError(`credentials: credential ${row.id} (${row.name}): ${name} does not open with the current key (${err.reason}); nothing was re-encrypted`, 1);
        }
        set[column] = sealCell(newKey, row.id, column, plaintext);
      }
      if (Object.keys(set).length > 0) {
        await trx.updateTable('credentials').set(set).where('id', '=', row.id).execute();
        count++;
      }
      options.afterRow?.(row.id);
    }
    await trx
      .updateTable('credential_keyring')
      .set({ kdf_params_json: toJson(params), verification_token: seal(newKey, VERIFICATION_PLAINTEXT, VERIFICATION_AAD), updated_at: now })
      .where('id', '=', KEYRING_ID)
      .execute();
    await recordAudit(trx, {
      actor: options.actor,
      action: 'credential.rotate_key',
      objectType: 'credential_keyring',
      objectId: KEYRING_ID,
      summary: { reencrypted: count, kdf: KDF_NAME, N: params.N, r: params.r, p: params.p },
      at: now,
    });
    return { credentials: count };
  });
}

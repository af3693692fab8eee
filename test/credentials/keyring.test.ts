/**
 * The keyring on both backends: the first unlock creates it and encrypts the plaintext already
 * in `credentials`; a wrong secret is refused before anything is decrypted; rotate-key is one
 * transaction (a failure half-way leaves every value readable with the old key); the provider
 * refuses while locked, and a key the keyring no longer accepts counts as locked.
 */
import { beforeEach, expect, it } from 'vitest';
import {
  addCredential,
  CredentialLock,
  createDatabaseCredentialProvider,
  CredentialsLockedError,
  readKeyring,
  rotateKey,
  unlockCredentials,
  updateCredential,
  WRONG_SECRET,
} from '../../src/credentials/index.js';
import { UserError } from '../../src/errors.js';
import { PermanentError } from '../../src/queue/index.js';
import { TEST_KDF_COST } from '../fixtures/executors/executor-helpers.js';
import { describeBackends } from '../helpers/backends.js';

const cost = { kdfCost: TEST_KDF_COST };
const actor = 'cli:test';

describeBackends('credentials keyring', (ctx) => {
  const rawRows = () => ctx.db.selectFrom('credentials').select(['id', 'password_encrypted', 'private_key_encrypted']).orderBy('id').execute();
  beforeEach(() => ctx.truncateAll());
  const text = (v: unknown) => (v == null ? null : Buffer.from(v as Buffer).toString('utf8'));

  it('the first unlock creates the keyring and encrypts existing plaintext in one go; later unlocks find nothing to do', async () => {
    const T = 4_102_444_800_000; // 2100-01-01: no dependence on today
    // Another system's envelope is left as it is (the provider refuses it), never "encrypted".
    await ctx.db.insertInto('credentials').values({ name: 'foreign', password_encrypted: Buffer.from('aegis:v1:abc'), created_at: T, updated_at: T }).execute();
    for (const [name, password] of [['legacy-a', 'plain-a'], ['legacy-b', 'plain-b']] as const) {
      await ctx.db.insertInto('credentials').values({ name, password_encrypted: Buffer.from(password), created_at: T, updated_at: T }).execute();
    }
    expect(await readKeyring(ctx.db)).toBeUndefined();
    const first = await unlockCredentials(ctx.store, 'operator secret', { ...cost, now: T });
    expect(first).toMatchObject({ initialised: true, migrated: 2 });
    const [foreign, ...rows] = await rawRows();
    expect(text(foreign!.password_encrypted)).toBe('aegis:v1:abc');
    for (const row of rows) expect(text(row.password_encrypted)).toMatch(/^jy:v1:/);
    expect(JSON.stringify(rows.map((r) => text(r.password_encrypted)))).not.toMatch(/plain-/);
    const provider = createDatabaseCredentialProvider(ctx.store, new CredentialLock(first.key));
    expect((await provider.get(rows[0]!.id))?.secrets).toEqual({ password: 'plain-a' });
    expect((await provider.get(rows[1]!.id))?.secrets).toEqual({ password: 'plain-b' });
    const audit = await ctx.db.selectFrom('audit_log').select(['action', 'summary_json']).execute();
    expect(audit).toEqual([{ action: 'credential.keyring_init', summary_json: expect.objectContaining({ plaintext_encrypted: 2 }) }]);

    const again = await unlockCredentials(ctx.store, 'operator secret', cost);
    expect(again).toMatchObject({ initialised: false, migrated: 0 });
    expect((await rawRows()).slice(1).map((r) => text(r.password_encrypted))).toEqual(rows.map((r) => text(r.password_encrypted)));
  });

  it('a wrong secret is "credentials: wrong unlock secret", and nothing is decrypted or written', async () => {
    const { key } = await unlockCredentials(ctx.store, 'right secret', cost);
    await addCredential(ctx.store, { name: 'svc' }, { password: 'the-password' }, { actor, key });
    // Plaintext slipped in by hand: a wrong unlock must not "migrate" it under a wrong key.
    await ctx.db.insertInto('credentials').values({ name: 'by-hand', password_encrypted: Buffer.from('hand-typed'), created_at: 1, updated_at: 1 }).execute();
    const before = await rawRows();
    const keyringBefore = await readKeyring(ctx.db);
    const err = await unlockCredentials(ctx.store, 'wrong secret', cost).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toBe(WRONG_SECRET);
    expect(await rawRows()).toEqual(before);
    expect(await readKeyring(ctx.db)).toEqual(keyringBefore);
  });

  it('rotate-key re-encrypts everything atomically: a failure half-way leaves all readable with the old key', async () => {
    const { key: oldKey } = await unlockCredentials(ctx.store, 'old secret', cost);
    const ids: number[] = [];
    for (const n of [1, 2, 3]) ids.push((await addCredential(ctx.store, { name: `c${n}` }, { password: `pw-${n}`, private_key: `key-${n}` }, { actor, key: oldKey })).id);
    const before = await rawRows();
    const keyringBefore = await readKeyring(ctx.db);

    const failure = await rotateKey(ctx.store, 'old secret', 'new secret', {
      actor,
      kdfCost: TEST_KDF_COST,
      afterRow: (id) => {
        if (id === ids[1]) throw new Error('disk full (simulated)');
      },
    }).catch((e: unknown) => e);
    expect(String(failure)).toContain('disk full (simulated)');
    expect(await rawRows()).toEqual(before);
    expect(await readKeyring(ctx.db)).toEqual(keyringBefore);
    const old = createDatabaseCredentialProvider(ctx.store, new CredentialLock(oldKey));
    for (const [i, id] of ids.entries()) expect((await old.get(id))?.secrets).toEqual({ password: `pw-${i + 1}`, private_key: `key-${i + 1}` });
    expect((await unlockCredentials(ctx.store, 'new secret', cost).catch((e: Error) => e.message))).toBe(WRONG_SECRET);
    expect(await ctx.db.selectFrom('audit_log').select('action').where('action', '=', 'credential.rotate_key').execute()).toEqual([]);

    // The same rotation without the failure.
    expect(await rotateKey(ctx.store, 'old secret', 'new secret', { actor, kdfCost: TEST_KDF_COST })).toEqual({ credentials: 3 });
    const after = await rawRows();
    for (const [i, row] of after.entries()) expect(text(row.password_encrypted)).not.toBe(text(before[i]!.password_encrypted));
    expect((await unlockCredentials(ctx.store, 'old secret', cost).catch((e: Error) => e.message))).toBe(WRONG_SECRET);
    const { key: newKey } = await unlockCredentials(ctx.store, 'new secret', cost);
    const fresh = createDatabaseCredentialProvider(ctx.store, new CredentialLock(newKey));
    for (const [i, id] of ids.entries()) expect((await fresh.get(id))?.secrets).toEqual({ password: `pw-${i + 1}`, private_key: `key-${i + 1}` });
    // A process still holding the old key is locked, not handed garbage.
    const stale = await old.get(ids[0]!).catch((e: unknown) => e);
    expect(stale).toBeInstanceOf(CredentialsLockedError);
    expect(String(stale)).toMatch(/credentials locked: credential \d+ \(c1\): this process's key no longer opens the keyring/);
    // And a write with the stale key is refused, nothing written.
    const refused = await updateCredential(ctx.store, ids[0]!, {}, { password: 'x' }, { actor, key: oldKey }).catch((e: Error) => e.message);
    expect(refused).toMatch(/the key was rotated since this command unlocked/);
    const audit = await ctx.db.selectFrom('audit_log').select(['action', 'summary_json']).where('action', '=', 'credential.rotate_key').execute();
    expect(audit).toEqual([{ action: 'credential.rotate_key', summary_json: expect.objectContaining({ reencrypted: 3 }) }]);
  });

  it('while locked a credential with secrets is refused (retryable, "credentials locked"); one without secrets is served', async () => {
    const { key } = await unlockCredentials(ctx.store, 'secret', cost);
    const withSecret = await addCredential(ctx.store, { name: 'with' }, { become_password: 'bp' }, { actor, key });
    const without = await addCredential(ctx.store, { name: 'without', username: 'u' }, {}, { actor });
    const locked = createDatabaseCredentialProvider(ctx.store, new CredentialLock());
    const err = await locked.get(withSecret.id).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CredentialsLockedError);
    expect(err).not.toBeInstanceOf(PermanentError);
    expect(String(err)).toMatch(/^CredentialsLockedError: credentials locked: credential \d+ \(with\) cannot be decrypted until an operator unlocks/);
    expect(await locked.get(without.id)).toEqual({ id: without.id, name: 'without', username: 'u', secrets: {} });
  });

  it('a ciphertext copied to another row does not decrypt there', async () => {
    const { key } = await unlockCredentials(ctx.store, 'secret', cost);
    const a = await addCredential(ctx.store, { name: 'a' }, { password: 'secret-of-a' }, { actor, key });
    const b = await addCredential(ctx.store, { name: 'b' }, { password: 'secret-of-b' }, { actor, key });
    const cell = await ctx.db.selectFrom('credentials').select('password_encrypted').where('id', '=', a.id).executeTakeFirstOrThrow();
    await ctx.db.updateTable('credentials').set({ password_encrypted: cell.password_encrypted }).where('id', '=', b.id).execute();
    const err = await createDatabaseCredentialProvider(ctx.store, new CredentialLock(key)).get(b.id).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentError);
    expect(String(err)).toMatch(/credential \d+ \(b\): password does not decrypt with the current key \(authentication\)/);
    expect(String(err)).not.toContain('secret-of');
  });
});

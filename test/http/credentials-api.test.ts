/**
 * /api/credentials (both backends): admin only, reads too; secrets go in (loopback here) and
 * never come out of any response; writes need the daemon unlocked (409 while locked); a wrong
 * unlock secret is a 400 naming it and leaves the daemon locked; rotate-key keeps the daemon
 * unlocked under the new key. Every write is audited with the token's actor, never a value.
 */
import { beforeEach, expect, it } from 'vitest';
import { CredentialLock, createDatabaseCredentialProvider } from '../../src/credentials/index.js';
import { createSite } from '../../src/inventory/sites.js';
import { describeBackends } from '../helpers/backends.js';
import { useApiServer } from '../helpers/http.js';

const PASSWORD = 'api-pw-SECRET-31337';
const NEW_PASSWORD = 'api-pw2-SECRET-4242';
const UNLOCK = 'api-unlock-SECRET-x1';
const NEW_UNLOCK = 'api-unlock-SECRET-x2';

describeBackends('credentials API', (ctx) => {
  const lock = new CredentialLock();
  const api = useApiServer(ctx, { credentialLock: lock });
  const texts: string[] = [];
  const call = async (path: string, init: Parameters<typeof api.request>[1] = {}) => {
    const r = await api.request(path, init);
    texts.push(r.text);
    return r;
  };
  beforeEach(async () => {
    await ctx.truncateAll();
    await api.resetTokens();
    lock.lock();
  });

  it('is admin only, even for reads', async () => {
    for (const role of ['viewer', 'operator'] as const) {
      for (const [path, method] of [['/api/credentials', 'GET'], ['/api/credentials/1', 'GET'], ['/api/credentials/status', 'GET'], ['/api/credentials/unlock', 'POST']] as const) {
        const r = await call(path, { role, method, ...(method === 'POST' ? { json: { secret: UNLOCK } } : {}) });
        expect({ path, role, status: r.status }).toEqual({ path, role, status: 403 });
      }
    }
    expect((await call('/api/credentials', { role: null })).status).toBe(401);
    expect(await ctx.db.selectFrom('credential_keyring').select('id').execute()).toEqual([]);
  });

  it('create, read, update, rotate, delete: secrets in, never out; locked writes refused', async () => {
    const site = await createSite(ctx.store, { name: 'api-site' }, 1);
    expect((await call('/api/credentials/status')).json).toMatchObject({ state: 'locked', keyring: null, total: 0, unencrypted: 0 });
    const locked = await call('/api/credentials', { json: { name: 'svc', password: PASSWORD } });
    expect(locked.status).toBe(409);
    expect(locked.json.error).toMatch(/^credentials locked: unlock the daemon first/);

    const wrong = await call('/api/credentials/unlock', { json: { secret: UNLOCK } }); // the first unlock sets the secret
    expect(wrong.status).toBe(200);
    lock.lock();
    const bad = await call('/api/credentials/unlock', { json: { secret: 'not it' } });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toBe('credentials: wrong unlock secret');
    expect(lock.state).toBe('locked');
    expect((await call('/api/credentials/unlock', { json: { secret: UNLOCK } })).json).toMatchObject({ state: 'unlocked', keyring_created: false });

    const invalid = await call('/api/credentials', { json: { name: 'svc', credential_type: 'nope', password: PASSWORD, extra: 1 } });
    expect(invalid.status).toBe(400);
    expect(invalid.json.problems.join('\n')).toMatch(/credential_type/);
    expect(await ctx.db.selectFrom('credentials').select('id').execute()).toEqual([]);

    const created = await call('/api/credentials', { json: { name: 'svc', site: site.id, username: 'svc', connection_type: 'ssh', password: PASSWORD } });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ name: 'svc', site_id: site.id, secrets_set: ['password'] });
    const id = created.json.id as number;
    expect((await call('/api/credentials')).json).toMatchObject({ items: [{ id, secrets_set: ['password'] }], next_cursor: null });
    expect((await call(`/api/credentials/${id}`)).json).toMatchObject({ id, username: 'svc' });
    expect((await call('/api/credentials/999')).status).toBe(404);
    const updated = await call(`/api/credentials/${id}`, { method: 'PATCH', json: { password: NEW_PASSWORD, become_password: null } });
    expect(updated.status).toBe(200);

    const rotated = await call('/api/credentials/rotate-key', { json: { current_secret: UNLOCK, new_secret: NEW_UNLOCK } });
    expect(rotated.json).toEqual({ reencrypted: 1 });
    expect(lock.state).toBe('unlocked');
    const material = await createDatabaseCredentialProvider(ctx.store, lock).get(id, { siteId: site.id });
    expect(material?.secrets).toEqual({ password: NEW_PASSWORD });

    const audit = await ctx.db.selectFrom('audit_log').select(['actor', 'action']).orderBy('id').execute();
    expect(audit.map((a) => a.action)).toEqual(['credential.keyring_init', 'credential.create', 'credential.update', 'credential.rotate_key']);
    expect(new Set(audit.map((a) => a.actor))).toEqual(new Set(['token:test-admin']));
    expect((await call(`/api/credentials/${id}`, { method: 'DELETE' })).json).toEqual({ deleted: id });

    const everything = texts.join('\n') + JSON.stringify(await ctx.db.selectFrom('audit_log').selectAll().execute());
    for (const s of [PASSWORD, NEW_PASSWORD, UNLOCK, NEW_UNLOCK]) expect(everything).not.toContain(s);
  });
});

/**
 * Credentials (admin only, reads too: an operator cannot read credentials): list, show, create,
 * update, delete; status; unlock and rotate-key for the running daemon. Responses carry metadata
 * and which secrets are set, never a secret. Secret fields are accepted in request bodies only
 * over loopback or HTTPS (anything else would send them in clear), and never echoed. The same
 * domain functions as `jobyard credentials` (src/credentials), audited.
 */
import { z } from '@hono/zod-openapi';
import { getConnInfo } from '@hono/node-server/conninfo';
import {
  addCredential,
  BECOME_METHODS,
  CONNECTION_TYPES,
  countPlaintext,
  CREDENTIAL_TYPES,
  listCredentials,
  needsKey,
  readKeyring,
  removeCredential,
  rotateKey,
  showCredential,
  unlockCredentials,
  updateCredential,
  type CredentialFields,
  type CredentialSecrets,
} from '../../credentials/index.js';
import { ConflictError, NotFoundError } from '../../errors.js';
import { actorOf, type ApiApp, type ApiContext } from '../context.js';
import { HttpError } from '../errors.js';
import { idParam, intQuery, MAX_INT_ID, oneOf, pageQuery, querySchema } from '../params.js';
import { apiJson, BODY_ERRORS, CONFLICT, defineRoute, jsonResponse, NOT_FOUND } from '../route.js';

const CredentialInfo = z
  .object({
    id: z.number(),
    name: z.string(),
    description: z.string().nullable(),
    site_id: z.number().nullable(),
    site_name: z.string().nullable(),
    credential_type: z.string().nullable(),
    connection_type: z.string().nullable(),
    username: z.string().nullable(),
    become_method: z.string().nullable(),
    become_username: z.string().nullable(),
    secrets_set: z.array(z.string()),
    created_at: z.number(),
    updated_at: z.number(),
  })
  .openapi('CredentialInfo');

const text = (max: number) => z.string().min(1).max(max);
const secret = z.string().min(1).max(64 * 1024);
const metaShape = {
  description: text(2000).nullable().optional(),
  site: z.union([z.number().int().positive(), z.string().min(1)]).nullable().optional().openapi({ description: 'a site id or name; null: every site' }),
  credential_type: z.enum(CREDENTIAL_TYPES, oneOf(CREDENTIAL_TYPES)).nullable().optional(),
  connection_type: z.enum(CONNECTION_TYPES, oneOf(CONNECTION_TYPES)).nullable().optional(),
  username: text(200).nullable().optional(),
  become_method: z.enum(BECOME_METHODS, oneOf(BECOME_METHODS)).nullable().optional(),
  become_username: text(200).nullable().optional(),
};
const CreateBody = z.strictObject({
  name: text(200),
  ...metaShape,
  password: secret.optional(),
  private_key: secret.optional(),
  private_key_passphrase: secret.optional(),
  become_password: secret.optional(),
});
const UpdateBody = z.strictObject({
  name: text(200).optional(),
  ...metaShape,
  password: secret.nullable().optional(),
  private_key: secret.nullable().optional(),
  private_key_passphrase: secret.nullable().optional(),
  become_password: secret.nullable().optional(),
});
const SECRET_FIELDS = ['password', 'private_key', 'private_key_passphrase', 'become_password'] as const;
const idParams = z.object({ id: idParam(MAX_INT_ID, 'credential id') });
const json = <S extends z.ZodType>(schema: S) => ({ body: { required: true, content: { 'application/json': { schema } } } });

const Status = z.object({
  state: z.enum(['locked', 'unlocked', 'unknown']),
  keyring: z.object({ kdf: z.string(), N: z.number(), r: z.number(), p: z.number(), created_at: z.number(), rotated_at: z.number() }).nullable(),
  // Not "credentials": responses redact keys that name secrets.
  total: z.number(),
  unencrypted: z.number(),
});

const routes = {
  list: defineRoute('admin', {
    method: 'get',
    path: '/api/credentials',
    tags: ['credentials'],
    summary: 'Credentials (metadata and which secrets are set; never a secret)',
    request: { query: querySchema({ ...pageQuery, site_id: intQuery({ min: 1, max: MAX_INT_ID }, 'only credentials of this site') }) },
    responses: { 200: jsonResponse('a page of credentials', z.object({ items: z.array(CredentialInfo), next_cursor: z.string().nullable() })) },
  }),
  show: defineRoute('admin', {
    method: 'get',
    path: '/api/credentials/{id}',
    tags: ['credentials'],
    summary: 'One credential (never a secret)',
    request: { params: idParams },
    responses: { 200: jsonResponse('the credential', CredentialInfo), ...NOT_FOUND },
  }),
  create: defineRoute('admin', {
    method: 'post',
    path: '/api/credentials',
    tags: ['credentials'],
    summary: 'Add a credential; secrets (loopback or HTTPS only) are encrypted with the daemon key and never echoed',
    request: json(CreateBody),
    responses: { 201: jsonResponse('the credential', CredentialInfo), ...CONFLICT, ...BODY_ERRORS },
  }),
  update: defineRoute('admin', {
    method: 'patch',
    path: '/api/credentials/{id}',
    tags: ['credentials'],
    summary: 'Change a credential; only the fields given change (a secret set to null is removed)',
    request: { params: idParams, ...json(UpdateBody) },
    responses: { 200: jsonResponse('the credential', CredentialInfo), ...NOT_FOUND, ...CONFLICT, ...BODY_ERRORS },
  }),
  remove: defineRoute('admin', {
    method: 'delete',
    path: '/api/credentials/{id}',
    tags: ['credentials'],
    summary: 'Delete a credential (refused while jobs use it)',
    request: { params: idParams },
    responses: { 200: jsonResponse('deleted', z.object({ deleted: z.number() })), ...NOT_FOUND, ...CONFLICT },
  }),
  status: defineRoute('admin', {
    method: 'get',
    path: '/api/credentials/status',
    tags: ['credentials'],
    summary: "The daemon's lock state, the keyring and counts",
    responses: { 200: jsonResponse('the status', Status) },
  }),
  unlock: defineRoute('admin', {
    method: 'post',
    path: '/api/credentials/unlock',
    tags: ['credentials'],
    summary: 'Unlock the running daemon with the unlock secret (loopback or HTTPS only)',
    request: json(z.strictObject({ secret: z.string().min(1).max(4096) })),
    responses: { 200: jsonResponse('unlocked', z.object({ state: z.literal('unlocked'), keyring_created: z.boolean(), plaintext_encrypted: z.number() })), ...CONFLICT, ...BODY_ERRORS },
  }),
  rotate: defineRoute('admin', {
    method: 'post',
    path: '/api/credentials/rotate-key',
    tags: ['credentials'],
    summary: 'Re-encrypt every credential under a new unlock secret, in one transaction (loopback or HTTPS only)',
    request: json(z.strictObject({ current_secret: z.string().min(1).max(4096), new_secret: z.string().min(1).max(4096) })),
    responses: { 200: jsonResponse('re-encrypted', z.object({ reencrypted: z.number() })), ...CONFLICT, ...BODY_ERRORS },
  }),
};

/** Secrets travel in clear over plain HTTP: only from this machine, or over TLS. */
function requireSafeTransport(c: ApiContext): void {
  if (new URL(c.req.url).protocol === 'https:') return;
  let address: string | undefined;
  try {
    address = getConnInfo(c).remote.address;
  } catch {
    address = undefined;
  }
  if (address && /^(127\.|::1$|::ffff:127\.)/.test(address)) return;
  throw new HttpError(403, 'secrets are accepted only over HTTPS or from loopback; nothing was written');
}

function lockOf(c: ApiContext) {
  const lock = c.get('credentialLock');
  if (!lock) throw new ConflictError('credentials: this server has no credentials lock (only the scheduler can unlock)');
  return lock;
}

function split(body: Record<string, unknown>): { fields: CredentialFields; secrets: CredentialSecrets } {
  const fields: Record<string, unknown> = {};
  const secrets: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) ((SECRET_FIELDS as readonly string[]).includes(k) ? secrets : fields)[k] = v;
  return { fields: fields as CredentialFields, secrets: secrets as CredentialSecrets };
}

/** The daemon's key for a write that stores a secret; locked: 409 naming the state. */
function keyFor(c: ApiContext, secrets: CredentialSecrets) {
  if (!needsKey(secrets)) return {};
  requireSafeTransport(c);
  const key = lockOf(c).current();
  if (!key) throw new ConflictError('credentials locked: unlock the daemon first (POST /api/credentials/unlock, or CREDENTIALS_KEY_FILE)');
  return { key };
}

export function registerCredentialRoutes(app: ApiApp): void {
  app.openapi(routes.status, async (c) => {
    const store = c.get('store');
    const keyring = await readKeyring(store.db);
    const total = await store.db.selectFrom('credentials').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return c.json(
      apiJson({
        state: c.get('credentialLock')?.state ?? 'unknown',
        keyring: keyring ? { kdf: keyring.kdfName, N: keyring.params.N, r: keyring.params.r, p: keyring.params.p, created_at: keyring.createdAt, rotated_at: keyring.updatedAt } : null,
        total: Number(total.n),
        unencrypted: await countPlaintext(store.db),
      }),
      200,
    );
  });
  app.openapi(routes.list, async (c) => {
    const { limit, cursor, site_id } = c.req.valid('query');
    const page = await listCredentials(c.get('store').db, { limit, ...(cursor !== undefined ? { cursor } : {}), ...(site_id !== undefined ? { siteId: site_id } : {}) });
    return c.json(apiJson(page), 200);
  });
  app.openapi(routes.show, async (c) => {
    const { id } = c.req.valid('param');
    const info = await showCredential(c.get('store').db, id);
    if (!info) throw new NotFoundError(`credential ${id}: not found`);
    return c.json(apiJson(info), 200);
  });
  app.openapi(routes.create, async (c) => {
    const { fields, secrets } = split(c.req.valid('json'));
    const info = await addCredential(c.get('store'), fields, secrets, { actor: actorOf(c), now: c.get('clock')(), ...keyFor(c, secrets) });
    return c.json(apiJson(info), 201);
  });
  app.openapi(routes.update, async (c) => {
    const { id } = c.req.valid('param');
    const { fields, secrets } = split(c.req.valid('json'));
    const info = await updateCredential(c.get('store'), id, fields, secrets, { actor: actorOf(c), now: c.get('clock')(), ...keyFor(c, secrets) });
    return c.json(apiJson(info), 200);
  });
  app.openapi(routes.remove, async (c) => {
    const { id } = c.req.valid('param');
    await removeCredential(c.get('store'), id, { actor: actorOf(c), now: c.get('clock')() });
    return c.json({ deleted: id }, 200);
  });
  app.openapi(routes.unlock, async (c) => {
    requireSafeTransport(c);
    const lock = lockOf(c);
    const result = await unlockCredentials(c.get('store'), c.req.valid('json').secret, { actor: actorOf(c) });
    lock.unlock(result.key);
    c.get('logger').info({ actor: actorOf(c) }, 'credentials unlocked over the API');
    return c.json({ state: 'unlocked' as const, keyring_created: result.initialised, plaintext_encrypted: result.migrated }, 200);
  });
  app.openapi(routes.rotate, async (c) => {
    requireSafeTransport(c);
    const lock = lockOf(c);
    const body = c.req.valid('json');
    const { credentials } = await rotateKey(c.get('store'), body.current_secret, body.new_secret, { actor: actorOf(c) });
    // The daemon goes on with the new key (derived again: rotateKey keeps no key around).
    lock.unlock((await unlockCredentials(c.get('store'), body.new_secret, { actor: actorOf(c) })).key);
    return c.json({ reencrypted: credentials }, 200);
  });
}

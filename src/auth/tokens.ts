/**
 * API tokens (owner of `api_tokens`): create (the plaintext is returned once and never stored),
 * list (never the value or its hash), revoke, and authenticate a presented token.
 *
 * A token is `jy_` + 256 random bits (base64url). Only its SHA-256 is stored: with that much
 * entropy a slow KDF adds nothing, and a lookup by hash needs no scan. The stored hash is still
 * compared in constant time after the indexed lookup, as defence in depth.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { recordAudit, type Actor } from '../audit/audit-log.js';
import type { Store } from '../db/open.js';
import { ConflictError, NotFoundError, ValidationError } from '../errors.js';
import { decodeCursor, isIdKey, pageLimit, toPage, type Page } from '../pagination.js';
import { isRole, ROLES, type Role } from './roles.js';

/** last_used_at is written at most this often per token (a busy token must not write per request). */
export const LAST_USED_GRANULARITY_MS = 60_000;
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export interface TokenInfo {
  id: number;
  name: string;
  role: Role;
  created_at: number;
  created_by: string;
  last_used_at: number | null;
  revoked_at: number | null;
}

export interface AuthenticatedToken {
  name: string;
  role: Role;
}

export const hashToken = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

const generateToken = (): string => `jy_${randomBytes(32).toString('base64url')}`;

/** Problems with a create request, each `field: message` (empty when valid). */
export function checkTokenRequest(input: { name?: unknown; role?: unknown }): string[] {
  const problems: string[] = [];
  if (typeof input.name !== 'string' || !NAME_PATTERN.test(input.name)) {
    problems.push('name: must be 1-64 characters of letters, digits, ".", "_" or "-", starting with a letter or digit');
  }
  if (!isRole(input.role)) problems.push(`role: must be one of ${ROLES.join(', ')}`);
  return problems;
}

/** Creates a token; returns its plaintext (shown once) with the stored row. Audited as `token.create`. */
export async function createApiToken(
  store: Store,
  input: { name: string; role: string },
  actor: Actor,
  options: { now?: number } = {},
): Promise<{ token: string; info: TokenInfo }> {
  const problems = checkTokenRequest(input);
  if (problems.length > 0) throw new ValidationError(problems);
  const now = options.now ?? Date.now();
  const token = generateToken();
  const tokenHash = hashToken(token);
  const row = await store.db.transaction().execute(async (trx) => {
    const existing = await trx.selectFrom('api_tokens').select('revoked_at').where('name', '=', input.name).executeTakeFirst();
    if (existing) {
      const state = existing.revoked_at === null ? 'exists' : 'existed (revoked; names are not reused so audit rows stay unambiguous)';
      throw new ConflictError(`name: a token named "${input.name}" already ${state}; choose another name`);
    }
    const inserted = await trx
      .insertInto('api_tokens')
      .values({ name: input.name, role: input.role, token_hash: tokenHash, created_at: now, created_by: actor })
      .returning(['id', 'name', 'role', 'created_at', 'created_by', 'last_used_at', 'revoked_at'])
      .executeTakeFirstOrThrow();
    await recordAudit(trx, { actor, action: 'token.create', objectType: 'token', objectId: input.name, summary: { role: input.role }, at: now });
    return inserted;
  });
  return { token, info: toInfo(row) };
}

/** Tokens, newest first, one page at a time; never the value or its hash. */
export async function listApiTokens(store: Store, query: { limit?: number; cursor?: string; includeRevoked?: boolean } = {}): Promise<Page<TokenInfo>> {
  const limit = pageLimit(query.limit);
  let q = store.db
    .selectFrom('api_tokens')
    .select(['id', 'name', 'role', 'created_at', 'created_by', 'last_used_at', 'revoked_at'])
    .orderBy('id', 'desc')
    .limit(limit + 1);
  if (query.cursor !== undefined) q = q.where('id', '<', decodeCursor(query.cursor, isIdKey));
  if (query.includeRevoked === false) q = q.where('revoked_at', 'is', null);
  const page = toPage(await q.execute(), limit, (r) => r.id);
  return { items: page.items.map(toInfo), next_cursor: page.next_cursor };
}

/** Revokes a live token by name. NotFoundError when unknown, ConflictError when already revoked. Audited as `token.revoke`. */
export async function revokeApiToken(store: Store, name: string, actor: Actor, options: { now?: number } = {}): Promise<TokenInfo> {
  const now = options.now ?? Date.now();
  return store.db.transaction().execute(async (trx) => {
    const row = await trx
      .selectFrom('api_tokens')
      .select(['id', 'name', 'role', 'created_at', 'created_by', 'last_used_at', 'revoked_at'])
      .where('name', '=', name)
      .executeTakeFirst();
    if (!row) throw new NotFoundError(`name: no token named "${name}"`);
    if (row.revoked_at !== null) throw new ConflictError(`name: token "${name}" is already revoked`);
    await trx.updateTable('api_tokens').set({ revoked_at: now }).where('id', '=', row.id).execute();
    await recordAudit(trx, { actor, action: 'token.revoke', objectType: 'token', objectId: name, summary: { role: row.role }, at: now });
    return toInfo({ ...row, revoked_at: now });
  });
}

/** The live token this plaintext belongs to, or undefined. Marks it used (at most once a minute). */
export async function authenticateApiToken(store: Store, token: string, options: { now?: number } = {}): Promise<AuthenticatedToken | undefined> {
  const now = options.now ?? Date.now();
  const presented = hashToken(token);
  const row = await store.db
    .selectFrom('api_tokens')
    .select(['id', 'name', 'role', 'token_hash', 'last_used_at'])
    .where('token_hash', '=', presented)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  if (!row || !timingSafeEqual(Buffer.from(row.token_hash), Buffer.from(presented)) || !isRole(row.role)) return undefined;
  if (row.last_used_at === null || now - Number(row.last_used_at) >= LAST_USED_GRANULARITY_MS) {
    // Conditional on the old value, so concurrent requests write it once.
    let q = store.db.updateTable('api_tokens').set({ last_used_at: now }).where('id', '=', row.id);
    q = row.last_used_at === null ? q.where('last_used_at', 'is', null) : q.where('last_used_at', '=', row.last_used_at);
    await q.execute();
  }
  return { name: row.name, role: row.role };
}

/** True while the token with this name exists, is not revoked and still has this role. */
export async function isApiTokenLive(store: Store, name: string, role: Role): Promise<boolean> {
  const row = await store.db.selectFrom('api_tokens').select('role').where('name', '=', name).where('revoked_at', 'is', null).executeTakeFirst();
  return row !== undefined && row.role === role;
}

/** True when at least one token is live (not revoked). */
export async function hasLiveApiToken(store: Store): Promise<boolean> {
  const row = await store.db.selectFrom('api_tokens').select('id').where('revoked_at', 'is', null).limit(1).executeTakeFirst();
  return row !== undefined;
}

function toInfo(row: { id: number; name: string; role: string; created_at: number; created_by: string; last_used_at: number | null; revoked_at: number | null }): TokenInfo {
  return {
    id: Number(row.id),
    name: row.name,
    role: row.role as Role,
    created_at: Number(row.created_at),
    created_by: row.created_by,
    last_used_at: row.last_used_at === null ? null : Number(row.last_used_at),
    revoked_at: row.revoked_at === null ? null : Number(row.revoked_at),
  };
}

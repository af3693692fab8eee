/**
 * Dashboard sessions (owner of `ui_sessions`). The cookie carries 32 random bytes; the table keeps
 * only their SHA-256, so every replica can check a cookie and a leaked table row signs nobody in.
 * Each session has its own CSRF token, sent back in every form and checked on every action.
 *
 * A session ends at the first of: sign-out, its lifetime (ttlMs from sign-in), idleMs without a
 * request, or its credential going away (the caller's `stillSignedIn`: a revoked API token, a
 * changed HTTP_TOKEN). For the last, the row keeps an HMAC of the sign-in token keyed with the
 * session id: only a request bearing the cookie can test a candidate token against it.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { recordAudit } from '../../audit/audit-log.js';
import type { Store } from '../../db/open.js';
import { ROLES, type Role, type UiPrincipal } from './deps.js';

export interface UiSession extends UiPrincipal {
  csrfToken: string;
  expiresAt: number;
}

/** A found session, with a test of whether a candidate token is the one it signed in with. */
export interface FoundSession extends UiSession {
  signedInWith(token: string): boolean;
}

/** Lifetime from sign-in, and how long a session may go without a request. */
export interface SessionTimes {
  ttlMs: number;
  idleMs: number;
}

export const DEFAULT_SESSION_TIMES: SessionTimes = { ttlMs: 12 * 60 * 60 * 1000, idleMs: 2 * 60 * 60 * 1000 };

/** last_active_at is written at most this often per session (not once per request). */
const ACTIVE_GRANULARITY_MS = 60_000;

const hashId = (id: string): string => createHash('sha256').update(id, 'utf8').digest('hex');
const macOf = (id: string, token: string): string => createHmac('sha256', id).update(token, 'utf8').digest('hex');

/** Opens a session for a principal; returns the cookie value. Records `session.create`. */
export async function createSession(
  store: Store,
  principal: UiPrincipal,
  options: { now: number; ttlMs: number; token: string },
): Promise<{ id: string; session: UiSession }> {
  const id = randomBytes(32).toString('base64url');
  const csrfToken = randomBytes(24).toString('base64url');
  const expiresAt = options.now + options.ttlMs;
  await store.db.transaction().execute(async (trx) => {
    // Expired rows go on every sign-in: an index range, so this stays cheap.
    await trx.deleteFrom('ui_sessions').where('expires_at', '<=', options.now).execute();
    await trx
      .insertInto('ui_sessions')
      .values({
        id_hash: hashId(id),
        actor: principal.actor,
        role: principal.role,
        csrf_token: csrfToken,
        created_at: options.now,
        expires_at: expiresAt,
        credential_mac: macOf(id, options.token),
        last_active_at: options.now,
      })
      .execute();
    await recordAudit(trx, { actor: principal.actor, action: 'session.create', objectType: 'session', summary: { via: 'dashboard', role: principal.role }, at: options.now });
  });
  return { id, session: { ...principal, csrfToken, expiresAt } };
}

/** The live session behind a cookie value (not expired, not idle), or undefined. Marks it active. */
export async function findSession(store: Store, id: string | undefined, now: number, idleMs = DEFAULT_SESSION_TIMES.idleMs): Promise<FoundSession | undefined> {
  if (!id || id.length > 200) return undefined;
  const idHash = hashId(id);
  const row = await store.db
    .selectFrom('ui_sessions')
    .select(['actor', 'role', 'csrf_token', 'expires_at', 'credential_mac', 'last_active_at'])
    .where('id_hash', '=', idHash)
    .where('expires_at', '>', now)
    .where('last_active_at', '>', now - idleMs)
    .executeTakeFirst();
  if (!row || !(ROLES as readonly string[]).includes(row.role) || row.credential_mac === '') return undefined;
  const lastActive = Number(row.last_active_at);
  if (now - lastActive >= ACTIVE_GRANULARITY_MS) {
    // Conditional on the old value, so concurrent requests write it once.
    await store.db.updateTable('ui_sessions').set({ last_active_at: now }).where('id_hash', '=', idHash).where('last_active_at', '=', lastActive).execute();
  }
  const stored = Buffer.from(row.credential_mac, 'utf8');
  return {
    actor: row.actor,
    role: row.role as Role,
    csrfToken: row.csrf_token,
    expiresAt: Number(row.expires_at),
    signedInWith: (token) => {
      const mac = Buffer.from(macOf(id, token), 'utf8');
      return mac.length === stored.length && timingSafeEqual(mac, stored);
    },
  };
}

/**
 * Signs out: deletes the session row. Records `session.delete` with the reason when it is not
 * the user's own sign-out (e.g. "token revoked").
 */
export async function deleteSession(store: Store, id: string, actor: string, now: number, reason?: string): Promise<void> {
  await store.db.transaction().execute(async (trx) => {
    const deleted = await trx.deleteFrom('ui_sessions').where('id_hash', '=', hashId(id)).executeTakeFirst();
    if (Number(deleted.numDeletedRows) > 0) {
      await recordAudit(trx, { actor, action: 'session.delete', objectType: 'session', summary: { via: 'dashboard', ...(reason ? { reason } : {}) }, at: now });
    }
  });
}

/** Constant-time comparison of a submitted CSRF token with the session's. */
export function csrfMatches(given: string | undefined, expected: string): boolean {
  const a = createHash('sha256').update(given ?? '', 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b) && given !== undefined && given.length > 0;
}

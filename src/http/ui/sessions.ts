/**
 * Dashboard sessions (owner of `ui_sessions`). The cookie carries 32 random bytes; the table keeps
 * only their SHA-256, so every replica can check a cookie and a leaked table row signs nobody in.
 * Each session has its own CSRF token, sent back in every form and checked on every action.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { recordAudit } from '../../audit/audit-log.js';
import type { Store } from '../../db/open.js';
import { ROLES, type Role, type UiPrincipal } from './deps.js';

export interface UiSession extends UiPrincipal {
  csrfToken: string;
  expiresAt: number;
}

const hashId = (id: string): string => createHash('sha256').update(id, 'utf8').digest('hex');

/** Opens a session for a principal; returns the cookie value. Records `session.create`. */
export async function createSession(store: Store, principal: UiPrincipal, options: { now: number; ttlMs: number }): Promise<{ id: string; session: UiSession }> {
  const id = randomBytes(32).toString('base64url');
  const csrfToken = randomBytes(24).toString('base64url');
  const expiresAt = options.now + options.ttlMs;
  await store.db.transaction().execute(async (trx) => {
    // Expired rows go on every sign-in: an index range, so this stays cheap.
    await trx.deleteFrom('ui_sessions').where('expires_at', '<=', options.now).execute();
    await trx
      .insertInto('ui_sessions')
      .values({ id_hash: hashId(id), actor: principal.actor, role: principal.role, csrf_token: csrfToken, created_at: options.now, expires_at: expiresAt })
      .execute();
    await recordAudit(trx, { actor: principal.actor, action: 'session.create', objectType: 'session', summary: { via: 'dashboard', role: principal.role }, at: options.now });
  });
  return { id, session: { ...principal, csrfToken, expiresAt } };
}

/** The live session behind a cookie value, or undefined. */
export async function findSession(store: Store, id: string | undefined, now: number): Promise<UiSession | undefined> {
  if (!id || id.length > 200) return undefined;
  const row = await store.db
    .selectFrom('ui_sessions')
    .select(['actor', 'role', 'csrf_token', 'expires_at'])
    .where('id_hash', '=', hashId(id))
    .where('expires_at', '>', now)
    .executeTakeFirst();
  if (!row || !(ROLES as readonly string[]).includes(row.role)) return undefined;
  return { actor: row.actor, role: row.role as Role, csrfToken: row.csrf_token, expiresAt: row.expires_at };
}

/** Signs out: deletes the session row. Records `session.delete`. */
export async function deleteSession(store: Store, id: string, actor: string, now: number): Promise<void> {
  await store.db.transaction().execute(async (trx) => {
    const deleted = await trx.deleteFrom('ui_sessions').where('id_hash', '=', hashId(id)).executeTakeFirst();
    if (Number(deleted.numDeletedRows) > 0) {
      await recordAudit(trx, { actor, action: 'session.delete', objectType: 'session', summary: { via: 'dashboard' }, at: now });
    }
  });
}

/** Constant-time comparison of a submitted CSRF token with the session's. */
export function csrfMatches(given: string | undefined, expected: string): boolean {
  const a = createHash('sha256').update(given ?? '', 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b) && given !== undefined && given.length > 0;
}

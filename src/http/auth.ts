/**
 * Authentication and roles.
 *
 * `authenticate` (global middleware) decides who is asking:
 * - `Authorization: Bearer <HTTP_TOKEN>` → actor `token:bootstrap`, role admin;
 * - `Authorization: Bearer <api token>` → actor `token:<name>`, its role (src/auth/tokens.ts);
 * - no header, on a loopback server with no token configured at all (no HTTP_TOKEN and no live
 *   api_tokens row) → actor `http:local`, role admin;
 * - otherwise 401 with `WWW-Authenticate`. Open paths (/healthz) skip all of this.
 *
 * `requireRole(role)` (per route) answers 403 when the caller's role is below the route's.
 * The bootstrap comparison hashes both sides to a fixed length and compares the digests with
 * `timingSafeEqual`, so neither the token's content nor its length leaks through timing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { tokenActor } from '../audit/audit-log.js';
import { roleAtLeast, type Role } from '../auth/roles.js';
import { authenticateApiToken, hasLiveApiToken } from '../auth/tokens.js';
import type { Store } from '../db/open.js';
import { describeError } from '../errors.js';
import type { AppEnv } from './context.js';
import { HttpError } from './errors.js';

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/** The actor of requests made with HTTP_TOKEN. */
export const BOOTSTRAP_ACTOR = 'token:bootstrap';
/** The actor of unauthenticated requests to a loopback server without any token. */
export const LOCAL_ACTOR = 'http:local';

const CHALLENGE = { 'WWW-Authenticate': 'Bearer realm="jobyard"' };

/** The token of `Bearer <token>`, or undefined when the header is missing or another scheme. */
export function bearerToken(authorization: string | undefined): string | undefined {
  return /^Bearer +(\S+) *$/i.exec(authorization ?? '')?.[1];
}

/** True when `authorization` is `Bearer <token>` for exactly this token. */
export function bearerMatches(authorization: string | undefined, token: string): boolean {
  const given = bearerToken(authorization);
  // Compare something even when the header is missing or malformed: the same work either way.
  const equal = timingSafeEqual(digest(given ?? ''), digest(token));
  return given !== undefined && equal;
}

export interface AuthOptions {
  /** HTTP_TOKEN: a bootstrap admin token (undefined: none). */
  bootstrapToken: string | undefined;
  /** True on a loopback address: then, with no token configured, requests are accepted as `http:local`. */
  allowLocal: boolean;
  /** Paths answered without authentication. */
  openPaths: ReadonlySet<string>;
}

export function authenticate(options: AuthOptions): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const path = c.req.path.length > 1 ? c.req.path.replace(/\/+$/, '') : c.req.path;
    if (options.openPaths.has(path)) return next();
    const header = c.req.header('authorization');
    if (header === undefined) {
      if (options.allowLocal && options.bootstrapToken === undefined && !(await anyTokenExists(c.get('store')))) {
        c.set('actor', LOCAL_ACTOR);
        c.set('role', 'admin');
        c.set('tokenName', null);
        return next();
      }
      throw new HttpError(401, 'authentication required: send Authorization: Bearer <token>', CHALLENGE);
    }
    const token = bearerToken(header);
    if (options.bootstrapToken !== undefined && bearerMatches(header, options.bootstrapToken)) {
      c.set('actor', BOOTSTRAP_ACTOR);
      c.set('role', 'admin');
      c.set('tokenName', null);
      return next();
    }
    let found: Awaited<ReturnType<typeof authenticateApiToken>>;
    try {
      found = token === undefined ? undefined : await authenticateApiToken(c.get('store'), token, { now: c.get('clock')() });
    } catch (err) {
      throw unavailable(err);
    }
    if (!found) throw new HttpError(401, 'invalid bearer token', CHALLENGE);
    c.set('actor', tokenActor(found.name));
    c.set('role', found.role);
    c.set('tokenName', found.name);
    return next();
  };
}

/** Whether any token is live; the database being down is a 503, not a 500 (nor an open door). */
async function anyTokenExists(store: Store): Promise<boolean> {
  try {
    return await hasLiveApiToken(store);
  } catch (err) {
    throw unavailable(err);
  }
}

const unavailable = (err: unknown): HttpError => new HttpError(503, `authentication unavailable: the database did not answer (${describeError(err)})`);

/** Per-route middleware: 403 unless the caller's role is `role` or above. */
export function requireRole(role: Role): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const have = c.get('role');
    if (have === undefined || !roleAtLeast(have, role)) {
      throw new HttpError(403, `forbidden: this route needs the ${role} role; ${c.get('actor') ?? 'the caller'} has ${have ?? 'none'}`);
    }
    return next();
  };
}

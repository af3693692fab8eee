/**
 * Request checks shared by every dashboard route: the public base path, the TLS judgement for
 * the cookie's Secure flag, the same-origin check on actions, and the response headers (a strict
 * CSP with no inline script or style).
 */
import type { Context } from 'hono';

export const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

export const SESSION_COOKIE = 'jobyard_session';

/** UI_BASE_PATH when set; else X-Forwarded-Prefix (from a reverse proxy) + the mount path. */
export function publicBase(c: Context, configured: string | undefined, mountPath: string): string {
  if (configured !== undefined && configured !== '') return configured.replace(/\/+$/, '');
  const prefix = c.req.header('x-forwarded-prefix') ?? '';
  const clean = /^(\/[A-Za-z0-9._~-]+)*\/?$/.test(prefix) ? prefix.replace(/\/+$/, '') : '';
  return `${clean}${mountPath}`;
}

/** The request came over TLS (directly, or to a proxy that says so). */
export function isHttps(c: Context): boolean {
  return new URL(c.req.url).protocol === 'https:' || c.req.header('x-forwarded-proto')?.split(',')[0]?.trim() === 'https';
}

/**
 * Refuses cross-site actions: an Origin header (browsers send it on every POST) must name this
 * host; without one, Sec-Fetch-Site must not say cross-site. The CSRF token is checked as well.
 */
export function sameOrigin(c: Context): boolean {
  const origin = c.req.header('origin');
  const host = c.req.header('x-forwarded-host') ?? c.req.header('host');
  if (origin !== undefined && origin !== 'null') {
    try {
      return new URL(origin).host === host;
    } catch {
      return false;
    }
  }
  if (origin === 'null') return false;
  const site = c.req.header('sec-fetch-site');
  return site === undefined || site === 'same-origin' || site === 'none';
}

export function securityHeaders(c: Context): void {
  c.header('Content-Security-Policy', CSP);
  c.header('X-Content-Type-Options', 'nosniff');
  // same-origin, not no-referrer: with no-referrer browsers send `Origin: null` on form posts, which the origin check must refuse.
  c.header('Referrer-Policy', 'same-origin');
  c.header('X-Frame-Options', 'DENY');
}

/** The page shell: header with navigation and the signed-in principal, the one stylesheet and script. */
import { html } from 'hono/html';
import type { AssetSet } from './assets.js';
import type { UiSession } from './sessions.js';

export type Html = ReturnType<typeof html>;

/** What every page renderer needs to build links and forms. */
export interface View {
  /** Public base path, e.g. `/ui` or `/jobyard/ui`. */
  base: string;
  now: number;
  session: UiSession;
  assets: AssetSet;
  /** True when the principal may act (operator or admin). */
  canAct: boolean;
  canAdmin: boolean;
  /** This page's path and query under the base (where an action returns to). */
  here: string;
}

const NAV: Array<[string, string]> = [
  ['', 'Overview'],
  ['/items', 'Work items'],
  ['/jobs', 'Scheduled jobs'],
  ['/workers', 'Workers'],
  ['/services', 'Services'],
  ['/inventory', 'Inventory'],
  ['/audit', 'Audit log'],
];

/** The CSRF field every action form carries. */
export const csrfField = (v: View): Html =>
  html`<input type="hidden" name="_csrf" value="${v.session.csrfToken}"><input type="hidden" name="_back" value="${v.here}">`;

export function page(v: View, opts: { title: string; section: string; body: Html; live?: boolean; refreshSeconds?: number }): Html {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${opts.title} · jobyard</title>
${opts.refreshSeconds ? html`<meta http-equiv="refresh" content="${opts.refreshSeconds}">` : ''}
<link rel="stylesheet" href="${v.base}/assets/${v.assets.css.name}">
<script type="module" src="${v.base}/assets/${v.assets.js.name}"></script>
</head>
<body data-now="${v.now}"${opts.live ? html` data-live="${v.base}/live"` : ''}>
<a class="skip" href="#main">Skip to content</a>
<header><span class="brand">jobyard</span>
<nav aria-label="Sections">${NAV.filter(([path]) => path !== '/audit' || v.canAdmin).map(([path, label]) => html`<a href="${v.base}${path}"${path === opts.section ? html` aria-current="page"` : ''}>${label}</a>`)}</nav>
<span class="who">${opts.live ? html`<span class="live-dot" title="live updates"></span>` : ''}${v.session.actor} (${v.session.role})</span>
<form class="inline" method="post" action="${v.base}/signout">${csrfField(v)}<button type="submit">Sign out</button></form>
</header>
<main id="main">${opts.body}</main>
</body></html>`;
}

/** The sign-in page (no session yet, so no navigation). */
export function signInPage(base: string, assets: AssetSet, error?: string): Html {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Sign in · jobyard</title><link rel="stylesheet" href="${base}/assets/${assets.css.name}"></head>
<body><main id="main" class="signin"><h1>Sign in to jobyard</h1>
${error ? html`<p class="err" role="alert">${error}</p>` : ''}
<form method="post" action="${base}/signin">
<label for="token">API token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<button type="submit">Sign in</button>
</form>
<p class="muted">Use a token from <code>jobyard tokens create</code>. Its role decides what you may do here.</p>
</main></body></html>`;
}

/** A status word with its colour class. */
export const status = (s: string | null | undefined): Html => html`<span class="s-${s ?? 'none'}">${s ?? '—'}</span>`;

/** A query string from pairs, skipping empty values. */
export function qs(pairs: Record<string, string | number | undefined>): string {
  const p = new URLSearchParams();
  for (const [k, val] of Object.entries(pairs)) if (val !== undefined && val !== '') p.set(k, String(val));
  const s = p.toString();
  return s ? `?${s}` : '';
}

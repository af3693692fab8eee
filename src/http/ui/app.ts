/**
 * The dashboard as a Hono sub-app: `app.route('/ui', createUiApp(deps).app)` mounts it. Pages
 * are rendered on the server (hono/html, escaped by default); the one script only enhances.
 * Every action is a POST that needs a session, its CSRF token, a same-origin request and a role
 * of at least operator; the server refuses anything else whatever the page showed.
 */
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { compress } from 'hono/compress';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { html } from 'hono/html';
import { streamSSE } from 'hono/streaming';
import { describeError, NotFoundError, UserError, ValidationError, ConflictError } from '../../errors.js';
import { silentLogger } from '../../log.js';
import { DEFAULT_OFFLINE_AFTER_MS } from '../../schedule/ticker.js';
import { buildAssets, IMMUTABLE } from './assets.js';
import { BulkRunner } from './bulk.js';
import { roleAtLeast, type UiDeps } from './deps.js';
import { back, Forbidden, need, positiveId, render, type Env } from './route-kit.js';
import { registerJobRoutes } from './routes-jobs.js';
import { applyItemAction, ITEM_ACTIONS, type ItemAction } from '../../queue/item-actions.js';
import { readOverview } from './overview-data.js';
import { readSeries } from '../../queue/minute-rollup.js';
import { parseItemFilter } from './item-filter.js';
import { listItems } from '../../queue/work-item-list.js';
import { page, signInPage, type Html } from './layout.js';
import { LiveSnapshots } from './live.js';
import { itemsPage, batchPage } from './pages/items.js';
import { overviewPage } from './pages/overview.js';
import { registerAdminRoutes } from './routes-admin.js';
import { csrfMatches, createSession, DEFAULT_SESSION_TIMES, deleteSession, findSession, type UiSession } from './sessions.js';
import { isHttps, publicBase, sameOrigin, securityHeaders, SESSION_COOKIE } from './security.js';

export type UiEnv = Env;

/** How often an open live stream re-checks its session. */
const LIVE_SESSION_RECHECK_MS = 30_000;

export interface UiApp {
  app: Hono<Env>;
  live: LiveSnapshots;
  bulk: BulkRunner;
}

export function createUiApp(deps: UiDeps): UiApp {
  const { store } = deps;
  const clock = deps.clock ?? Date.now;
  const logger = deps.logger ?? silentLogger;
  const mountPath = deps.mountPath ?? '/ui';
  const assets = buildAssets();
  const live = new LiveSnapshots(store, clock, deps.liveIntervalMs ?? 1000, logger);
  const bulk = new BulkRunner(store, { clock });
  const app = new Hono<Env>();
  const ttlMs = deps.sessionTtlMs ?? DEFAULT_SESSION_TIMES.ttlMs;
  const idleMs = deps.sessionIdleMs ?? DEFAULT_SESSION_TIMES.idleMs;
  /** The session behind a cookie while it and its credential hold; one whose credential went away is ended here. */
  const currentSession = async (cookie: string | undefined): Promise<UiSession | undefined> => {
    const found = await findSession(store, cookie, clock(), idleMs);
    if (!found || !cookie) return undefined;
    const gone = deps.credentialGone ? await deps.credentialGone(found) : undefined;
    if (gone !== undefined) {
      await deleteSession(store, cookie, found.actor, clock(), gone);
      return undefined;
    }
    const { signedInWith: _proof, ...session } = found;
    return session;
  };

  app.onError((err, c) => {
    if (err instanceof UserError) {
      const code = err instanceof Forbidden ? 403 : err instanceof NotFoundError ? 404 : err instanceof ConflictError ? 409 : 400;
      return c.html(messagePage(c, code === 404 ? 'Not found' : code === 403 ? 'Not allowed' : code === 409 ? 'Conflict' : 'Not done', err.message), code);
    }
    logger.error({ err: describeError(err), path: c.req.path }, 'dashboard request failed');
    return c.html(messagePage(c, 'Something went wrong', 'The request failed; the server log has the details.'), 500);
  });

  app.use('*', async (c, next) => {
    c.set('base', publicBase(c, deps.basePath, mountPath));
    await next();
    securityHeaders(c);
    if (!c.res.headers.has('Cache-Control')) c.header('Cache-Control', 'no-store');
  });
  app.use('*', compress({ encoding: 'gzip', contentTypeFilter: /^text\/html/ }));
  app.use('*', bodyLimit({ maxSize: 256 * 1024, onError: (c) => c.text('request body too large', 413) }));

  app.get('/assets/:name', (c) => {
    const a = assets.byName.get(c.req.param('name'));
    if (!a) return c.text('no such asset', 404);
    const gzip = /\bgzip\b/.test(c.req.header('accept-encoding') ?? '');
    const headers: Record<string, string> = { 'Content-Type': a.type, 'Cache-Control': IMMUTABLE, Vary: 'Accept-Encoding' };
    if (gzip) headers['Content-Encoding'] = 'gzip';
    return c.body(new Uint8Array(gzip ? a.gzip : a.body), 200, headers);
  });

  app.get('/signin', (c) => c.html(signInPage(c.var.base, assets)));
  app.post('/signin', async (c) => {
    if (!sameOrigin(c)) return c.text('cross-site request refused', 403);
    const form = await c.req.parseBody();
    const token = typeof form.token === 'string' ? form.token.trim() : '';
    const principal = token ? await deps.authenticate(token) : undefined;
    if (!principal) return c.html(signInPage(c.var.base, assets, 'token: not a valid API token (unknown, revoked or mistyped)'), 401);
    const { id } = await createSession(store, principal, { now: clock(), ttlMs, token });
    setCookie(c, SESSION_COOKIE, id, { path: c.var.base, httpOnly: true, sameSite: 'Strict', secure: isHttps(c), maxAge: Math.floor(ttlMs / 1000) });
    return c.redirect(c.var.base, 303);
  });

  // Everything below needs a session.
  app.use('*', async (c, next) => {
    const session = await currentSession(getCookie(c, SESSION_COOKIE));
    if (!session) {
      if (c.req.method === 'GET' && c.req.header('accept') !== 'text/event-stream') return c.redirect(`${c.var.base}/signin`, 303);
      return c.text('sign in first', 401);
    }
    c.set('session', session);
    if (c.req.method === 'POST') {
      if (!sameOrigin(c)) return c.text('cross-site request refused', 403);
      const form = (await c.req.parseBody({ all: true })) as Record<string, string | string[]>;
      const given = c.req.header('x-csrf-token') ?? (typeof form._csrf === 'string' ? form._csrf : undefined);
      if (!csrfMatches(given, session.csrfToken)) return c.text('missing or wrong CSRF token; reload the page and try again', 403);
      c.set('form', form);
    }
    const url = new URL(c.req.url);
    const sub = url.pathname.startsWith(mountPath) ? url.pathname.slice(mountPath.length) : url.pathname;
    c.set('view', {
      base: c.var.base,
      now: clock(),
      session,
      assets,
      canAct: roleAtLeast(session.role, 'operator'),
      canAdmin: roleAtLeast(session.role, 'admin'),
      here: `${c.var.base}${sub}${url.search}`,
    });
    await next();
  });

  app.post('/signout', async (c) => {
    const id = getCookie(c, SESSION_COOKIE);
    if (id) await deleteSession(store, id, c.var.session.actor, clock());
    deleteCookie(c, SESSION_COOKIE, { path: c.var.base });
    return c.redirect(`${c.var.base}/signin`, 303);
  });

  app.get('/', async (c) => {
    const now = clock();
    const body = overviewPage(c.var.view, await readOverview(store, now), await readSeries(store, now));
    return render(c, 'Overview', '', body, { live: true });
  });

  app.get('/live', (c) =>
    streamSSE(c, async (stream) => {
      let id = 0;
      let end = () => {};
      const done = new Promise<void>((resolve) => {
        end = resolve;
        stream.onAbort(resolve);
      });
      const off = live.subscribe((json) => void stream.writeSSE({ event: 'snapshot', data: json, id: String(++id) }).catch(() => {}));
      // A long-lived stream outlives no session: when its session ends (sign-out, revoked token, expiry) the stream ends too.
      const cookie = getCookie(c, SESSION_COOKIE);
      const recheck = setInterval(() => void currentSession(cookie).then((s) => (s ? undefined : end()), end), LIVE_SESSION_RECHECK_MS);
      await done;
      clearInterval(recheck);
      off();
    }),
  );

  app.get('/items', async (c) => {
    const q = new URL(c.req.url).searchParams;
    const { filter, problems } = parseItemFilter(q);
    const before = Number(q.get('before'));
    const data = problems.length > 0 ? { items: [], next_before: null, total: 0 } : await listItems(store, filter, { ...(before > 0 ? { before } : {}), limit: 50 });
    return c.html(page(c.var.view, { title: 'Work items', section: '/items', body: itemsPage(c.var.view, filter, data, problems, q) }), problems.length > 0 ? 400 : 200);
  });
  app.post('/items/bulk', async (c) => {
    need(c, 'operator');
    const form = c.var.form;
    const action = String(form.action ?? '');
    if (!(ITEM_ACTIONS as readonly string[]).includes(action)) throw new ValidationError([`action: "${action}" is not one of ${ITEM_ACTIONS.join(', ')}`]);
    let batch;
    if (form.scope === 'filter') {
      const q = new URLSearchParams();
      for (const [k, val] of Object.entries(form)) if (k.startsWith('f_') && typeof val === 'string') q.set(k.slice(2), val);
      const { filter, problems } = parseItemFilter(q);
      if (problems.length > 0) throw new ValidationError(problems);
      batch = bulk.start(action as ItemAction, c.var.session.actor, { filter, description: q.toString() || 'no filter (every item)' });
    } else {
      const raw = ([] as string[]).concat(form.id ?? []);
      const ids = raw.map(Number);
      const bad = raw.filter((r, i) => !Number.isSafeInteger(ids[i]) || ids[i]! <= 0);
      if (bad.length > 0) throw new ValidationError([`id: ${bad.slice(0, 3).join(', ')} is not an item id`]);
      if (ids.length === 0) throw new ValidationError(['id: select at least one item, or apply the action to everything matching the filter']);
      batch = bulk.start(action as ItemAction, c.var.session.actor, { ids });
    }
    return c.redirect(`${c.var.base}/items/bulk/${batch.id}`, 303);
  });
  app.get('/items/bulk/:id', (c) => {
    const b = bulk.get(c.req.param('id'));
    if (!b) throw new NotFoundError('no such bulk action here (batches are kept in the memory of the replica that ran them)');
    return render(c, `Bulk ${b.action}`, '/items', batchPage(c.var.view, b), b.finished ? {} : { refreshSeconds: 1 });
  });
  app.post('/items/:id/:action', async (c) => {
    need(c, 'operator');
    const id = positiveId(c.req.param('id'), 'item id');
    const action = c.req.param('action');
    if (!(ITEM_ACTIONS as readonly string[]).includes(action)) throw new ValidationError([`action: "${action}" is not one of ${ITEM_ACTIONS.join(', ')}`]);
    const outcome = await applyItemAction(store, id, action as ItemAction, c.var.session.actor, clock());
    if (!outcome.ok) throw new ConflictError(outcome.conflict);
    return c.redirect(back(c, `${c.var.base}/items`), 303);
  });

  registerJobRoutes(app, { store, clock, logger });

  registerAdminRoutes(app, deps, { clock, offlineAfterMs: deps.offlineAfterMs ?? DEFAULT_OFFLINE_AFTER_MS, need, render });

  function messagePage(c: Context<Env>, title: string, message: string): Html {
    const body = html`<h1>${title}</h1><p class="err" role="alert">${message}</p><p><a href="${c.var.base}">Back to the overview</a></p>`;
    return c.var.view ? page(c.var.view, { title, section: '', body }) : html`<!doctype html><title>${title}</title><p>${message}</p>`;
  }

  return { app, live, bulk };
}

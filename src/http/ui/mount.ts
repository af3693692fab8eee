/**
 * Mounting the dashboard on the operator API's app: the same tokens sign in (HTTP_TOKEN as the
 * bootstrap admin, API tokens with their role), and /ui is left to the dashboard's own session
 * check instead of the API's bearer check.
 */
import type { MiddlewareHandler } from 'hono';
import { tokenActor } from '../../audit/audit-log.js';
import { authenticateApiToken, isApiTokenLive } from '../../auth/tokens.js';
import type { Store } from '../../db/open.js';
import type { Logger } from '../../log.js';
import { BOOTSTRAP_ACTOR, bearerMatches } from '../auth.js';
import type { ApiApp, AppEnv } from '../context.js';
import { createUiApp, type UiApp } from './app.js';
import type { UiDeps } from './deps.js';

export const UI_MOUNT_PATH = '/ui';

/** The dashboard's token check: the operator API's tokens and roles. */
export function uiTokenCheck(store: Store, bootstrapToken: string | undefined, clock: () => number): UiDeps['authenticate'] {
  return async (token) => {
    if (bootstrapToken !== undefined && bearerMatches(`Bearer ${token}`, bootstrapToken)) return { actor: BOOTSTRAP_ACTOR, role: 'admin' };
    const found = await authenticateApiToken(store, token, { now: clock() });
    return found ? { actor: tokenActor(found.name), role: found.role } : undefined;
  };
}

/**
 * Why a dashboard session's credential no longer holds, or undefined while it does: a session
 * signed in with HTTP_TOKEN needs the current HTTP_TOKEN; one signed in with an API token needs
 * that token (by name: names are never reused) live and with the same role.
 */
export function uiCredentialCheck(store: Store, bootstrapToken: string | undefined): NonNullable<UiDeps['credentialGone']> {
  return async (session) => {
    if (session.actor === BOOTSTRAP_ACTOR && bootstrapToken !== undefined && session.signedInWith(bootstrapToken)) return undefined;
    const name = session.actor.startsWith('token:') ? session.actor.slice('token:'.length) : undefined;
    if (name !== undefined && (await isApiTokenLive(store, name, session.role))) return undefined;
    return session.actor === BOOTSTRAP_ACTOR ? 'HTTP_TOKEN changed' : 'token revoked';
  };
}

/** Runs `inner` (the API's bearer check) for everything except the dashboard's paths. */
export function exceptDashboard(inner: MiddlewareHandler<AppEnv>): MiddlewareHandler<AppEnv> {
  return (c, next) => (c.req.path === UI_MOUNT_PATH || c.req.path.startsWith(`${UI_MOUNT_PATH}/`) ? next() : inner(c, next));
}

export function mountDashboard(
  app: ApiApp,
  deps: {
    store: Store;
    logger: Logger;
    clock: () => number;
    bootstrapToken: string | undefined;
    basePath?: string | undefined;
    serviceAllow?: ReadonlySet<string> | undefined;
    offlineAfterMs?: number | undefined;
  },
): UiApp {
  const ui = createUiApp({
    store: deps.store,
    logger: deps.logger,
    clock: deps.clock,
    authenticate: uiTokenCheck(deps.store, deps.bootstrapToken, deps.clock),
    credentialGone: uiCredentialCheck(deps.store, deps.bootstrapToken),
    ...(deps.serviceAllow ? { serviceAllow: deps.serviceAllow } : {}),
    ...(deps.offlineAfterMs !== undefined ? { offlineAfterMs: deps.offlineAfterMs } : {}),
    mountPath: UI_MOUNT_PATH,
    ...(deps.basePath ? { basePath: deps.basePath } : {}),
  });
  app.route(UI_MOUNT_PATH, ui.app as never);
  return ui;
}

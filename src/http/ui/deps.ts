/** What the dashboard needs from the daemon, passed in so the sub-app can be mounted anywhere (and tested alone). */
import type { Store } from '../../db/open.js';
import type { Logger } from '../../log.js';

import { ROLES, roleAtLeast, type Role } from '../../auth/roles.js';

export { ROLES, roleAtLeast, type Role };

/** Who a token (and the session it opened) acts as. */
export interface UiPrincipal {
  /** As the audit log records it, e.g. `token:alice`. */
  actor: string;
  role: Role;
}

export interface UiDeps {
  store: Store;
  logger?: Logger;
  /** Epoch ms; tests pass a fake clock. */
  clock?: () => number;
  /** The operator API's token check: a principal, or undefined for an unknown or revoked token. */
  authenticate(token: string): Promise<UiPrincipal | undefined> | UiPrincipal | undefined;
  /**
   * The public path the dashboard is served under, when a reverse proxy rewrites it (UI_BASE_PATH).
   * Unset: `X-Forwarded-Prefix` (if sent) followed by the mount path.
   */
  basePath?: string;
  /** Where the sub-app is mounted on the main app (default `/ui`). */
  mountPath?: string;
  /** How often the shared live snapshot is recomputed while anyone watches (default 1000 ms). */
  liveIntervalMs?: number;
  /** When a device counts as offline (OFFLINE_AFTER_SECONDS; default 10 minutes). */
  offlineAfterMs?: number;
  /** Session lifetime from sign-in (default 12 h). */
  sessionTtlMs?: number;
  /** A session ends after this long without a request (default 2 h). */
  sessionIdleMs?: number;
  /**
   * Checked on every request: why a session's credential no longer holds (its API token revoked,
   * HTTP_TOKEN changed), or undefined while it does. The session then ends. Unset: never.
   */
  credentialGone?(session: UiPrincipal & { signedInWith(token: string): boolean }): Promise<string | undefined> | string | undefined;
  /**
   * SERVICE_ACTION_ALLOW as this server knows it: the services the Services page offers actions
   * for. Unset or empty: no service actions from the dashboard.
   */
  serviceAllow?: ReadonlySet<string>;
}

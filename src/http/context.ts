/**
 * What every request handler gets from the context (`c.get(...)` / `c.var`): the store, the
 * logger, the clock, and who is asking (set by the authentication middleware, src/http/auth.ts).
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { Actor } from '../audit/audit-log.js';
import type { Role } from '../auth/roles.js';
import type { Store } from '../db/open.js';
import type { Logger } from '../log.js';

export interface ApiVariables {
  store: Store;
  logger: Logger;
  /** Epoch ms; tests pass a fake clock. */
  clock: () => number;
  /** `token:<name>`, `token:bootstrap` (HTTP_TOKEN) or `http:local` (loopback, no token configured). */
  actor: Actor;
  role: Role;
  /** The api_tokens name, or null for the bootstrap token and for local access. */
  tokenName: string | null;
  /** SERVICE_ACTION_ALLOW when the server knows it (the scheduler); undefined: the consumer decides. */
  serviceAllow: ReadonlySet<string> | undefined;
}

export interface AppEnv {
  Variables: ApiVariables;
}

/** The app every route module registers on. */
export type ApiApp = OpenAPIHono<AppEnv>;
export type ApiContext = Context<AppEnv>;

/** The actor to pass to domain functions (and so to recordAudit). */
export const actorOf = (c: ApiContext): Actor => c.get('actor');

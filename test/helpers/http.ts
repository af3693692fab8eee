/**
 * HTTP API test bed: a server on port 0 over a backend context, one API token per role, and
 * requests made as a role.
 *
 *   const api = useApiServer(ctx);                  // inside describeBackends: starts/stops it
 *   const r = await api.request('/api/things', { role: 'operator', method: 'POST', json: {...} });
 *   expect(r.status).toBe(201); r.json …
 *   await api.request('/api/things', { role: null }) // no Authorization header
 *
 * The tokens live in api_tokens: after `ctx.truncateAll()`, call `await api.resetTokens()`
 * (an empty table on a loopback server would otherwise let anonymous requests in as http:local).
 */
import { afterAll, beforeAll } from 'vitest';
import { createApiToken } from '../../src/auth/tokens.js';
import { ROLES, type Role } from '../../src/auth/roles.js';
import { startHttpServer, type HttpServer, type HttpServerOptions } from '../../src/http/index.js';
import { silentLogger } from '../../src/log.js';
import type { BackendContext } from './backends.js';

/** A fixed far-future clock for API tests (2027-01-15). */
export const API_T0 = 1_800_000_000_000;

export interface ApiReply {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

export interface ApiRequest {
  method?: string;
  /** Send this role's token; null: no Authorization header. Default 'admin'. */
  role?: Role | null;
  /** Send this exact token instead (wins over role). */
  token?: string;
  /** A JSON body (sets Content-Type: application/json). */
  json?: unknown;
  /** A raw body (set the content type yourself in headers). */
  body?: string;
  headers?: Record<string, string>;
}

export interface ApiTestServer {
  readonly url: string;
  readonly server: HttpServer;
  /** The plaintext token of each role (names `test-viewer`, `test-operator`, `test-admin`). */
  readonly tokens: Record<Role, string>;
  request(path: string, init?: ApiRequest): Promise<ApiReply>;
  /** Recreates the three tokens (after ctx.truncateAll()). */
  resetTokens(): Promise<void>;
}

/** The actor the helper creates tokens as; their audit rows are removed so tests see only their own. */
const HELPER_ACTOR = 'test:helper';

/** Creates one live token of this role (leaving no audit row); returns its plaintext. */
export async function createTestToken(ctx: BackendContext, role: Role, name = `test-${role}`): Promise<string> {
  const { token } = await createApiToken(ctx.store, { name, role }, HELPER_ACTOR, { now: API_T0 });
  await ctx.db.deleteFrom('audit_log').where('actor', '=', HELPER_ACTOR).execute();
  return token;
}

/** A request against any base URL (the token given as such). */
export async function apiRequest(baseUrl: string, path: string, init: Omit<ApiRequest, 'role'> = {}): Promise<ApiReply> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.token !== undefined) headers.authorization = `Bearer ${init.token}`;
  let body: string | undefined = init.body;
  if (init.json !== undefined) {
    body = JSON.stringify(init.json);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(`${baseUrl}${path}`, { method: init.method ?? (body !== undefined ? 'POST' : 'GET'), headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  let json: unknown;
  if (text !== '' && (res.headers.get('content-type') ?? '').startsWith('application/json')) json = JSON.parse(text);
  return { status: res.status, headers: res.headers, text, json };
}

/** Starts a server with role tokens for the enclosing describe block (beforeAll/afterAll). */
export function useApiServer(ctx: BackendContext, options: Partial<Omit<HttpServerOptions, 'store'>> = {}): ApiTestServer {
  let server: HttpServer | undefined;
  const tokens = {} as Record<Role, string>;
  const resetTokens = async () => {
    await ctx.db.deleteFrom('api_tokens').where('name', 'in', ROLES.map((r) => `test-${r}`)).execute();
    for (const role of ROLES) tokens[role] = await createTestToken(ctx, role);
  };
  beforeAll(async () => {
    await resetTokens();
    server = await startHttpServer({
      logger: silentLogger,
      port: 0,
      status: { lastTickAt: API_T0, tickIntervalMs: 1000 },
      clock: () => API_T0,
      ...options,
      store: ctx.store,
    });
  });
  afterAll(() => server?.close());
  const started = (): HttpServer => {
    if (!server) throw new Error('useApiServer: the server is used outside a test (before beforeAll ran)');
    return server;
  };
  return {
    get url() {
      return started().url;
    },
    get server() {
      return started();
    },
    tokens,
    resetTokens,
    request(path, init = {}) {
      const role = init.role === undefined ? 'admin' : init.role;
      const token = init.token ?? (role === null ? undefined : tokens[role]);
      return apiRequest(started().url, path, { ...init, ...(token !== undefined ? { token } : {}) });
    },
  };
}

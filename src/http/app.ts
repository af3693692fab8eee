/**
 * The HTTP application: Hono with @hono/zod-openapi. Middleware, in order: request context
 * (store, logger, clock) and response headers; authentication (src/http/auth.ts); a body size
 * limit on /api. Then every route module registers its routes (add yours to ROUTE_MODULES), the
 * OpenAPI document is served at /api/openapi.json, and unknown routes / wrong methods / thrown
 * errors become the one JSON error shape (src/http/errors.ts).
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import type { CredentialLock } from '../credentials/lock.js';
import type { Store } from '../db/open.js';
import type { Logger } from '../log.js';
import { authenticate } from './auth.js';
import type { ApiApp, AppEnv } from './context.js';
import { errorResponse, handleError, validationHook } from './errors.js';
import { registerHealthRoute } from './health.js';
import type { JobyardMetrics } from './metrics.js';
import { registerAuditRoutes } from './routes/audit.js';
import { registerDeviceRoutes } from './routes/devices.js';
import { registerFilterRoutes } from './routes/filters.js';
import { registerCredentialRoutes } from './routes/credentials.js';
import { registerJobActionRoutes } from './routes/job-actions.js';
import { registerJobRoutes } from './routes/jobs.js';
import { registerMetricsRoutes } from './routes/metrics.js';
import { registerOnboardingRoutes } from './routes/onboarding.js';
import { registerRunReadRoutes } from './routes/runs.js';
import { registerServerRoutes } from './routes/server.js';
import { registerServiceRoutes } from './routes/services.js';
import { registerSiteRoutes } from './routes/sites.js';
import { registerTokenRoutes } from './routes/tokens.js';
import { registerWorkItemActionRoutes } from './routes/work-item-actions.js';
import { registerWorkItemReadRoutes } from './routes/work-items.js';
import type { TickStatusSource } from './tick-status.js';
import { exceptDashboard, mountDashboard } from './ui/mount.js';

/** Request bodies larger than this are refused with 413 (1 MiB). */
export const DEFAULT_BODY_LIMIT_BYTES = 1024 * 1024;
export const OPENAPI_PATH = '/api/openapi.json';
/** Routes that answer without a token (orchestrator probes). */
export const OPEN_PATHS: ReadonlySet<string> = new Set(['/healthz']);

export interface AppDeps {
  store: Store;
  logger: Logger;
  clock: () => number;
  /** When a device counts as offline (ms since last seen); default 10 min, as the scheduler's. */
  offlineAfterMs?: number;
  status: TickStatusSource;
  metrics: JobyardMetrics;
  /** HTTP_TOKEN (bootstrap admin token), or undefined. */
  bootstrapToken: string | undefined;
  /** Accept unauthenticated requests as `http:local` while no token is configured (loopback servers). */
  allowLocal: boolean;
  bodyLimitBytes?: number;
  healthDbTimeoutMs?: number;
  /** SERVICE_ACTION_ALLOW, to refuse service actions up front (the consumer checks it anyway). */
  serviceAllow?: ReadonlySet<string>;
  /** The daemon's credentials lock, for the credentials routes (unlock, rotate-key, writes). */
  credentialLock?: CredentialLock;
  /** UI_BASE_PATH: the dashboard's public path behind a reverse proxy (default: X-Forwarded-Prefix + /ui). */
  uiBasePath?: string | undefined;
}

/** Route modules under /api: each registers its routes on the app. Add yours here. */
const ROUTE_MODULES: ReadonlyArray<(app: ApiApp) => void> = [
  registerServerRoutes,
  registerWorkItemReadRoutes,
  registerWorkItemActionRoutes,
  registerRunReadRoutes,
  registerOnboardingRoutes,
  registerJobActionRoutes,
  registerJobRoutes,
  registerServiceRoutes,
  registerTokenRoutes,
  registerAuditRoutes,
  registerSiteRoutes,
  registerDeviceRoutes,
  registerFilterRoutes,
  registerCredentialRoutes,
];

export function createApp(deps: AppDeps): ApiApp {
  const app = new OpenAPIHono<AppEnv>({ strict: false, defaultHook: validationHook });
  const maxSize = deps.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES;

  app.use('*', async (c, next) => {
    c.set('store', deps.store);
    c.set('logger', deps.logger);
    c.set('clock', deps.clock);
    c.set('offlineAfterMs', deps.offlineAfterMs ?? 600_000);
    c.set('serviceAllow', deps.serviceAllow);
    c.set('credentialLock', deps.credentialLock);
    c.header('Cache-Control', 'no-store');
    c.header('X-Content-Type-Options', 'nosniff');
    await next();
  });
  // The dashboard (/ui, src/http/ui) checks its own session cookie; tokens sign in to it.
  app.use('*', exceptDashboard(authenticate({ bootstrapToken: deps.bootstrapToken, allowLocal: deps.allowLocal, openPaths: OPEN_PATHS })));
  app.use(
    '/api/*',
    bodyLimit({ maxSize, onError: (c) => errorResponse(c as never, 413, { error: `request body is larger than the limit of ${maxSize} bytes` }) }),
  );

  registerHealthRoute(app, { status: deps.status, ...(deps.healthDbTimeoutMs !== undefined ? { dbTimeoutMs: deps.healthDbTimeoutMs } : {}) });
  registerMetricsRoutes(app, deps.metrics);
  for (const register of ROUTE_MODULES) register(app);
  mountDashboard(app, {
    store: deps.store,
    logger: deps.logger,
    clock: deps.clock,
    bootstrapToken: deps.bootstrapToken,
    basePath: deps.uiBasePath,
    serviceAllow: deps.serviceAllow,
    offlineAfterMs: deps.offlineAfterMs,
  });

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    description: 'An API token (`jobyard tokens create`) or HTTP_TOKEN. Roles: viewer < operator < admin.',
  });
  app.doc31(OPENAPI_PATH, {
    openapi: '3.1.0',
    info: { title: 'jobyard operator API', version: '1', description: 'Generated from the zod schemas the routes validate with.' },
  });

  app.notFound((c) => {
    const allow = allowedMethods(app, c.req.path);
    if (allow.length > 0) {
      return errorResponse(c, 405, { error: `method ${c.req.method} not allowed on ${c.req.path}; allowed: ${allow.join(', ')}` }, { Allow: allow.join(', ') });
    }
    return errorResponse(c, 404, { error: `no route for ${c.req.method} ${c.req.path}` });
  });
  app.onError(handleError);
  return app;
}

/** The methods routes of this path answer (HEAD with GET), for a 405's Allow header. */
function allowedMethods(app: ApiApp, path: string): string[] {
  const segments = path.split('/').filter((s) => s !== '');
  const allow = new Set<string>();
  for (const route of app.routes) {
    if (route.method === 'ALL') continue;
    const pattern = route.path.split('/').filter((s) => s !== '');
    if (pattern.length !== segments.length) continue;
    if (pattern.every((p, i) => p.startsWith(':') || p === segments[i])) {
      allow.add(route.method);
      if (route.method === 'GET') allow.add('HEAD');
    }
  }
  return [...allow];
}

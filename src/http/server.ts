/**
 * The status API and metrics over node:http. No framework: a dozen read-only GET routes, one
 * auth rule and JSON bodies need nothing a framework would add, and node:http keeps the
 * dependency list as it is.
 *
 * Every route except /healthz requires `Authorization: Bearer <token>` when a token is set.
 * Errors are JSON `{ "error": "..." }`: 400 bad parameter, 401 missing/wrong token, 404 unknown
 * route or id, 405 wrong method (with Allow), 500 anything unexpected (details only in the log).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Store } from '../db/open.js';
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import { bearerMatches } from './auth.js';
import { HttpError } from './errors.js';
import { healthRoutes } from './health.js';
import { toJsonText } from './json.js';
import { createMetrics, type JobyardMetrics } from './metrics.js';
import { Router, type RouteResult } from './router.js';
import { metricsRoutes } from './routes/metrics.js';
import { onboardingRoutes } from './routes/onboarding.js';
import { runRoutes } from './routes/runs.js';
import { serverRoutes } from './routes/server.js';
import { workItemRoutes } from './routes/work-items.js';
import type { TickStatusSource } from './tick-status.js';

export const DEFAULT_HTTP_HOST = '127.0.0.1';
export const DEFAULT_HTTP_PORT = 8787;

/** Routes that answer without a token (orchestrator probes). */
const OPEN_PATHS = new Set(['/healthz']);

export interface HttpServerOptions {
  store: Store;
  logger: Logger;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 8787; 0 picks a free port (tests). */
  port?: number;
  /** Bearer token for every route but /healthz; unset or empty: no authentication. */
  token?: string;
  /** The tick loop's state (an object, or a callback read per request). */
  status: TickStatusSource;
  /** Metrics the scheduler also reports to (tick durations, reclaims); created when absent. */
  metrics?: JobyardMetrics;
  /** Epoch ms; tests pass a fake clock. */
  clock?: () => number;
  /** /healthz gives the database this long to answer (default 2000 ms). */
  healthDbTimeoutMs?: number;
}

export interface HttpServer {
  /** `http://host:port`, with the port actually bound. */
  readonly url: string;
  readonly metrics: JobyardMetrics;
  close(): Promise<void>;
}

export async function startHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const { store, logger } = options;
  const host = options.host ?? DEFAULT_HTTP_HOST;
  const port = options.port ?? DEFAULT_HTTP_PORT;
  const token = options.token === '' ? undefined : options.token;
  const clock = options.clock ?? Date.now;
  const metrics = options.metrics ?? createMetrics({ store, clock, status: options.status });
  const router = new Router([
    ...healthRoutes({ status: options.status, ...(options.healthDbTimeoutMs !== undefined ? { dbTimeoutMs: options.healthDbTimeoutMs } : {}) }),
    ...metricsRoutes(metrics),
    ...serverRoutes(),
    ...workItemRoutes(),
    ...runRoutes(),
    ...onboardingRoutes(),
  ]);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = req.method ?? 'GET';
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      return send(res, { status: 400, json: { error: 'request target is not a valid URL' } });
    }
    const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname;
    try {
      if (token !== undefined && !OPEN_PATHS.has(path) && !bearerMatches(req.headers.authorization, token)) {
        const error = req.headers.authorization ? 'invalid bearer token' : 'authentication required: send Authorization: Bearer <token>';
        return send(res, { status: 401, json: { error }, headers: { 'WWW-Authenticate': 'Bearer realm="jobyard"' } });
      }
      const match = router.match(method, path);
      if (match.kind === 'not_found') {
        return send(res, { status: 404, json: { error: `no route for ${method} ${path}`, routes: router.paths } });
      }
      if (match.kind === 'method_not_allowed') {
        return send(res, {
          status: 405,
          json: { error: `method ${method} not allowed on ${path}; allowed: ${match.allow.join(', ')}` },
          headers: { Allow: match.allow.join(', ') },
        });
      }
      const result = await match.route.handler({ store, logger, clock, url, params: match.params });
      send(res, result);
    } catch (err) {
      if (err instanceof HttpError) return send(res, { status: err.status, json: { error: err.message }, headers: err.headers });
      logger.error({ err: describeError(err), method, path }, 'http request failed');
      send(res, { status: 500, json: { error: 'internal error; see the server log' } });
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      logger.error({ err: describeError(err) }, 'http response failed');
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;

  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (err) => logger.error({ err: describeError(err) }, 'http server error'));
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${shownHost}:${address.port}`;
  logger.info({ url, auth: token !== undefined ? 'bearer' : 'none' }, 'http server listening');

  let closed: Promise<void> | undefined;
  return {
    url,
    metrics,
    close() {
      closed ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeIdleConnections();
        // In-flight requests get a moment to finish; then keep-alive sockets are cut.
        setTimeout(() => server.closeAllConnections(), 2000).unref();
      });
      return closed;
    },
  };
}

function send(res: ServerResponse, result: RouteResult): void {
  const headers: Record<string, string> = {
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    ...result.headers,
  };
  let body: string;
  if ('text' in result) {
    headers['Content-Type'] = result.contentType;
    body = result.text;
  } else {
    headers['Content-Type'] = 'application/json; charset=utf-8';
    body = toJsonText(result.json);
  }
  headers['Content-Length'] = String(Buffer.byteLength(body));
  res.writeHead(result.status, headers);
  res.end(body);
}

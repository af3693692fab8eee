/**
 * Starts the HTTP API (src/http/app.ts) on node:http through @hono/node-server.
 *
 * Refuses to start on a non-loopback HTTP_HOST while no token is configured (no HTTP_TOKEN and
 * no live api_tokens row): such a server would accept anyone's writes. On loopback with no token
 * it serves unauthenticated requests as `http:local` and logs one warning.
 */
import { createAdaptorServer } from '@hono/node-server';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hasLiveApiToken } from '../auth/tokens.js';
import type { CredentialLock } from '../credentials/lock.js';
import type { Store } from '../db/open.js';
import { describeError, UserError } from '../errors.js';
import type { Logger } from '../log.js';
import { createApp } from './app.js';
import { createMetrics, type JobyardMetrics } from './metrics.js';
import type { TickStatusSource } from './tick-status.js';

export const DEFAULT_HTTP_HOST = '127.0.0.1';
export const DEFAULT_HTTP_PORT = 8787;

export interface HttpServerOptions {
  store: Store;
  logger: Logger;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 8787; 0 picks a free port (tests). */
  port?: number;
  /** HTTP_TOKEN: a bootstrap admin token (actor `token:bootstrap`); unset or empty: none. */
  token?: string;
  /** The tick loop's state (an object, or a callback read per request). */
  status: TickStatusSource;
  /** Metrics the scheduler also reports to (tick durations, reclaims); created when absent. */
  metrics?: JobyardMetrics;
  /** Epoch ms; tests pass a fake clock. */
  clock?: () => number;
  /** OFFLINE_AFTER_SECONDS in ms: when devices show as offline, as the scheduler judges them (default 10 min). */
  offlineAfterMs?: number;
  /** /healthz gives the database this long to answer (default 2000 ms). */
  healthDbTimeoutMs?: number;
  /** Request bodies over this many bytes are refused with 413 (default 1 MiB). */
  bodyLimitBytes?: number;
  /** SERVICE_ACTION_ALLOW: service actions for other services are refused with 400 (unset: left to the consumer). */
  serviceAllow?: ReadonlySet<string>;
  /** The daemon's credentials lock (the credentials routes unlock and use it). */
  credentialLock?: CredentialLock;
  /** UI_BASE_PATH for the dashboard at /ui. */
  uiBasePath?: string | undefined;
}

export interface HttpServer {
  /** `http://host:port`, with the port actually bound. */
  readonly url: string;
  readonly metrics: JobyardMetrics;
  close(): Promise<void>;
}

/** True for addresses only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || /^::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/**
 * Throws the refusal (a UserError) when `host` is not loopback and no token is configured;
 * returns whether a live API token exists. The scheduler calls it before it starts anything.
 */
export async function checkHttpExposure(store: Store, host: string, token: string | undefined): Promise<boolean> {
  const anyApiToken = await hasLiveApiToken(store);
  if (token === undefined && !anyApiToken && !isLoopbackHost(host)) {
    throw new UserError(
      `refusing to serve HTTP on ${host}: it is not a loopback address and no token is configured, so anyone could use the API; ` +
        'set HTTP_TOKEN, or create one with `jobyard tokens create --role admin --name <name>`, or set HTTP_HOST=127.0.0.1',
    );
  }
  return anyApiToken;
}

export async function startHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const { store, logger } = options;
  const host = options.host ?? DEFAULT_HTTP_HOST;
  const port = options.port ?? DEFAULT_HTTP_PORT;
  const token = options.token === '' ? undefined : options.token;
  const clock = options.clock ?? (() => store.clock.now());
  const loopback = isLoopbackHost(host);
  const anyApiToken = await checkHttpExposure(store, host, token);
  if (token === undefined && !anyApiToken) {
    logger.warn({ host }, 'http: no token configured; requests on this loopback address are accepted without one (as http:local) until a token exists');
  }
  const metrics = options.metrics ?? createMetrics({ store, clock, status: options.status });
  const app = createApp({
    store,
    logger,
    clock,
    ...(options.offlineAfterMs !== undefined ? { offlineAfterMs: options.offlineAfterMs } : {}),
    status: options.status,
    metrics,
    bootstrapToken: token,
    allowLocal: loopback,
    ...(options.bodyLimitBytes !== undefined ? { bodyLimitBytes: options.bodyLimitBytes } : {}),
    ...(options.serviceAllow !== undefined ? { serviceAllow: options.serviceAllow } : {}),
    ...(options.credentialLock !== undefined ? { credentialLock: options.credentialLock } : {}),
    uiBasePath: options.uiBasePath,
    ...(options.healthDbTimeoutMs !== undefined ? { healthDbTimeoutMs: options.healthDbTimeoutMs } : {}),
  });

  const server = createAdaptorServer({ fetch: app.fetch }) as Server;
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
  logger.info({ url, auth: token !== undefined || anyApiToken ? 'bearer' : 'none (loopback)' }, 'http server listening');

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

/** The HTTP API (Hono; see app.ts) and Prometheus metrics. */
export { checkHttpExposure, isLoopbackHost, startHttpServer, DEFAULT_HTTP_HOST, DEFAULT_HTTP_PORT, type HttpServer, type HttpServerOptions } from './server.js';
export { createMetrics, JobyardMetrics, type MetricsOptions, type SchedulerMetrics } from './metrics.js';
export type { TickStatus, TickStatusSource } from './tick-status.js';
export { STALE_TICK_INTERVALS } from './health.js';

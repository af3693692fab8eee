/** GET /metrics — Prometheus text exposition of this server's registry (see ../metrics.ts); viewer. */
import { describeError } from '../../errors.js';
import { requireRole } from '../auth.js';
import type { ApiApp } from '../context.js';
import { badRequest } from '../errors.js';
import type { JobyardMetrics } from '../metrics.js';

export function registerMetricsRoutes(app: ApiApp, metrics: JobyardMetrics): void {
  // Not under /api and not JSON: a plain route, outside the OpenAPI document.
  app.get('/metrics', requireRole('viewer'), async (c) => {
    const first = new URL(c.req.url).searchParams.keys().next();
    if (!first.done) throw badRequest(`unknown query parameter "${first.value}"; this route takes no query parameters`);
    try {
      return c.body(await metrics.render(), 200, { 'Content-Type': metrics.contentType });
    } catch (err) {
      c.get('logger').warn({ err: describeError(err) }, 'metrics scrape failed');
      return c.json({ error: `metrics unavailable: ${describeError(err)}` }, 503);
    }
  });
}

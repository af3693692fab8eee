/** GET /metrics — Prometheus text exposition of this server's registry (see ../metrics.ts). */
import { describeError } from '../../errors.js';
import type { JobyardMetrics } from '../metrics.js';
import { QueryParams } from '../params.js';
import type { Route } from '../router.js';

export function metricsRoutes(metrics: JobyardMetrics): Route[] {
  return [
    {
      method: 'GET',
      path: '/metrics',
      async handler({ url, logger }) {
        new QueryParams(url.searchParams, []);
        try {
          return { status: 200, text: await metrics.render(), contentType: metrics.contentType };
        } catch (err) {
          logger.warn({ err: describeError(err) }, 'metrics scrape failed');
          return { status: 503, json: { error: `metrics unavailable: ${describeError(err)}` } };
        }
      },
    },
  ];
}

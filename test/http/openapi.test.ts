/**
 * The OpenAPI document at /api/openapi.json is generated from the routes' zod schemas: it is a
 * valid OpenAPI 3.1 document, declares bearer security, notes each operation's role, and covers
 * every route the app serves under /api — including routes added later by other modules.
 */
import { Validator } from '@seriousme/openapi-schema-validator';
import { expect, it } from 'vitest';
import { createApp, OPENAPI_PATH } from '../../src/http/app.js';
import { createMetrics } from '../../src/http/metrics.js';
import { silentLogger } from '../../src/log.js';
import { describeBackends } from '../helpers/backends.js';
import { API_T0, useApiServer } from '../helpers/http.js';

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

describeBackends('OpenAPI document', (ctx) => {
  const api = useApiServer(ctx);

  it('is a valid OpenAPI 3.1 document with a bearer security scheme', async () => {
    const r = await api.request(OPENAPI_PATH, { role: 'viewer' });
    expect(r.status).toBe(200);
    expect(r.json.openapi).toBe('3.1.0');
    const result = await new Validator().validate(r.json);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(r.json.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect((await api.request(OPENAPI_PATH, { role: null })).status).toBe(401);
  });

  it('documents every route the app serves under /api, each with its role and bearer security', async () => {
    const doc = (await api.request(OPENAPI_PATH)).json;
    const documented = new Set<string>();
    for (const [path, item] of Object.entries<Record<string, any>>(doc.paths)) {
      for (const method of METHODS) {
        const op = item[method];
        if (!op) continue;
        documented.add(`${method.toUpperCase()} ${path.replace(/\{([^}]+)\}/g, ':$1')}`);
        expect({ path, method, role: op['x-jobyard-role'] }).toEqual({ path, method, role: expect.stringMatching(/^(viewer|operator|admin)$/) });
        expect(op.description).toMatch(/Requires role: (viewer|operator|admin)/);
        expect(op.security).toEqual([{ bearerAuth: [] }]);
      }
    }
    const app = createApp({
      store: ctx.store,
      logger: silentLogger,
      clock: () => API_T0,
      status: { lastTickAt: API_T0, tickIntervalMs: 1000 },
      metrics: createMetrics({ store: ctx.store }),
      bootstrapToken: undefined,
      allowLocal: true,
    });
    const served = new Set(
      app.routes.filter((r) => r.method !== 'ALL' && r.path.startsWith('/api/') && r.path !== OPENAPI_PATH).map((r) => `${r.method} ${r.path}`),
    );
    expect(served.size).toBeGreaterThan(5);
    expect([...served].filter((r) => !documented.has(r))).toEqual([]);
    expect([...documented].filter((r) => !served.has(r))).toEqual([]);
  });
});

/**
 * Authentication and roles over HTTP, on both backends: API tokens (stored hashed, shown once,
 * revocable, last use recorded at most once a minute), the bootstrap HTTP_TOKEN, loopback access
 * without any token, the refusal to serve a non-loopback address without one, and role checks.
 */
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiToken, hashToken, LAST_USED_GRANULARITY_MS } from '../../src/auth/tokens.js';
import { startHttpServer } from '../../src/http/index.js';
import { silentLogger, type Logger } from '../../src/log.js';
import { describeBackends } from '../helpers/backends.js';
import { API_T0, apiRequest, useApiServer } from '../helpers/http.js';

describeBackends('HTTP auth and roles', (ctx) => {
  const api = useApiServer(ctx);

  it('stores only a SHA-256 of each token, and the token authenticates', async () => {
    const rows = await ctx.db.selectFrom('api_tokens').selectAll().execute();
    expect(rows.map((r) => r.name).sort()).toEqual(['test-admin', 'test-operator', 'test-viewer']);
    for (const row of rows) {
      const plain = api.tokens[row.role as 'viewer'];
      expect(row.token_hash).toBe(hashToken(plain));
      expect(JSON.stringify(row)).not.toContain(plain);
    }
    expect((await api.request('/api/work-items', { role: 'viewer' })).status).toBe(200);
  });

  it('refuses a missing, wrong or revoked token with 401 and a Bearer challenge', async () => {
    const none = await api.request('/api/work-items', { role: null });
    expect(none.status).toBe(401);
    expect(none.json).toEqual({ error: 'authentication required: send Authorization: Bearer <token>' });
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect((await api.request('/api/work-items', { token: `${api.tokens.viewer}x` })).json).toEqual({ error: 'invalid bearer token' });
    const { token } = await createApiToken(ctx.store, { name: 'short-lived', role: 'admin' }, 'test');
    expect((await api.request('/api/work-items', { token })).status).toBe(200);
    await api.request('/api/tokens/short-lived/revoke', { role: 'admin', method: 'POST' });
    expect((await api.request('/api/work-items', { token })).status).toBe(401);
    expect((await api.request('/healthz', { role: null })).status).toBe(200);
  });

  it('lets a viewer read but not write, an operator write but not manage tokens, services or the audit log', async () => {
    const auditBefore = (await ctx.db.selectFrom('audit_log').select('id').execute()).length;
    const writes = [
      ['/api/work-items', { kind: 'scheduled_run', site_id: 1, payload: {} }],
      ['/api/work-items/1/retry', undefined],
      ['/api/work-items/1/cancel', undefined],
      ['/api/jobs/1/run-now', undefined],
      ['/api/jobs/1/enable', undefined],
      ['/api/jobs/1/disable', undefined],
    ] as const;
    for (const [path, json] of writes) {
      const r = await api.request(path, { role: 'viewer', method: 'POST', ...(json ? { json } : {}) });
      expect({ path, status: r.status, error: r.json.error }).toEqual({ path, status: 403, error: expect.stringMatching(/needs the operator role/) });
    }
    const adminOnly = [
      ['GET', '/api/tokens'],
      ['POST', '/api/tokens'],
      ['POST', '/api/tokens/test-viewer/revoke'],
      ['GET', '/api/services'],
      ['POST', '/api/services/proj%2Fapi/actions'],
      ['GET', '/api/audit'],
    ] as const;
    for (const [method, path] of adminOnly) {
      for (const role of ['viewer', 'operator'] as const) {
        const r = await api.request(path, { role, method, ...(method === 'POST' ? { json: {} } : {}) });
        expect({ path, role, status: r.status }).toEqual({ path, role, status: 403 });
      }
    }
    // Checked before validation: a forbidden request learns nothing about its body.
    expect((await api.request('/api/tokens', { role: 'operator', method: 'POST', json: { name: 1 } })).status).toBe(403);
    expect(await ctx.db.selectFrom('audit_log').select('id').execute()).toHaveLength(auditBefore);
  });

  it('records last use at most once a minute', async () => {
    let now = API_T0 + 10 * LAST_USED_GRANULARITY_MS;
    const server = await startHttpServer({ store: ctx.store, logger: silentLogger, port: 0, status: { lastTickAt: now, tickIntervalMs: 1000 }, clock: () => now });
    try {
      const { token } = await createApiToken(ctx.store, { name: 'usage', role: 'viewer' }, 'test');
      const lastUsed = async () => (await ctx.db.selectFrom('api_tokens').select('last_used_at').where('name', '=', 'usage').executeTakeFirstOrThrow()).last_used_at;
      expect(await lastUsed()).toBeNull();
      await apiRequest(server.url, '/api/work-items', { token });
      expect(Number(await lastUsed())).toBe(now);
      const first = now;
      now += LAST_USED_GRANULARITY_MS - 1;
      await apiRequest(server.url, '/api/work-items', { token });
      expect(Number(await lastUsed())).toBe(first);
      now += 1;
      await apiRequest(server.url, '/api/work-items', { token });
      expect(Number(await lastUsed())).toBe(now);
    } finally {
      await server.close();
    }
  });

  describe('the bootstrap token and loopback access', () => {
    let tokensBefore: unknown[];
    beforeAll(async () => {
      tokensBefore = await ctx.db.selectFrom('api_tokens').selectAll().execute();
      await ctx.db.deleteFrom('api_tokens').execute();
    });
    afterAll(async () => {
      await ctx.db.deleteFrom('api_tokens').execute();
      await api.resetTokens();
      expect(tokensBefore.length).toBeGreaterThan(0);
    });

    const start = (options: { host?: string; token?: string; logger?: Logger } = {}) =>
      startHttpServer({ store: ctx.store, logger: silentLogger, port: 0, status: { lastTickAt: API_T0, tickIntervalMs: 1000 }, clock: () => API_T0, ...options });

    it('accepts HTTP_TOKEN as an admin (actor token:bootstrap)', async () => {
      const server = await start({ token: 'bootstrap-secret-1' });
      try {
        expect((await apiRequest(server.url, '/api/work-items')).status).toBe(401);
        expect((await apiRequest(server.url, '/api/tokens', { token: 'bootstrap-secret-1' })).status).toBe(200);
        const created = await apiRequest(server.url, '/api/tokens', { token: 'bootstrap-secret-1', json: { name: 'from-bootstrap', role: 'viewer' } });
        expect(created.status).toBe(201);
        const audit = await ctx.db.selectFrom('audit_log').selectAll().where('action', '=', 'token.create').where('object_id', '=', 'from-bootstrap').executeTakeFirstOrThrow();
        expect(audit.actor).toBe('token:bootstrap');
        await ctx.db.deleteFrom('api_tokens').execute();
      } finally {
        await server.close();
      }
    });

    it('on loopback without any token, accepts requests as http:local (with one warning) until a token exists', async () => {
      const warnings: string[] = [];
      const logger = pino({ level: 'warn' }, { write: (line: string) => warnings.push(JSON.parse(line).msg) }) as unknown as Logger;
      const server = await start({ logger });
      try {
        expect(warnings).toEqual([expect.stringMatching(/no token configured/)]);
        const created = await apiRequest(server.url, '/api/tokens', { json: { name: 'first', role: 'admin' } });
        expect(created.status).toBe(201);
        const audit = await ctx.db.selectFrom('audit_log').selectAll().where('object_id', '=', 'first').executeTakeFirstOrThrow();
        expect(audit.actor).toBe('http:local');
        // Now a token exists: every route but /healthz needs one.
        expect((await apiRequest(server.url, '/api/work-items')).status).toBe(401);
        expect((await apiRequest(server.url, '/healthz')).status).toBe(200);
        expect((await apiRequest(server.url, '/api/work-items', { token: created.json.token })).status).toBe(200);
        await ctx.db.deleteFrom('api_tokens').execute();
      } finally {
        await server.close();
      }
    });

    it('refuses to start on a non-loopback address without a token, saying why and how to fix it', async () => {
      await expect(start({ host: '0.0.0.0' })).rejects.toThrow(
        /^refusing to serve HTTP on 0\.0\.0\.0: it is not a loopback address and no token is configured.*set HTTP_TOKEN, or create one with `jobyard tokens create --role admin --name <name>`, or set HTTP_HOST=127\.0\.0\.1$/,
      );
      const withToken = await start({ host: '0.0.0.0', token: 'bootstrap-secret-2' });
      await withToken.close();
      await createApiToken(ctx.store, { name: 'lets-it-start', role: 'viewer' }, 'test');
      const withApiToken = await start({ host: '0.0.0.0' });
      try {
        // Reachable through loopback too, but never anonymously: the server is not a loopback one.
        const port = new URL(withApiToken.url).port;
        expect((await apiRequest(`http://127.0.0.1:${port}`, '/api/work-items')).status).toBe(401);
      } finally {
        await withApiToken.close();
        await ctx.db.deleteFrom('api_tokens').execute();
      }
    });

    it('answers 503, not 500 and never an open door, when the database cannot say whether a token exists', async () => {
      const store = ctx.open();
      const server = await startHttpServer({ store, logger: silentLogger, port: 0, status: { lastTickAt: API_T0, tickIntervalMs: 1000 }, clock: () => API_T0 });
      try {
        await store.close();
        const r = await apiRequest(server.url, '/api/work-items');
        expect(r.status).toBe(503);
        expect(r.json.error).toMatch(/^authentication unavailable: /);
      } finally {
        await server.close();
      }
    });
  });
});

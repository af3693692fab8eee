/** The dashboard mounted on the operator API's server: API tokens sign in, /api keeps its bearer check. */
import { expect, it } from 'vitest';
import { startHttpServer } from '../../src/http/server.js';
import { silentLogger } from '../../src/log.js';
import { describeBackends } from '../helpers/backends.js';
import { API_T0, createTestToken, useApiServer } from '../helpers/http.js';
import { UiClient } from './client.js';

describeBackends('dashboard on the API server', (ctx) => {
  const api = useApiServer(ctx, { token: 'bootstrap-secret-0123456789' });

  it('signs in with an API token (its role) or HTTP_TOKEN (admin), while /api still needs a bearer token', async () => {
    const viewer = new UiClient(api.url);
    expect((await viewer.signIn(api.tokens.viewer)).status).toBe(303);
    expect(await (await viewer.get('/ui')).text()).toContain('token:test-viewer (viewer)');
    const boot = new UiClient(api.url);
    await boot.signIn('bootstrap-secret-0123456789');
    expect(await (await boot.get('/ui')).text()).toContain('(admin)');
    expect((await new UiClient(api.url).signIn('nope')).status).toBe(401);
    expect((await fetch(`${api.url}/api/work-items`)).status).toBe(401);
  });

  it('ends the dashboard sessions of a token when the token is revoked (through the API, as `jobyard tokens revoke`)', async () => {
    const token = await createTestToken(ctx, 'operator', 'soon-revoked');
    const other = new UiClient(api.url);
    await other.signIn(api.tokens.viewer);
    const ui = new UiClient(api.url);
    await ui.signIn(token);
    expect((await ui.get('/ui')).status).toBe(200);
    const revoked = await fetch(`${api.url}/api/tokens/soon-revoked/revoke`, { method: 'POST', headers: { authorization: `Bearer ${api.tokens.admin}` } });
    expect(revoked.status).toBe(200);
    const after = await ui.get('/ui/items');
    expect(after.status).toBe(303);
    expect(after.headers.get('location')).toBe('/ui/signin');
    // The row is gone, with who and why in the audit log; another token's session stays.
    expect(await ctx.db.selectFrom('ui_sessions').select('actor').where('actor', '=', 'token:soon-revoked').execute()).toEqual([]);
    const ended = await ctx.db.selectFrom('audit_log').select(['action', 'summary_json']).where('actor', '=', 'token:soon-revoked').where('action', '=', 'session.delete').execute();
    expect(ended).toHaveLength(1);
    expect(ended[0]!.summary_json).toMatchObject({ reason: 'token revoked' });
    expect((await other.get('/ui')).status).toBe(200);
  });

  it('ends a session signed in with HTTP_TOKEN when the server runs with another HTTP_TOKEN', async () => {
    const start = (token: string) =>
      startHttpServer({ logger: silentLogger, port: 0, status: { lastTickAt: API_T0, tickIntervalMs: 1000 }, clock: () => API_T0, store: ctx.store, token });
    const first = await start('first-bootstrap-0123456789');
    const ui = new UiClient(first.url);
    try {
      expect((await ui.signIn('first-bootstrap-0123456789')).status).toBe(303);
      expect((await ui.get('/ui')).status).toBe(200);
    } finally {
      await first.close();
    }
    const same = await start('first-bootstrap-0123456789');
    try {
      // The same HTTP_TOKEN after a restart (or on another replica): the session holds.
      const again = new UiClient(same.url);
      again.cookie = ui.cookie;
      expect((await again.get('/ui')).status).toBe(200);
    } finally {
      await same.close();
    }
    const changed = await start('second-bootstrap-0123456789');
    try {
      const later = new UiClient(changed.url);
      later.cookie = ui.cookie;
      const res = await later.get('/ui');
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe('/ui/signin');
      const rows = await ctx.db.selectFrom('audit_log').select('summary_json').where('action', '=', 'session.delete').where('actor', '=', 'token:bootstrap').execute();
      expect(rows.map((r) => r.summary_json)).toContainEqual({ via: 'dashboard', reason: 'HTTP_TOKEN changed' });
    } finally {
      await changed.close();
    }
  });

  it('serves assets immutable under the API server too', async () => {
    const client = new UiClient(api.url);
    const page = await (await client.get('/ui/signin')).text();
    const css = /href="(\/ui\/assets\/[^"]+)"/.exec(page)![1]!;
    const res = await fetch(`${api.url}${css}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
  });
});

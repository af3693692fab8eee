/** The dashboard mounted on the operator API's server: API tokens sign in, /api keeps its bearer check. */
import { expect, it } from 'vitest';
import { describeBackends } from '../helpers/backends.js';
import { useApiServer } from '../helpers/http.js';
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

  it('serves assets immutable under the API server too', async () => {
    const client = new UiClient(api.url);
    const page = await (await client.get('/ui/signin')).text();
    const css = /href="(\/ui\/assets\/[^"]+)"/.exec(page)![1]!;
    const res = await fetch(`${api.url}${css}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
  });
});

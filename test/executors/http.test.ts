import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runHttp } from '../../src/executors/components/http.js';

const opts = { outputCapBytes: 64 * 1024, defaultTimeoutMs: 10_000 };
let server: http.Server;
let base = '';
const pending = new Set<http.ServerResponse>();

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/ok') return res.end('hello');
    if (url.pathname === '/fail') {
      res.statusCode = 503;
      return res.end('down for maintenance');
    }
    if (url.pathname === '/big') {
      res.setHeader('content-length', 200_000);
      return res.end('y'.repeat(200_000));
    }
    if (url.pathname === '/stream') {
      // No content-length: chunked, length unknown.
      res.write('z'.repeat(50_000));
      return res.end('z'.repeat(50_000));
    }
    if (url.pathname === '/echo') {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => res.end(JSON.stringify({ method: req.method, auth: req.headers['x-test'], type: req.headers['content-type'], body })));
      return;
    }
    if (url.pathname === '/slow') {
      pending.add(res); // never answered
      return;
    }
    res.statusCode = 404;
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const res of pending) res.destroy();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('http component', () => {
  it('records the status and body; 2xx is success', async () => {
    const ok = await runHttp({ url: `${base}/ok` }, opts);
    expect(ok).toMatchObject({ ok: true, status: 200, statusText: 'OK', body: 'hello', bodyTruncated: false, timedOut: false });
    const fail = await runHttp({ url: `${base}/fail` }, opts);
    expect(fail).toMatchObject({ ok: false, status: 503, body: 'down for maintenance' });
  });

  it('sends method, headers and a JSON body', async () => {
    const r = await runHttp({ url: `${base}/echo`, method: 'post', headers: { 'x-test': 'yes' }, body: { a: 1 } }, opts);
    expect(JSON.parse(r.body)).toEqual({ method: 'POST', auth: 'yes', type: 'application/json', body: '{"a":1}' });
    const text = await runHttp({ url: `${base}/echo`, method: 'PUT', body: 'raw', headers: { 'content-type': 'text/plain' } }, opts);
    expect(JSON.parse(text.body)).toMatchObject({ method: 'PUT', type: 'text/plain', body: 'raw' });
  });

  it('caps the body and says how much was left', async () => {
    const big = await runHttp({ url: `${base}/big` }, { ...opts, outputCapBytes: 1000 });
    expect(big).toMatchObject({ ok: true, body: 'y'.repeat(1000), bodyTruncated: true, bodyDroppedBytes: 199_000 });
    const stream = await runHttp({ url: `${base}/stream` }, { ...opts, outputCapBytes: 1000 });
    expect(stream).toMatchObject({ ok: true, bodyTruncated: true, bodyDroppedBytes: 0 });
    expect(stream.body).toHaveLength(1000);
  });

  it('times out, and stops when the signal aborts', async () => {
    const started = Date.now();
    const slow = await runHttp({ url: `${base}/slow`, timeout_seconds: 0.3 }, opts);
    expect(slow).toMatchObject({ ok: false, status: null, timedOut: true, error: 'timed out after 0.3 s' });
    expect(Date.now() - started).toBeLessThan(3000);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const aborted = await runHttp({ url: `${base}/slow` }, { ...opts, signal: ac.signal });
    expect(aborted).toMatchObject({ ok: false, aborted: true, timedOut: false });
  });

  it('fails an invalid header instead of throwing', async () => {
    const r = await runHttp({ url: `${base}/ok`, headers: { 'bad header': 'x' } }, opts);
    expect(r).toMatchObject({ ok: false, status: null });
    expect(r.error).toMatch(/header/i);
  });

  it('reports a connection failure readably', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const r = await runHttp({ url: `http://127.0.0.1:${port}/` }, opts);
    expect(r.ok).toBe(false);
    expect(r.error).toMatch(/ECONNREFUSED/);
  });
});

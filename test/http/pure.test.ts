/** The HTTP layer's pure parts: bearer comparison, parameter parsing, response serialisation. */
import { describe, expect, it } from 'vitest';
import { InvalidJson } from '../../src/db/dialect.js';
import { bearerMatches } from '../../src/http/auth.js';
import { toJsonText } from '../../src/http/json.js';
import { MAX_BIGINT_ID, MAX_INT_ID, QueryParams, pathId } from '../../src/http/params.js';
import { Router } from '../../src/http/router.js';

describe('bearerMatches', () => {
  it('accepts exactly the token', () => {
    expect(bearerMatches('Bearer abc123', 'abc123')).toBe(true);
    expect(bearerMatches('bearer abc123', 'abc123')).toBe(true);
    expect(bearerMatches('Bearer abc1234', 'abc123')).toBe(false);
    expect(bearerMatches('Bearer abc12', 'abc123')).toBe(false);
    expect(bearerMatches('abc123', 'abc123')).toBe(false);
    expect(bearerMatches('Basic abc123', 'abc123')).toBe(false);
    expect(bearerMatches(undefined, 'abc123')).toBe(false);
    expect(bearerMatches('Bearer ', 'abc123')).toBe(false);
  });
});

describe('QueryParams', () => {
  const q = (s: string, accepted: string[]) => new QueryParams(new URLSearchParams(s), accepted);

  it('parses integers with defaults and ranges', () => {
    expect(q('', ['limit']).int('limit', { min: 1, max: 10, default: 5 })).toBe(5);
    expect(q('limit=', ['limit']).int('limit', { min: 1, max: 10, default: 5 })).toBe(5);
    expect(q('limit=10', ['limit']).int('limit', { min: 1, max: 10, default: 5 })).toBe(10);
    expect(() => q('limit=11', ['limit']).int('limit', { min: 1, max: 10 })).toThrow('limit: 11 is out of range; expected an integer from 1 to 10');
    expect(() => q('limit=1e3', ['limit']).int('limit', { min: 1, max: 10 })).toThrow('limit: "1e3" is not accepted');
    expect(() => q('limit=99999999999999999999', ['limit']).int('limit', { min: 1, max: Number.MAX_SAFE_INTEGER })).toThrow('out of range');
  });

  it('refuses unknown and repeated parameters', () => {
    expect(() => q('x=1', ['a', 'b'])).toThrow('unknown query parameter "x"; accepted: a, b');
    expect(() => q('a=1&a=2', ['a'])).toThrow('a: given more than once');
  });

  it('parses comma-separated enumerations', () => {
    expect(q('status=queued,dead,queued', ['status']).oneOf('status', ['queued', 'dead'])).toEqual(['queued', 'dead']);
    expect(() => q('status=queued,nope', ['status']).oneOf('status', ['queued', 'dead'])).toThrow('status: "nope" is not accepted; expected one of queued, dead');
  });

  it('parses path ids up to the range of their column', () => {
    expect(pathId('id', '42', MAX_INT_ID)).toBe(42);
    expect(() => pathId('id', '4x', MAX_INT_ID)).toThrow('id: "4x" is not accepted');
    expect(() => pathId('id', '0', MAX_INT_ID)).toThrow('id: 0 is out of range');
    expect(pathId('id', '2147483647', MAX_INT_ID)).toBe(2147483647);
    expect(() => pathId('id', '2147483648', MAX_INT_ID)).toThrow('id: 2147483648 is out of range; expected an integer from 1 to 2147483647');
    expect(pathId('id', '2147483648', MAX_BIGINT_ID)).toBe(2147483648);
  });
});

describe('toJsonText', () => {
  it('redacts secret-named keys at any depth and shows corrupt JSON cells', () => {
    const text = toJsonText({ a: 1, password: 'p', nested: [{ apiKey: 'k', ok: 'v', client_secret: null }], bad_json: new InvalidJson('bad_json', '{oops') });
    expect(JSON.parse(text)).toEqual({ a: 1, password: '[redacted]', nested: [{ apiKey: '[redacted]', ok: 'v', client_secret: null }], bad_json: { invalid_json: '{oops' } });
  });
});

describe('Router', () => {
  const noop = async () => ({ status: 200, json: {} });
  const router = new Router([
    { method: 'GET', path: '/api/runs/:id', handler: noop },
    { method: 'GET', path: '/healthz', handler: noop },
  ]);

  it('matches parameters, refuses other methods and unknown paths', () => {
    expect(router.match('GET', '/api/runs/7')).toMatchObject({ kind: 'found', params: { id: '7' } });
    expect(router.match('HEAD', '/healthz')).toMatchObject({ kind: 'found' });
    expect(router.match('PUT', '/api/runs/7')).toEqual({ kind: 'method_not_allowed', allow: ['GET', 'HEAD'] });
    expect(router.match('GET', '/api/runs/7/x')).toEqual({ kind: 'not_found' });
    expect(router.match('GET', '/api/runs/%41')).toMatchObject({ kind: 'found', params: { id: 'A' } });
    expect(() => router.match('GET', '/api/runs/%E0%A4%A')).toThrow('is not valid percent-encoding');
  });
});

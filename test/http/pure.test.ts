/** The HTTP layer's pure parts: bearer comparison, parameter schemas, response serialisation, roles. */
import { describe, expect, it } from 'vitest';
import { z } from '@hono/zod-openapi';
import { roleAtLeast } from '../../src/auth/roles.js';
import { InvalidJson } from '../../src/db/dialect.js';
import { bearerMatches } from '../../src/http/auth.js';
import { formatZodIssues } from '../../src/http/errors.js';
import { toJsonText } from '../../src/http/json.js';
import { csvEnumQuery, idParam, intQuery, MAX_BIGINT_ID, MAX_INT_ID, querySchema } from '../../src/http/params.js';
import { isLoopbackHost } from '../../src/http/server.js';

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

describe('query and path schemas', () => {
  /** The parsed value, or the problems as the API reports them. */
  const parse = (schema: z.ZodType, input: unknown): unknown => {
    const r = schema.safeParse(input);
    return r.success ? r.data : { problems: formatZodIssues(r.error) };
  };
  const limit = querySchema({ limit: intQuery({ min: 1, max: 10, default: 5 }) });

  it('parses integers with defaults and ranges', () => {
    expect(parse(limit, {})).toEqual({ limit: 5 });
    expect(parse(limit, { limit: '' })).toEqual({ limit: 5 });
    expect(parse(limit, { limit: '10' })).toEqual({ limit: 10 });
    expect(parse(limit, { limit: '11' })).toEqual({ problems: ['limit: 11 is out of range; expected an integer from 1 to 10 (default 5)'] });
    expect(parse(limit, { limit: '1e3' })).toEqual({ problems: ['limit: "1e3" is not accepted; expected an integer from 1 to 10 (default 5)'] });
    expect(parse(querySchema({ n: intQuery({ min: 1, max: Number.MAX_SAFE_INTEGER }) }), { n: '99999999999999999999' })).toMatchObject({ problems: [expect.stringContaining('out of range')] });
  });

  it('refuses unknown and repeated parameters', () => {
    expect(parse(querySchema({ a: intQuery({ min: 1, max: 2 }), b: intQuery({ min: 1, max: 2 }) }), { x: '1' })).toEqual({ problems: ['unknown query parameter "x"; accepted: a, b'] });
    expect(parse(querySchema({}), { x: '1' })).toEqual({ problems: ['unknown query parameter "x"; this route takes no query parameters'] });
    expect(parse(limit, { limit: ['1', '2'] })).toEqual({ problems: ['limit: given more than once; pass it once'] });
  });

  it('parses comma-separated enumerations', () => {
    const status = querySchema({ status: csvEnumQuery(['queued', 'dead']) });
    expect(parse(status, { status: 'queued,dead,queued' })).toEqual({ status: ['queued', 'dead'] });
    expect(parse(status, { status: 'queued,nope' })).toEqual({ problems: ['status: "nope" is not accepted; expected one of queued, dead (comma-separated for several)'] });
  });

  it('parses path ids up to the range of their column', () => {
    const int = z.object({ id: idParam(MAX_INT_ID) });
    expect(parse(int, { id: '42' })).toEqual({ id: 42 });
    expect(parse(int, { id: '4x' })).toEqual({ problems: [expect.stringMatching(/^id: "4x" is not accepted/)] });
    expect(parse(int, { id: '0' })).toEqual({ problems: [expect.stringMatching(/^id: 0 is out of range/)] });
    expect(parse(int, { id: '2147483647' })).toEqual({ id: 2147483647 });
    expect(parse(int, { id: '2147483648' })).toEqual({ problems: ['id: 2147483648 is out of range; expected an integer from 1 to 2147483647'] });
    expect(parse(z.object({ id: idParam(MAX_BIGINT_ID) }), { id: '2147483648' })).toEqual({ id: 2147483648 });
  });

  it('says "is required" for a missing field and names nested fields by their path', () => {
    const body = z.object({ kind: z.string(), payload: z.object({ n: z.number() }) });
    expect(parse(body, { payload: { n: 'x' } })).toEqual({ problems: ['kind: is required', expect.stringMatching(/^payload\.n: /)] });
  });
});

describe('toJsonText', () => {
  it('redacts secret-named keys at any depth and shows corrupt JSON cells', () => {
    const text = toJsonText({ a: 1, password: 'p', nested: [{ apiKey: 'k', ok: 'v', client_secret: null }], bad_json: new InvalidJson('bad_json', '{oops') });
    expect(JSON.parse(text)).toEqual({ a: 1, password: '[redacted]', nested: [{ apiKey: '[redacted]', ok: 'v', client_secret: null }], bad_json: { invalid_json: '{oops' } });
  });
});

describe('roles and hosts', () => {
  it('orders roles viewer < operator < admin', () => {
    expect(roleAtLeast('admin', 'operator')).toBe(true);
    expect(roleAtLeast('operator', 'operator')).toBe(true);
    expect(roleAtLeast('viewer', 'operator')).toBe(false);
    expect(roleAtLeast('operator', 'admin')).toBe(false);
  });

  it('recognises loopback addresses', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]']) expect(isLoopbackHost(h)).toBe(true);
    for (const h of ['0.0.0.0', '::', '10.0.0.5', 'example.com', '128.0.0.1']) expect(isLoopbackHost(h)).toBe(false);
  });
});

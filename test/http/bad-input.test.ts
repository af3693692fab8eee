/**
 * The status API refuses bad input with a 400 JSON naming the parameter, on both backends, and
 * keeps serving afterwards: unknown kinds, and ids beyond their column's range (integer columns
 * hold up to 2147483647 on PostgreSQL, bigint ones are read up to Number.MAX_SAFE_INTEGER).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startHttpServer, type HttpServer } from '../../src/http/index.js';
import { silentLogger } from '../../src/log.js';
import { describeBackends } from '../helpers/backends.js';
import { expectError, request } from './helpers.js';

const T0 = 1_800_000_000_000;

describeBackends('HTTP API: bad input', (ctx) => {
  let server: HttpServer;
  const get = (path: string) => request(server.url, path);
  beforeAll(async () => {
    server = await startHttpServer({ store: ctx.store, logger: silentLogger, port: 0, status: { lastTickAt: T0, tickIntervalMs: 1000 }, clock: () => T0 });
  });
  afterAll(() => server?.close());

  it('refuses an unknown work kind, naming the accepted kinds', async () => {
    expectError(await get('/api/work-items?kind=bogus'), 400, /^kind: "bogus" is not accepted; expected one of service_action, onboarding_run, /);
    expectError(await get('/api/work-items?kind=scheduled_run,bogus'), 400, /^kind: "bogus" is not accepted/);
  });

  it('refuses ids beyond the range of their column instead of failing with 500', async () => {
    expectError(await get('/api/work-items?site_id=99999999999'), 400, /^site_id: "99999999999" is not accepted; expected a site id \(an integer from 0 to 2147483647\)/);
    expectError(await get('/api/scheduled-jobs/99999999999/runs'), 400, /^id: 99999999999 is out of range; expected an integer from 1 to 2147483647$/);
    expectError(await get('/api/onboarding/jobs/2147483648/targets'), 400, /^job_id: 2147483648 is out of range/);
    expectError(await get('/api/runs/9007199254740992'), 400, /^id: 9007199254740992 is out of range/);
    expectError(await get('/api/onboarding/jobs/1/targets?run_id=9007199254740992'), 400, /^run_id: 9007199254740992 is out of range/);
  });

  it('accepts the largest id of each column (nothing found) and keeps serving after bad input', async () => {
    expect((await get('/api/work-items?site_id=2147483647')).json.items).toEqual([]);
    expectError(await get('/api/scheduled-jobs/2147483647/runs'), 404, /^scheduled job 2147483647 not found$/);
    expectError(await get(`/api/runs/${Number.MAX_SAFE_INTEGER}`), 404, /not found/);
    expect((await get('/healthz')).status).toBe(200);
  });
});

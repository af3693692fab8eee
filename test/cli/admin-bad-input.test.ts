/**
 * Bad input to `enqueue`, `items list` and `worker` that used to reach the database (and, on
 * PostgreSQL, came back as a raw driver error with exit 1): each is now a one-line UserError,
 * exit 2, and nothing is written. In-process, like test/cli/admin.test.ts.
 */
import { beforeEach, expect, it } from 'vitest';
import { registerEnqueueCommand } from '../../src/cli/enqueue.js';
import { registerItemsCommand } from '../../src/cli/items.js';
import { registerWorkerCommand } from '../../src/cli/worker.js';
import { UserError } from '../../src/errors.js';
import { createSite } from '../../src/inventory/sites.js';
import { describeBackends } from '../helpers/backends.js';
import { cliRunner, useDatabaseUrl } from '../helpers/cli.js';

const jobyard = cliRunner([registerEnqueueCommand, registerItemsCommand, registerWorkerCommand]);

async function userError(args: string[]): Promise<string> {
  const r = await jobyard(args);
  expect(r.error).toBeInstanceOf(UserError);
  expect((r.error as UserError).exitCode).toBe(2);
  expect((r.error as UserError).message).not.toContain('\n');
  expect(r.stdout).toBe('');
  return (r.error as UserError).message;
}

describeBackends('bad input to enqueue, items list and worker', (ctx) => {
  useDatabaseUrl(() => ctx.url);
  beforeEach(() => ctx.truncateAll());
  const counts = async () => ({
    items: (await ctx.db.selectFrom('job_scheduler_work_items').select('id').execute()).length,
    workers: (await ctx.db.selectFrom('job_scheduler_workers').select('worker_guid').execute()).length,
  });

  it('enqueue: a priority beyond the integer column, NUL in the payload, control characters in the lane', async () => {
    const site = String((await createSite(ctx.store, { name: 'a' })).id);
    const enqueue = (payload: string, ...more: string[]) => ['enqueue', '--kind', 'scheduled_run', '--site', site, '--payload', payload, ...more];
    expect(await userError(enqueue('{}', '--priority', '99999999999'))).toBe('enqueue: --priority: expected an integer from -2147483648 to 2147483647, got "99999999999"');
    expect(await userError(enqueue('{}', '--priority', '-2147483649'))).toMatch(/^enqueue: --priority: expected an integer from/);
    expect(await userError(enqueue('{"a": {"b": ["x\\u0000y"]}}'))).toBe('enqueue: --payload: a.b[0] contains a NUL character (\\u0000), which cannot be stored');
    expect(await userError(enqueue('{"k\\u0000": 1}'))).toBe('enqueue: --payload: k\\u0000 contains a NUL character (\\u0000), which cannot be stored');
    expect(await userError(enqueue('{}', '--lane', 'a\u001b[2J'))).toBe('enqueue: --lane: must not contain control characters');
    expect(await userError(enqueue(JSON.stringify({ blob: 'x'.repeat(1024 * 1024) })))).toMatch(/^enqueue: --payload: \d+ bytes as JSON; the limit is 1048576 \(1 MiB\)$/);
    expect(await counts()).toEqual({ items: 0, workers: 0 });
    // The largest priority the column holds is accepted.
    expect((await jobyard(enqueue('{}', '--priority', '2147483647'))).error).toBeUndefined();
  });

  it('enqueue: a service_action payload that `jobyard services` would refuse', async () => {
    const service = (payload: string) => ['enqueue', '--kind', 'service_action', '--site', 'none', '--payload', payload];
    expect(await userError(service('{"action":"explode","service":"p/s"}'))).toBe('enqueue: --payload: action: "explode" is not a service action; expected one of restart, stop, start');
    expect(await userError(service('{"action":"restart"}'))).toMatch(/^enqueue: --payload: service: got nothing; /);
    expect(await userError(service('{"action":"restart","service":"no slash"}'))).toMatch(/^enqueue: --payload: service: "no slash" is not a compose service/);
    expect(await counts()).toEqual({ items: 0, workers: 0 });
  });

  it('enqueue: secret-named keys passwd, pwd and credentials are refused like password', async () => {
    const site = String((await createSite(ctx.store, { name: 'b' })).id);
    for (const key of ['passwd', 'db_pwd', 'credentials']) {
      const message = await userError(['enqueue', '--kind', 'scheduled_run', '--site', site, '--payload', JSON.stringify({ x: { [key]: 'hunter2' } })]);
      expect(message).toBe(`enqueue: --payload: secrets never enter payload_json; remove x.${key} and pass a credential id instead`);
    }
    expect(await counts()).toEqual({ items: 0, workers: 0 });
  });

  it('items list --site and worker --site name a site that must exist', async () => {
    expect(await userError(['items', 'list', '--site', '99999'])).toBe('items list: --site: no site with id 99999');
    // The worker logs "database opened" to stdout first; the error is what matters here.
    const worker = await jobyard(['worker', '--site', '99999']);
    expect(worker.error).toEqual(new UserError('worker: --site: no site with id 99999'));
    expect((worker.error as UserError).exitCode).toBe(2);
    expect(await userError(['worker', '--site', '1e3'])).toMatch(/^worker: --site \(a site id\): expected a positive integer up to 2147483647, got "1e3"$/);
    expect(await counts()).toEqual({ items: 0, workers: 0 });
  });
});

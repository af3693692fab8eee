/**
 * `jobyard tokens` and `jobyard audit list`, and the audit rows every CLI write records (actor
 * `cli:<os user>`), on both backends. In-process (cliRunner) except `tokens create`'s stdout,
 * which a child process checks byte for byte.
 */
import { beforeEach, expect, it } from 'vitest';
import { cliActor } from '../../src/audit/audit-log.js';
import { registerAuditCommand } from '../../src/cli/audit.js';
import { registerEnqueueCommand } from '../../src/cli/enqueue.js';
import { registerItemsCommand } from '../../src/cli/items.js';
import { registerJobsCommand } from '../../src/cli/jobs.js';
import { registerRunNowCommand } from '../../src/cli/run-now.js';
import { registerServicesCommand } from '../../src/cli/services.js';
import { registerTokensCommand } from '../../src/cli/tokens.js';
import { hashToken } from '../../src/auth/tokens.js';
import { UserError } from '../../src/errors.js';
import { createSite } from '../../src/inventory/sites.js';
import { describeBackends } from '../helpers/backends.js';
import { cliRunner, runJobyard, useDatabaseUrl } from '../helpers/cli.js';
import { insertJob } from '../helpers/jobs.js';

const jobyard = cliRunner([
  registerTokensCommand,
  registerAuditCommand,
  registerEnqueueCommand,
  registerItemsCommand,
  registerServicesCommand,
  (p) => registerRunNowCommand(registerJobsCommand(p)),
]);

async function ok(args: string[]): Promise<string> {
  const r = await jobyard(args);
  if (r.error) throw r.error;
  return r.stdout;
}

async function userError(args: string[]): Promise<string> {
  const r = await jobyard(args);
  expect(r.error).toBeInstanceOf(UserError);
  expect((r.error as UserError).exitCode).toBe(2);
  expect(r.stdout).toBe('');
  return (r.error as UserError).message;
}

describeBackends('jobyard tokens / audit, and audited CLI writes', (ctx) => {
  useDatabaseUrl(() => ctx.url);
  beforeEach(() => ctx.truncateAll());
  const audit = () => ctx.db.selectFrom('audit_log').selectAll().orderBy('id').execute();

  it('tokens create prints only the token on stdout, stores its hash, and is audited', async () => {
    const r = await runJobyard(['tokens', 'create', '--role', 'operator', '--name', 'ci'], { DATABASE_URL: ctx.url });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^jy_[A-Za-z0-9_-]{43}\n$/);
    expect(r.stderr).toMatch(/token "ci" \(operator\) created; it is shown only now/);
    const token = r.stdout.trim();
    const row = await ctx.db.selectFrom('api_tokens').selectAll().executeTakeFirstOrThrow();
    expect(row).toMatchObject({ name: 'ci', role: 'operator', token_hash: hashToken(token), created_by: cliActor(), revoked_at: null });
    expect(JSON.stringify(await ctx.db.selectFrom('api_tokens').selectAll().execute())).not.toContain(token);
    expect(await audit()).toEqual([expect.objectContaining({ actor: cliActor(), action: 'token.create', object_type: 'token', object_id: 'ci', summary_json: { role: 'operator' } })]);
    expect(JSON.stringify(await audit())).not.toContain(token);
  });

  it('tokens create refuses bad input naming the option, writing nothing; list never shows values; revoke', async () => {
    expect(await userError(['tokens', 'create', '--role', 'root', '--name', 'bad name'])).toBe(
      'tokens create: --name: must be 1-64 characters of letters, digits, ".", "_" or "-", starting with a letter or digit; tokens create: --role: must be one of viewer, operator, admin',
    );
    expect(await ctx.db.selectFrom('api_tokens').selectAll().execute()).toEqual([]);
    await ok(['tokens', 'create', '--role', 'viewer', '--name', 'a']);
    await ok(['tokens', 'create', '--role', 'admin', '--name', 'b']);
    expect(await userError(['tokens', 'create', '--role', 'admin', '--name', 'b'])).toMatch(/^name: a token named "b" already exists/);
    const list = JSON.parse(await ok(['tokens', 'list', '--json']));
    expect(list.items.map((t: { name: string }) => t.name)).toEqual(['b', 'a']);
    expect(Object.keys(list.items[0]).sort()).toEqual(['created_at', 'created_by', 'id', 'last_used_at', 'name', 'revoked_at', 'role']);
    const paged = JSON.parse(await ok(['tokens', 'list', '--json', '--limit', '1']));
    expect(JSON.parse(await ok(['tokens', 'list', '--json', '--limit', '1', '--cursor', paged.next_cursor])).items[0].name).toBe('a');
    expect(await ok(['tokens', 'list'])).toMatch(/^name +role +created/);
    expect(await ok(['tokens', 'revoke', 'a'])).toBe('token "a" revoked\n');
    expect(await userError(['tokens', 'revoke', 'a'])).toBe('tokens revoke: name: token "a" is already revoked');
    expect(await userError(['tokens', 'revoke', 'zz'])).toBe('tokens revoke: name: no token named "zz"');
    expect((await audit()).map((a) => a.action)).toEqual(['token.create', 'token.create', 'token.revoke']);
  });

  it('records one audit row per CLI write: enqueue, items retry/cancel, jobs run-now/enable/disable, services', async () => {
    const siteId = (await createSite(ctx.store, { name: 'HQ' })).id;
    const job = await insertJob(ctx.db, { at: 1_800_000_000_000, name: 'nightly' });
    const id = (await ok(['enqueue', '--kind', 'scheduled_run', '--site', String(siteId), '--payload', '{"n":1}'])).split(' ')[0]!;
    await ok(['enqueue', '--kind', 'scheduled_run', '--site', String(siteId), '--payload', '{}', '--dedupe-key', 'k']);
    await ok(['enqueue', '--kind', 'scheduled_run', '--site', String(siteId), '--payload', '{}', '--dedupe-key', 'k']); // deduplicated: nothing written
    await ok(['items', 'cancel', id]);
    await ok(['items', 'retry', id]);
    await ok(['jobs', 'run-now', String(job.id)]);
    await ok(['jobs', 'disable', String(job.id)]);
    await ok(['jobs', 'enable', String(job.id)]);
    await ok(['services', 'restart', 'proj/api']);
    expect(await userError(['jobs', 'run-now', '424242'])).toBe('jobs run-now: no job with id 424242');
    expect(await userError(['jobs', 'enable', '424242'])).toBe('jobs enable: no job with id 424242');
    const rows = await audit();
    expect(rows.map((a) => [a.action, a.object_type])).toEqual([
      ['work_item.enqueue', 'work_item'],
      ['work_item.enqueue', 'work_item'],
      ['work_item.cancel', 'work_item'],
      ['work_item.retry', 'work_item'],
      ['job.run_now', 'job'],
      ['job.disable', 'job'],
      ['job.enable', 'job'],
      ['service.restart', 'service'],
    ]);
    expect(new Set(rows.map((a) => a.actor))).toEqual(new Set([cliActor()]));
  });

  it('audit list filters, pages and prints a table or JSON; bad options are exit 2', async () => {
    for (const name of ['x', 'y', 'z']) await ok(['tokens', 'create', '--role', 'viewer', '--name', name]);
    await ok(['tokens', 'revoke', 'y']);
    const all = JSON.parse(await ok(['audit', 'list', '--json']));
    expect(all.items.map((a: { action: string; object_id: string }) => `${a.action} ${a.object_id}`)).toEqual(['token.revoke y', 'token.create z', 'token.create y', 'token.create x']);
    const first = JSON.parse(await ok(['audit', 'list', '--json', '--action', 'token.create', '--limit', '2']));
    expect(first.items).toHaveLength(2);
    const second = JSON.parse(await ok(['audit', 'list', '--json', '--action', 'token.create', '--limit', '2', '--cursor', first.next_cursor]));
    expect(second).toMatchObject({ items: [expect.objectContaining({ object_id: 'x' })], next_cursor: null });
    expect(JSON.parse(await ok(['audit', 'list', '--json', '--type', 'token', '--id', 'y'])).items).toHaveLength(2);
    expect(JSON.parse(await ok(['audit', 'list', '--json', '--actor', 'token:nobody'])).items).toEqual([]);
    expect(JSON.parse(await ok(['audit', 'list', '--json', '--since', '2999-01-01T00:00:00Z'])).items).toEqual([]);
    const table = await ok(['audit', 'list', '--limit', '1']);
    expect(table).toMatch(/^at +actor +action +object +summary\n.*token\.revoke +token y/);
    expect(table).toMatch(/more: --cursor \S+\n$/);
    expect(await userError(['audit', 'list', '--since', 'yesterday'])).toMatch(/^audit list: --since: expected epoch milliseconds/);
    expect(await userError(['audit', 'list', '--limit', '0'])).toMatch(/^audit list: --limit: expected a positive integer/);
    expect(await userError(['audit', 'list', '--cursor', 'bogus'])).toBe('audit list: cursor: not a cursor this list returned; pass the next_cursor of the previous page');
  });
});

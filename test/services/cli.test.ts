/**
 * `jobyard services restart|stop|start` in-process: a commander program with only this command
 * registered, DATABASE_URL pointing at the test database. The enqueue function underneath is
 * tested here too.
 */
import { CommanderError } from 'commander';
import { beforeEach, expect, it } from 'vitest';
import { registerServicesCommand } from '../../src/cli/services.js';
import { UserError } from '../../src/errors.js';
import { enqueueServiceAction } from '../../src/services/enqueue.js';
import { describeBackends } from '../helpers/backends.js';
import { cliRunner, useDatabaseUrl } from '../helpers/cli.js';

const jobyard = cliRunner([registerServicesCommand]);

describeBackends('jobyard services', (ctx) => {
  useDatabaseUrl(() => ctx.url);
  beforeEach(() => ctx.truncateAll());
  const items = () => ctx.db.selectFrom('job_scheduler_work_items').selectAll().orderBy('id').execute();

  it('restart|stop|start <project>/<service> enqueue one site-less service_action item each and print its id', async () => {
    const printed: number[] = [];
    for (const action of ['restart', 'stop', 'start']) {
      const r = await jobyard(['services', action, 'myproj/api']);
      expect(r.error).toBeUndefined();
      expect(r.stdout).toMatch(/^\d+\n$/);
      printed.push(Number(r.stdout));
    }
    const rows = await items();
    expect(rows.map((i) => i.id)).toEqual(printed);
    expect(rows.map((i) => i.payload_json)).toEqual([
      { action: 'restart', service: 'myproj/api' },
      { action: 'stop', service: 'myproj/api' },
      { action: 'start', service: 'myproj/api' },
    ]);
    for (const i of rows) expect(i).toMatchObject({ kind: 'service_action', site_id: null, status: 'queued', priority: 100, max_attempts: 3 });
  });

  it('--json prints the new item', async () => {
    const r = await jobyard(['services', 'restart', 'myproj/web', '--json']);
    expect(r.error).toBeUndefined();
    expect(r.stdout.endsWith('\n')).toBe(true);
    expect(r.stdout.trimEnd().split('\n')).toHaveLength(1);
    const item = JSON.parse(r.stdout) as Record<string, unknown>;
    const [row] = await items();
    expect(item).toMatchObject({ id: row!.id, kind: 'service_action', status: 'queued', site_id: null, payload_json: { action: 'restart', service: 'myproj/web' } });
  });

  it('a malformed service is a one-line UserError (exit 2) and enqueues nothing', async () => {
    for (const bad of ['api', 'myproj/api/x', 'MyProj/api', 'myproj/']) {
      const r = await jobyard(['services', 'restart', bad]);
      expect(r.stdout).toBe('');
      expect(r.error).toBeInstanceOf(UserError);
      expect((r.error as UserError).exitCode).toBe(2);
      expect((r.error as UserError).message).toBe(
        `service: ${JSON.stringify(bad)} is not a compose service; expected <project>/<service> as in the compose labels, e.g. myproj/api`,
      );
    }
    expect(await items()).toEqual([]);
  });

  it('an unknown action or a missing service is refused by the parser (exit 2 in main) and enqueues nothing', async () => {
    const unknown = await jobyard(['services', 'reboot', 'myproj/api']);
    expect(unknown.error).toBeInstanceOf(CommanderError);
    expect((unknown.error as CommanderError).code).toBe('commander.unknownCommand');
    const missing = await jobyard(['services', 'stop']);
    expect(missing.error).toBeInstanceOf(CommanderError);
    expect((missing.error as CommanderError).code).toBe('commander.missingArgument');
    expect(await items()).toEqual([]);
  });

  it('enqueueServiceAction validates action and service, naming the field and the accepted values', async () => {
    const item = await enqueueServiceAction(ctx.store, { action: 'stop', service: 'p/s' }, { now: 5_000 });
    expect(item).toMatchObject({ kind: 'service_action', site_id: null, available_at: 5_000, payload_json: { action: 'stop', service: 'p/s' } });
    await expect(enqueueServiceAction(ctx.store, { action: 'reboot', service: 'p/s' })).rejects.toThrow(
      new UserError('action: "reboot" is not a service action; expected one of restart, stop, start'),
    );
    await expect(enqueueServiceAction(ctx.store, { action: 'start', service: 'p' })).rejects.toThrow(/^service: "p" is not a compose service; expected <project>\/<service>/);
    expect((await items()).map((i) => i.id)).toEqual([item.id]);
  });
});

/** The admin commands as an operator runs them: the real `jobyard` binary, exit codes and stderr. */
import { spawnSync } from 'node:child_process';
import { expect, it } from 'vitest';
import { describeBackends } from '../helpers/backends.js';
import { JOBYARD_BIN } from '../helpers/cli.js';


describeBackends('jobyard admin commands (processes)', (ctx) => {
  const run = (...args: string[]) => spawnSync(process.execPath, [JOBYARD_BIN, ...args], { env: { ...process.env, DATABASE_URL: ctx.url }, encoding: 'utf8' });

  it('enqueue → items show → status --json → items cancel, all parseable JSON', async () => {
    const enq = run('enqueue', '--kind', 'service_action', '--site', 'none', '--payload', '{"action":"restart","service":"p/s"}', '--json');
    expect(enq.status).toBe(0);
    const { id } = JSON.parse(enq.stdout) as { id: number };
    const shown = run('items', 'show', String(id), '--json');
    expect(shown.status).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({ id, kind: 'service_action', status: 'queued', payload_json: { action: 'restart', service: 'p/s' } });
    const status = run('status', '--json');
    expect(status.status).toBe(0);
    expect(JSON.parse(status.stdout)).toBeTypeOf('object');
    expect(run('items', 'cancel', String(id)).status).toBe(0);
    expect((await ctx.db.selectFrom('job_scheduler_work_items').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status).toBe('cancelled');
  });

  it('bad input: one line on stderr, exit 2, no stack trace, nothing written', async () => {
    const before = await ctx.db.selectFrom('job_scheduler_work_items').select('id').execute();
    for (const args of [
      ['enqueue', '--kind', 'reboot_everything', '--site', 'none', '--payload', '{}'],
      ['enqueue', '--kind', 'scheduled_run', '--site', '1', '--payload', '{"password":"x"}'],
      ['items', 'show', '99999999'],
      ['items', 'list', '--status', 'sleeping'],
    ]) {
      const r = run(...args);
      expect({ args, status: r.status }).toEqual({ args, status: 2 });
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^jobyard: /);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    expect(await ctx.db.selectFrom('job_scheduler_work_items').select('id').execute()).toEqual(before);
  });
});

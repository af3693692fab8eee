/**
 * Run detail of an Ansible occurrence: readRunDetail (the API and dashboard read it) and
 * `jobyard runs show` list each playbook component's shared run row with every host's PLAY RECAP
 * counts, on the occurrence's row and on a component's own row; a run without playbooks has none.
 * Both backends. (The rows are the ones the Ansible executor writes; test/executors/ansible-run
 * checks them after a real playbook.)
 */
import { beforeEach, expect, it } from 'vitest';
import { registerRunsCommand } from '../../src/cli/runs.js';
import { readRunDetail } from '../../src/schedule/run-detail.js';
import { describeBackends } from '../helpers/backends.js';
import { cliRunner, useDatabaseUrl } from '../helpers/cli.js';
import { insertJob } from '../helpers/jobs.js';

const jobyard = cliRunner([registerRunsCommand]);
const T = 4_102_444_800_000;

describeBackends('run detail: Ansible play recaps', (ctx) => {
  useDatabaseUrl(() => ctx.url);
  beforeEach(() => ctx.truncateAll());

  async function occurrence() {
    const job = await insertJob(ctx.db, { at: T, name: 'playbooks', execution_context: 'ssh' });
    const runRow = (values: Record<string, unknown>) =>
      ctx.db
        .insertInto('scheduled_job_runs')
        .values({ job_id: job.id, scheduled_ts: T, status: 'Partial', error: null, started_ts: T, finished_ts: T + 9, target_hostname: null, created_at: T, updated_at: T, ...values })
        .returning('id')
        .executeTakeFirstOrThrow();
    const main = await runRow({});
    const first = await runRow({ component_index: 0, component_kind: 'ansible_playbook', component_name: 'first', status: 'Partial', error: '1 host(s) failed' });
    const second = await runRow({ component_index: 1, component_kind: 'ansible_playbook', component_name: null, status: 'Success' });
    const target = (hostname: string, alias: string, status: string) =>
      ctx.db.insertInto('scheduled_job_run_targets').values({ run_id: main.id, device_guid: `g-${hostname}`, hostname, inventory_hostname: alias, created_at: T, status }).returning('id').executeTakeFirstOrThrow();
    const web = await target('web-1', 'web-1', 'Success');
    const db = await target('DB 2', 'db_2', 'Failed');
    const recap = (runId: number, targetId: number, alias: string, counts: number[]) => {
      const [ok, changed, unreachable, failed, skipped, rescued, ignored] = counts as [number, number, number, number, number, number, number];
      return ctx.db.insertInto('ansible_play_recaps').values({ run_id: runId, target_id: targetId, inventory_hostname: alias, ok, changed, unreachable, failed, skipped, rescued, ignored, created_at: T }).execute();
    };
    await recap(first.id, web.id, 'web-1', [3, 2, 0, 0, 1, 0, 0]);
    await recap(first.id, db.id, 'db_2', [1, 0, 0, 1, 0, 1, 1]);
    await recap(second.id, web.id, 'web-1', [1, 0, 0, 0, 0, 0, 0]);
    return { job, main: main.id, first: first.id, second: second.id, web: web.id, db: db.id };
  }

  it('the occurrence lists each playbook with its hosts\' recaps; a component row lists itself', async () => {
    const o = await occurrence();
    const d = (await readRunDetail(ctx.store, o.main))!;
    expect(d.playbooks).toEqual([
      {
        run_id: o.first, component_index: 0, component_kind: 'ansible_playbook', component_name: 'first', status: 'Partial', error: '1 host(s) failed', started_ts: T, finished_ts: T + 9,
        hosts: [
          { inventory_hostname: 'db_2', target_id: o.db, hostname: 'DB 2', ok: 1, changed: 0, unreachable: 0, failed: 1, skipped: 0, rescued: 1, ignored: 1 },
          { inventory_hostname: 'web-1', target_id: o.web, hostname: 'web-1', ok: 3, changed: 2, unreachable: 0, failed: 0, skipped: 1, rescued: 0, ignored: 0 },
        ],
      },
      {
        run_id: o.second, component_index: 1, component_kind: 'ansible_playbook', component_name: null, status: 'Success', error: null, started_ts: T, finished_ts: T + 9,
        hosts: [{ inventory_hostname: 'web-1', target_id: o.web, hostname: 'web-1', ok: 1, changed: 0, unreachable: 0, failed: 0, skipped: 0, rescued: 0, ignored: 0 }],
      },
    ]);
    expect((await readRunDetail(ctx.store, o.second))!.playbooks.map((p) => p.run_id)).toEqual([o.second]);

    const text = await jobyard(['runs', 'show', String(o.main)]);
    expect(text.error).toBeUndefined();
    expect(text.stdout).toContain(`playbook 0 (first): Partial: 1 host(s) failed (run ${o.first})\n`);
    expect(text.stdout).toContain(`playbook 1: Success (run ${o.second})\n`);
    expect(text.stdout).toMatch(/host\s+target\s+ok\s+changed\s+unreachable\s+failed\s+skipped\s+rescued\s+ignored\n/);
    expect(text.stdout).toMatch(/db_2\s+DB 2\s+1\s+0\s+0\s+1\s+0\s+1\s+1\n/);
    expect(text.stdout).toMatch(/web-1\s+web-1\s+3\s+2\s+0\s+0\s+1\s+0\s+0\n/);
    expect(JSON.parse((await jobyard(['runs', 'show', String(o.main), '--json'])).stdout).playbooks).toEqual(JSON.parse(JSON.stringify(d.playbooks)));
  });

  it('a run without playbook components has none', async () => {
    const job = await insertJob(ctx.db, { at: T, name: 'plain' });
    const r = await ctx.db.insertInto('scheduled_job_runs').values({ job_id: job.id, scheduled_ts: T, status: 'Success', error: null, started_ts: T, finished_ts: T, target_hostname: null, created_at: T, updated_at: T }).returning('id').executeTakeFirstOrThrow();
    expect((await readRunDetail(ctx.store, r.id))!.playbooks).toEqual([]);
    expect((await jobyard(['runs', 'show', String(r.id)])).stdout).not.toContain('playbook');
  });
});

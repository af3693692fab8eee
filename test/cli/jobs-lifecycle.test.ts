/**
 * `jobyard jobs show|update|delete|export` and `jobyard runs show|rerun` as an operator runs them
 * (the built bin, both backends): human and JSON output, bad input on one line with exit 2 and
 * nothing written, warnings on stderr, audit rows with the CLI actor, the export round trip.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, expect, it } from 'vitest';
import { assignDeviceToSite, upsertDevice } from '../../src/inventory/devices.js';
import { createSite } from '../../src/inventory/sites.js';
import { describeBackends } from '../helpers/backends.js';
import { runJobyard as jobyard } from '../helpers/cli.js';
import { jobDefinition } from '../helpers/jobs.js';

const dir = mkdtempSync(join(tmpdir(), 'jobyard-jobs-lifecycle-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
function jobFile(content: unknown): string {
  const path = join(dir, `job-${++files}.json`);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return path;
}

function oneLineFailure(r: { code: number; stdout: string; stderr: string }): string {
  expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 2, stdout: '' });
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  return lines[0]!;
}

describeBackends('jobyard jobs show/update/delete/export, runs show/rerun', (ctx) => {
  const env = () => ({ DATABASE_URL: ctx.url });
  let site = 0;
  // Far in the future: these commands run on the wall clock, and the first run must stay ahead of it.
  const def = (overrides: Record<string, unknown> = {}) => jobDefinition({ start_ts: '2099-12-01T02:30:00Z', targets: { sites: [site] }, ...overrides });
  const create = async (d = def()) => Number((await jobyard(['jobs', 'create', '--file', jobFile(d)], env())).stdout);
  const jobRow = (id: number) => ctx.db.selectFrom('scheduled_jobs').selectAll().where('id', '=', id).executeTakeFirst();
  const actions = async () => (await ctx.db.selectFrom('audit_log').select(['action', 'actor']).orderBy('id').execute()).map((a) => `${a.action} ${a.actor}`);
  const actor = `cli:${userInfo().username}`;

  beforeEach(async () => {
    await ctx.truncateAll();
    site = (await createSite(ctx.store, { name: 'berlin' })).id;
    await upsertDevice(ctx.store, { guid: 'g-1', hostname: 'ws-1', status: 'online', last_seen: Date.now() });
    await assignDeviceToSite(ctx.store, 'ws-1', site);
  });

  it('export writes a file that jobs create accepts back unchanged', async () => {
    const id = await create();
    const out = join(dir, 'exported.json');
    expect(await jobyard(['jobs', 'export', String(id), '--output', out], env())).toMatchObject({ code: 0, stdout: '', stderr: '' });
    const exported = readFileSync(out, 'utf8');
    const stdout = (await jobyard(['jobs', 'export', String(id)], env())).stdout;
    expect(stdout).toBe(exported);
    const copy = await jobyard(['jobs', 'create', '--file', out], env());
    expect(copy).toMatchObject({ code: 0, stderr: '' });
    expect((await jobyard(['jobs', 'export', copy.stdout.trim()], env())).stdout).toBe(exported);
    expect(JSON.parse(exported)).toMatchObject({ name: 'nightly cleanup', start_ts: '2099-12-01T02:30:00.000Z', targets: { sites: [site] } });
    expect(await actions()).toEqual([`job.create ${actor}`, `job.create ${actor}`]);
  });

  it('show prints the definition, schedule in words and runs; --json gives the same as data', async () => {
    const id = await create();
    const text = await jobyard(['jobs', 'show', String(id)], env());
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`job ${id}: nightly cleanup (automation)\n`);
    expect(text.stdout).toContain('schedule:    daily at 03:30 (Europe/Berlin)\n');
    expect(text.stdout).toContain('next run:    2099-12-01T02:30:00.000Z\n');
    expect(text.stdout).toContain('last run:    -\n');
    expect(text.stdout).toContain(`targets:     sites ${site}\n`);
    expect(text.stdout).toContain('no runs yet');
    const json = JSON.parse((await jobyard(['jobs', 'show', String(id), '--json'], env())).stdout);
    expect(json).toMatchObject({ id, enabled: true, schedule: 'daily at 03:30 (Europe/Berlin)', recent_runs: [], last_occurrence: null });
    expect(oneLineFailure(await jobyard(['jobs', 'show', '999999'], env()))).toBe('jobyard: jobs show: no job with id 999999');
  });

  it('update replaces the definition, recomputes the next run, warns about unknown hostnames and audits', async () => {
    const id = await create();
    const r = await jobyard(['jobs', 'update', String(id), '--file', jobFile(def({ schedule_type: 'weekly', start_ts: '2099-12-10T05:00:00Z', time_zone: 'UTC', targets: { sites: [site], hostnames: ['later-1'] } }))], env());
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`job ${id} updated: changed schedule_type, start_ts, time_zone, targets; next run 2099-12-10T05:00:00.000Z\n`);
    expect(r.stderr).toBe('jobyard: warning: targets.hostnames: no device named "later-1" is known yet; the job targets it once it enrols\n');
    expect(await jobRow(id)).toMatchObject({ schedule_type: 'weekly', next_run_at: Date.UTC(2099, 11, 10, 5, 0) });
    expect(await actions()).toEqual([`job.create ${actor}`, `job.update ${actor}`]);
  });

  it('update refuses bad input with one line naming the field, writing nothing', async () => {
    const id = await create();
    const before = await jobRow(id);
    const bad = oneLineFailure(await jobyard(['jobs', 'update', String(id), '--file', jobFile(def({ missed_policy: 'sometimes', targets: { sites: [424242] } }))], env()));
    expect(bad).toBe('jobyard: invalid job definition: missed_policy: unknown value "sometimes"; expected one of skip, run_once, run_all');
    const refs = oneLineFailure(await jobyard(['jobs', 'update', String(id), '--file', jobFile(def({ targets: { sites: [424242] } }))], env()));
    expect(refs).toBe('jobyard: invalid job definition: targets.sites: no site with id 424242');
    expect(oneLineFailure(await jobyard(['jobs', 'update', '999999', '--file', jobFile(def())], env()))).toBe('jobyard: jobs update: no job with id 999999');
    expect(oneLineFailure(await jobyard(['jobs', 'update', String(id), '--file', jobFile('{ nope')], env()))).toMatch(/^jobyard: jobs update: .* is not valid JSON/);
    expect(await jobRow(id)).toEqual(before);
    expect(await actions()).toEqual([`job.create ${actor}`]);
  });

  it('delete is refused while an occurrence is pending, and --force cancels its items and deletes', async () => {
    const id = await create();
    const runId = Number((await jobyard(['jobs', 'run-now', String(id)], env())).stdout);
    const refused = oneLineFailure(await jobyard(['jobs', 'delete', String(id)], env()));
    expect(refused).toBe(
      `jobyard: jobs delete: job ${id} has 1 unfinished occurrence (run ${runId}); wait for it to finish, or pass --force (API: ?force=true) to cancel its work items and delete the job with its history`,
    );
    expect(await jobRow(id)).toBeDefined();
    const forced = await jobyard(['jobs', 'delete', String(id), '--force'], env());
    expect(forced).toMatchObject({ code: 0, stdout: `job ${id} deleted with 1 run; 1 work item cancelled\n`, stderr: '' });
    expect(await jobRow(id)).toBeUndefined();
    expect(await actions()).toEqual([`job.create ${actor}`, `job.run_now ${actor}`, `job.delete ${actor}`]);
    expect(oneLineFailure(await jobyard(['jobs', 'delete', String(id)], env()))).toBe(`jobyard: jobs delete: no job with id ${id}`);
  });

  it('runs show prints targets and work items; runs rerun creates one rerun and deduplicates the second', async () => {
    const id = await create();
    const runId = Number((await jobyard(['jobs', 'run-now', String(id)], env())).stdout);
    const show = await jobyard(['runs', 'show', String(runId)], env());
    expect(show.code).toBe(0);
    expect(show.stdout).toContain(`run ${runId} of job ${id} (nightly cleanup, automation): Pending\n`);
    expect(show.stdout).toMatch(/targets:\nhostname\s+resolution\s+outcome\s+exit\s+duration\s+detail\nws-1\s+resolved: .*Pending/);
    expect(show.stdout).toMatch(/work items:\nid\s+kind\s+site\s+status\s+attempts\s+last error\n\d+\s+scheduled_run\s+\d+\s+queued\s+0\/\d+/);

    const first = await jobyard(['runs', 'rerun', String(runId), '--json'], env());
    expect(first.code).toBe(0);
    const created = JSON.parse(first.stdout) as { run_id: number; created: boolean };
    expect(created).toMatchObject({ created: true, source_run_id: runId, job_id: id });
    const second = await jobyard(['runs', 'rerun', String(runId)], env());
    expect(second).toMatchObject({ code: 0, stdout: `${created.run_id} deduplicated: a rerun of run ${runId} is still pending\n` });
    const rerun = JSON.parse((await jobyard(['runs', 'show', String(created.run_id), '--json'], env())).stdout);
    expect(rerun.run).toMatchObject({ rerun_of_run_id: runId, status: 'Pending' });
    expect(rerun.target_rows.map((t: { hostname: string }) => t.hostname)).toEqual(['ws-1']);
    expect(await actions()).toEqual([`job.create ${actor}`, `job.run_now ${actor}`, `run.rerun ${actor}`]);

    expect(oneLineFailure(await jobyard(['runs', 'show', '987654'], env()))).toBe('jobyard: runs show: no run with id 987654');
    expect(oneLineFailure(await jobyard(['runs', 'rerun', '987654'], env()))).toBe("jobyard: runs rerun: no run with id 987654 (a deleted job's runs are deleted with it)");
    expect(oneLineFailure(await jobyard(['runs', 'rerun', 'x'], env()))).toMatch(/^jobyard: runs rerun: id: expected a positive integer/);
  });

  it('jobs list pages with --limit and --cursor', async () => {
    const a = await create(def({ name: 'a' }));
    const b = await create(def({ name: 'b' }));
    const page = JSON.parse((await jobyard(['jobs', 'list', '--limit', '1', '--json'], env())).stdout);
    expect(page.items.map((j: { id: number }) => j.id)).toEqual([a]);
    const next = JSON.parse((await jobyard(['jobs', 'list', '--limit', '1', '--cursor', page.next_cursor, '--json'], env())).stdout);
    expect(next).toMatchObject({ items: [{ id: b }], next_cursor: null });
    expect(oneLineFailure(await jobyard(['jobs', 'list', '--cursor', 'bogus'], env()))).toBe(
      'jobyard: jobs list: cursor: not a cursor this list returned; pass the next_cursor of the previous page',
    );
  });
});

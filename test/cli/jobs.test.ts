import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, expect, it } from 'vitest';
import { assignDeviceToSite, upsertDevice } from '../../src/inventory/devices.js';
import { createSite } from '../../src/inventory/sites.js';
import { describeBackends, type BackendContext } from '../helpers/backends.js';
import { runJobyard as jobyard } from '../helpers/cli.js';
import { jobDefinition } from '../helpers/jobs.js';

const dir = mkdtempSync(join(tmpdir(), 'jobyard-jobs-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SCHEDULE_TYPES_LIST =
  'immediately, once, every_5_minutes, every_10_minutes, every_15_minutes, every_30_minutes, every_hour, daily, weekly, monthly, yearly, cron';

// It starts 2099-12-01T02:30Z: these commands run against the wall clock, and a past start
// would move the first occurrence to the next day. Its targets are set by seedTargets.
const JOB = jobDefinition();

let files = 0;
function jobFile(content: unknown): string {
  const path = join(dir, `job-${++files}.json`);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return path;
}


/** Exit 2 with exactly one line on stderr; returns that line. */
function oneLineFailure(r: { code: number; stdout: string; stderr: string }): string {
  expect(r.code).toBe(2);
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(r.stdout).toBe('');
  return lines[0]!;
}

/** Sets JOB's targets to a site, a known device on it and a filter that exist in the database. */
async function seedTargets(ctx: BackendContext): Promise<void> {
  const site = await createSite(ctx.store, { name: 'berlin' });
  await upsertDevice(ctx.store, { guid: 'g-ws-1', hostname: 'ws-1', status: 'online', last_seen: 1 });
  await assignDeviceToSite(ctx.store, 'ws-1', site.id);
  const filter = await ctx.db.insertInto('device_filters').values({ name: 'all', created_at: 1, updated_at: 1 }).returning('id').executeTakeFirstOrThrow();
  JOB.targets = { hostnames: ['ws-1'], sites: [site.id], filters: [filter.id] };
}

describeBackends('jobyard jobs / runs', (ctx) => {
  const env = () => ({ DATABASE_URL: ctx.url });
  beforeEach(async () => {
    await ctx.truncateAll();
    await seedTargets(ctx);
  });
  const countJobs = async () => (await ctx.db.selectFrom('scheduled_jobs').select('id').execute()).length;

  it('creates a job from a file, lists it, disables and enables it', async () => {
    const created = await jobyard(['jobs', 'create', '--file', jobFile(JOB)], env());
    expect(created).toMatchObject({ code: 0, stderr: '' });
    expect(created.stdout).toMatch(/^\d+\n$/);
    const id = Number(created.stdout);

    const asJson = await jobyard(['jobs', 'create', '--file', jobFile({ ...JOB, name: 'second' }), '--json'], env());
    expect(asJson.code).toBe(0);
    const row = JSON.parse(asJson.stdout) as Record<string, unknown>;
    expect(row).toMatchObject({ name: 'second', enabled: true, start_ts: Date.UTC(2099, 11, 1, 2, 30), targets_json: JOB.targets });

    const list = await jobyard(['jobs', 'list', '--json'], env());
    expect(list.code).toBe(0);
    const jobs = (JSON.parse(list.stdout) as { items: Array<{ id: number; name: string; next_run_at: number | null }> }).items;
    expect(jobs.map((j) => [j.id, j.name, j.next_run_at])).toEqual([
      [id, 'nightly cleanup', Date.UTC(2099, 11, 1, 2, 30)],
      [row.id, 'second', Date.UTC(2099, 11, 1, 2, 30)],
    ]);

    const table = (await jobyard(['jobs', 'list'], env())).stdout.trimEnd().split('\n');
    expect(table[0]).toMatch(/^id\s+name\s+kind\s+schedule\s+enabled\s+next run$/);
    expect(table[1]).toMatch(new RegExp(`^${id}\\s+nightly cleanup\\s+automation\\s+daily \\(Europe/Berlin\\)\\s+yes\\s+2099-12-01T02:30:00.000Z$`));

    const disabled = await jobyard(['jobs', 'disable', String(id)], env());
    expect(disabled).toMatchObject({ code: 0, stdout: `job ${id} disabled\n` });
    expect(await ctx.db.selectFrom('scheduled_jobs').select(['enabled', 'next_run_at']).where('id', '=', id).executeTakeFirst()).toEqual({
      enabled: false,
      next_run_at: null,
    });

    const enabled = await jobyard(['jobs', 'enable', String(id)], env());
    expect(enabled).toMatchObject({ code: 0, stdout: `job ${id} enabled; next run 2099-12-01T02:30:00.000Z\n` });
    expect((await ctx.db.selectFrom('scheduled_jobs').select('enabled').where('id', '=', id).executeTakeFirst())?.enabled).toBe(true);
  });

  it('lists runs (an empty page for a job that has not run) and refuses an unknown job', async () => {
    const id = Number((await jobyard(['jobs', 'create', '--file', jobFile(JOB)], env())).stdout);
    const runs = await jobyard(['runs', 'list', '--job', String(id), '--json'], env());
    expect(runs.code).toBe(0);
    expect(JSON.parse(runs.stdout)).toEqual({ items: [], next_cursor: null });

    await ctx.db
      .insertInto('scheduled_job_runs')
      .values({ job_id: id, scheduled_ts: Date.UTC(2099, 11, 1, 2, 30), status: 'Skipped', skip_reason: 'missed', error: '3 occurrences', created_at: 1, updated_at: 1 })
      .execute();
    const table = (await jobyard(['runs', 'list', '--job', String(id), '--limit', '5'], env())).stdout.trimEnd().split('\n');
    expect(table[0]).toMatch(/^id\s+scheduled\s+status\s+started\s+finished\s+skip_reason\/error$/);
    expect(table[1]).toMatch(/^\d+\s+2099-12-01T02:30:00.000Z\s+Skipped\s+-\s+-\s+missed: 3 occurrences$/);

    expect(oneLineFailure(await jobyard(['runs', 'list', '--job', '999999', '--json'], env()))).toBe('jobyard: runs list: no job with id 999999');
    oneLineFailure(await jobyard(['runs', 'list', '--job', String(id), '--limit', '0'], env()));
  });

  it('unknown and non-integer ids exit 2 with one line', async () => {
    expect(oneLineFailure(await jobyard(['jobs', 'disable', '999999'], env()))).toBe('jobyard: jobs disable: no job with id 999999');
    expect(oneLineFailure(await jobyard(['jobs', 'enable', '999999'], env()))).toBe('jobyard: jobs enable: no job with id 999999');
    for (const bad of ['abc', '1.5', '-3', '0', '99999999999']) {
      expect(oneLineFailure(await jobyard(['jobs', 'disable', bad], env()))).toMatch(/^jobyard: jobs disable: id: expected a positive integer/);
    }
  });

  it('an invalid job file exits 2 with one line naming schedule_type and its values, and writes nothing', async () => {
    const r = await jobyard(['jobs', 'create', '--file', jobFile({ ...JOB, schedule_type: 'every_7_minutes', components: [] })], env());
    const line = oneLineFailure(r);
    expect(line).toContain(`schedule_type: unknown value "every_7_minutes"; expected one of ${SCHEDULE_TYPES_LIST}`);
    expect(line).toMatch(/^jobyard: invalid job definition: /);
    expect(line).toContain('components: must not be empty');
    expect(await countJobs()).toBe(0);
  });

  it('a missing file, bad JSON or a secret exit 2 with one line and write nothing', async () => {
    expect(oneLineFailure(await jobyard(['jobs', 'create', '--file', join(dir, 'missing.json')], env()))).toMatch(
      /^jobyard: jobs create: cannot read .*missing\.json: ENOENT/,
    );
    expect(oneLineFailure(await jobyard(['jobs', 'create', '--file', jobFile('{\n "name": "x",\n "api_key": "s3cr3t"\n')], env()))).toMatch(
      /^jobyard: jobs create: .* is not valid JSON \(error at line 4, column 1\)$/,
    );
    // V8 quotes the broken text in its message; none of it may reach the terminal.
    const broken = oneLineFailure(await jobyard(['jobs', 'create', '--file', jobFile('{"api_key": s3cr3t}')], env()));
    expect(broken).toMatch(/is not valid JSON$/);
    expect(broken).not.toContain('s3cr3t');
    const secret = { ...JOB, components: [{ kind: 'command', argv: ['x'], env: { API_TOKEN: 's3cr3t' } }] };
    const line = oneLineFailure(await jobyard(['jobs', 'create', '--file', jobFile(secret)], env()));
    expect(line).toBe('jobyard: invalid job definition: components.0.env.API_TOKEN: secrets never enter job definitions; use credential_id');
    expect(await countJobs()).toBe(0);
  });
});

describeBackends('jobyard jobs run-now', (ctx) => {
  it('fires one occurrence now and leaves the schedule alone; unknown ids exit 2', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join: joinPath } = await import('node:path');
    const { createSite } = await import('../../src/inventory/sites.js');
    const { upsertDevice, assignDeviceToSite } = await import('../../src/inventory/devices.js');
    const site = await createSite(ctx.store, { name: `rn-${Date.now()}` });
    await upsertDevice(ctx.store, { guid: 'rn-1', hostname: 'rn-host', status: 'online', last_seen: Date.now() });
    await assignDeviceToSite(ctx.store, 'rn-host', site.id);
    const file = joinPath(mkdtempSync(joinPath(tmpdir(), 'jy-')), 'job.json');
    writeFileSync(file, JSON.stringify({ name: 'rn', schedule_type: 'daily', start_ts: '2030-01-01T00:00:00Z', targets: { hostnames: ['rn-host'] }, components: [{ kind: 'command', argv: ['true'] }] }));
    const env = { DATABASE_URL: ctx.url };
    const created = await jobyard(['jobs', 'create', '--file', file], env);
    const jobId = Number(created.stdout.trim());
    const fired = await jobyard(['jobs', 'run-now', String(jobId), '--json'], env);
    expect(fired.code).toBe(0);
    const { run_id: runId } = JSON.parse(fired.stdout) as { run_id: number };
    const items = await ctx.db.selectFrom('job_scheduler_work_items').selectAll().where('run_id', '=', runId).execute();
    expect(items.map((i) => [i.kind, i.site_id])).toEqual([['scheduled_run', site.id]]);
    const job = await ctx.db.selectFrom('scheduled_jobs').select('next_run_at').where('id', '=', jobId).executeTakeFirstOrThrow();
    expect(job.next_run_at).toBe(Date.UTC(2030, 0, 1));
    const missing = await jobyard(['jobs', 'run-now', '999999'], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim()).toBe('jobyard: jobs run-now: no job with id 999999');
  });
});

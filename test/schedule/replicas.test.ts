/**
 * Exactly once across replicas: three scheduler processes tick the same database with the same
 * fast fake clock; every occurrence gets exactly one run and one work item per site, none is
 * missing, and the replicas really raced (also with several write batches per tick in flight).
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { toJson } from '../../src/db/dialect.js';
import { assignDeviceToSite, upsertDevice } from '../../src/inventory/devices.js';
import { createSite } from '../../src/inventory/sites.js';
import { describeBackends } from '../helpers/backends.js';
import { insertJob } from '../helpers/jobs.js';

const run = promisify(execFile);
const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'ticker-replica.mjs');
const MIN = 60_000;
const T = Date.UTC(2026, 10, 2, 0, 0, 0);
const TICKS = 300;

describeBackends('three scheduler replicas', (ctx) => {
  it('produce exactly one run per occurrence and one item per occurrence and site', async () => {
    const siteIds: number[] = [];
    for (const name of ['s1', 's2']) {
      const site = await createSite(ctx.store, { name });
      siteIds.push(site.id);
      await upsertDevice(ctx.store, { guid: `g-${name}`, hostname: `${name}-host`, status: 'online', last_seen: T + TICKS * MIN });
      await assignDeviceToSite(ctx.store, `${name}-host`, site.id);
    }
    const schedules = ['every_5_minutes', 'every_15_minutes', 'every_hour', 'every_10_minutes', 'every_30_minutes'];
    const jobs = [];
    for (let i = 0; i < 20; i++) {
      jobs.push(
        await insertJob(ctx.db, {
          at: T + i * MIN, // first due
          created_at: T,
          updated_at: T,
          name: `job-${i}`,
          targets_json: toJson({ sites: siteIds }),
          schedule_type: schedules[i % schedules.length]!,
        }),
      );
    }
    const goAt = Date.now() + 2_500; // every replica is connected and waiting by then
    // Write batches of 200 (the default: a tick's due jobs in one), 3 and 4 jobs: the small ones
    // make a tick write several batches, two at once where the store has several connections,
    // and chunk the due jobs differently from the other replicas'.
    const replicas = await Promise.all(
      ['200', '3', '4'].map((batch) =>
        run(process.execPath, [FIXTURE, ctx.url, String(T), String(MIN), String(TICKS), String(goAt), batch], { timeout: 90_000 }),
      ),
    );
    const totals = replicas.map((r) => JSON.parse(r.stdout.trim()) as { advanced: number; lostRaces: number; runs: number; errors: number });
    const end = T + (TICKS - 1) * MIN;

    const runs = await ctx.db.selectFrom('scheduled_job_runs').select(['id', 'job_id', 'scheduled_ts', 'status']).execute();
    const items = await ctx.db.selectFrom('job_scheduler_work_items').select(['run_id', 'site_id', 'dedupe_key']).execute();
    let expected = 0;
    for (const [i, job] of jobs.entries()) {
      const step = { every_5_minutes: 5, every_10_minutes: 10, every_15_minutes: 15, every_30_minutes: 30, every_hour: 60 }[job.schedule_type]! * MIN;
      const want: number[] = [];
      for (let ts = T + i * MIN; ts <= end; ts += step) want.push(ts);
      const got = runs.filter((r) => r.job_id === job.id).map((r) => r.scheduled_ts).sort((a, b) => a - b);
      expect(got, `job ${job.name}`).toEqual(want);
      expected += want.length;
    }
    expect(runs.every((r) => r.status === 'Pending')).toBe(true);
    expect(runs).toHaveLength(expected);
    // One item per (run, site), and the replicas' own counts add up to exactly the rows.
    const keys = new Set(items.map((i) => `${i.run_id}:${i.site_id}`));
    expect(keys.size).toBe(items.length);
    expect(items).toHaveLength(expected * siteIds.length);
    expect(totals.reduce((n, t) => n + t.runs, 0)).toBe(expected);
    expect(totals.reduce((n, t) => n + t.errors, 0)).toBe(0);
    // They really competed: each replica advanced some jobs, and races were lost.
    expect(totals.every((t) => t.advanced > 0)).toBe(true);
    expect(totals.reduce((n, t) => n + t.lostRaces, 0)).toBeGreaterThan(0);
  }, 120_000);
});

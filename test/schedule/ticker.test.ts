/** The tick and run rollup on both backends, with a fixed clock. */
import { beforeEach, expect, it } from 'vitest';
import { toJson } from '../../src/db/dialect.js';
import type { ScheduledJob } from '../../src/db/schema.js';
import { assignDeviceToSite, upsertDevice } from '../../src/inventory/devices.js';
import { createSite } from '../../src/inventory/sites.js';
import { claimWorkItems, completeWorkItems, failWorkItem } from '../../src/queue/index.js';
import { applyRunRollups } from '../../src/schedule/rollup.js';
import { runJobNow, tick } from '../../src/schedule/ticker.js';
import { describeBackends, type BackendContext } from '../helpers/backends.js';
import { insertJob, type JobRow } from '../helpers/jobs.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T = Date.UTC(2026, 10, 2, 9, 0, 0);
const OFFLINE_MS = 10 * 60_000;

async function seedInventory(ctx: BackendContext) {
  const sites = [];
  for (const name of ['alpha', 'beta', 'gamma']) sites.push(await createSite(ctx.store, { name }, T - DAY));
  let n = 0;
  for (const site of sites) {
    for (const i of [1, 2]) {
      const hostname = `${site.name}-${i}`;
      // gamma-2 was last seen an hour ago: offline.
      const lastSeen = hostname === 'gamma-2' ? T - HOUR : T - 60_000;
      await upsertDevice(ctx.store, { guid: `g-${++n}`, hostname, status: 'online', last_seen: lastSeen }, T - DAY);
      await assignDeviceToSite(ctx.store, hostname, site.id, T - DAY);
    }
  }
  const archived = await ctx.db
    .insertInto('device_filters')
    .values({ name: 'retired', archived: true, basic_criteria_json: toJson({ match: 'all', rules: [] }), created_at: T, updated_at: T })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { sites, archivedFilterId: archived.id };
}

/** A job due at T, written a day before. */
function insertDueJob(ctx: BackendContext, columns: Omit<JobRow, 'at'> = {}): Promise<ScheduledJob> {
  return insertJob(ctx.db, { at: T, created_at: T - DAY, updated_at: T - DAY, ...columns });
}

describeBackends('scheduler tick', (ctx) => {
  let inv: Awaited<ReturnType<typeof seedInventory>>;
  beforeEach(async () => {
    await ctx.truncateAll();
    inv = await seedInventory(ctx);
  });
  const runsOf = (jobId: number) => ctx.db.selectFrom('scheduled_job_runs').selectAll().where('job_id', '=', jobId).orderBy('scheduled_ts').execute();
  const itemsOf = (jobId: number) => ctx.db.selectFrom('job_scheduler_work_items').selectAll().where('job_id', '=', jobId).orderBy('site_id').execute();

  it('writes every due job exactly once across several write batches, two in flight where the store allows', async () => {
    const [alpha] = inv.sites;
    const jobs = [];
    for (let i = 0; i < 11; i++) jobs.push(await insertDueJob(ctx, { name: `batch-${i}`, targets_json: toJson({ sites: [alpha!.id] }) }));
    const summary = await tick(ctx.store, { now: T + 100, offlineAfterMs: OFFLINE_MS, writeBatch: 3 });
    expect(summary).toMatchObject({ due: 11, advanced: 11, runs: 11, items: 11, lostRaces: 0 });
    const runs = await ctx.db.selectFrom('scheduled_job_runs').select(['id', 'job_id', 'scheduled_ts']).execute();
    expect(runs.map((r) => r.job_id).sort((a, b) => a - b)).toEqual(jobs.map((j) => j.id).sort((a, b) => a - b));
    const items = await ctx.db.selectFrom('job_scheduler_work_items').select(['job_id', 'run_id', 'payload_json']).execute();
    const runOf = new Map(runs.map((r) => [r.job_id, r.id]));
    // Each item (and its payload) names its own job's run.
    expect(items.map((i) => [i.job_id, i.run_id, (i.payload_json as { run_id: number }).run_id])).toEqual(
      expect.arrayContaining(jobs.map((j) => [j.id, runOf.get(j.id), runOf.get(j.id)])),
    );
    expect(items).toHaveLength(11);
    const next = await ctx.db.selectFrom('scheduled_jobs').select('next_run_at').execute();
    expect(next.every((j) => j.next_run_at === T + HOUR)).toBe(true);
    expect((await tick(ctx.store, { now: T + 200, writeBatch: 3 })).due).toBe(0);
  });

  it('writes one run, the frozen targets and one work item per site, and advances the job', async () => {
    const [alpha, beta, gamma] = inv.sites;
    const job = await insertDueJob(ctx, {
      name: 'patch',
      targets_json: toJson({ sites: [alpha!.id, beta!.id, gamma!.id], hostnames: ['ALPHA-1', 'ghost'], filters: [inv.archivedFilterId] }),
    });
    const summary = await tick(ctx.store, { now: T + 100, offlineAfterMs: OFFLINE_MS });
    expect(summary).toMatchObject({ due: 1, advanced: 1, runs: 1, items: 3, lostRaces: 0 });
    const [run] = await runsOf(job.id);
    expect(run).toMatchObject({ scheduled_ts: T, status: 'Pending' });
    const targets = await ctx.db.selectFrom('scheduled_job_run_targets').selectAll().where('run_id', '=', run!.id).execute();
    const byHost = new Map(targets.map((t) => [t.hostname, t]));
    expect(targets.filter((t) => t.resolution_status === 'resolved')).toHaveLength(5);
    expect(byHost.get('alpha-1')).toMatchObject({ site_id: alpha!.id, status: 'Pending', device_guid: 'g-1' });
    expect(byHost.get('gamma-2')).toMatchObject({ resolution_status: 'offline', status: 'Expired' });
    expect(byHost.get('ghost')).toMatchObject({ resolution_status: 'not_found', status: 'Skipped' });
    const archived = targets.find((t) => t.resolution_status === 'archived_filter');
    expect(archived?.resolution_reason).toMatch(/archived/);
    const items = await itemsOf(job.id);
    expect(items.map((i) => [i.kind, i.site_id, i.dedupe_key, i.run_id])).toEqual(
      [alpha!, beta!, gamma!].map((s) => ['scheduled_run', s.id, `scheduled:${job.id}:${T}:${s.id}`, run!.id]),
    );
    expect(items[0]!.payload_json).toEqual({ job_id: job.id, job_name: 'patch', job_kind: 'automation', run_id: run!.id, scheduled_ts: T, site_id: alpha!.id, target_count: 2 });
    expect(items[2]!.payload_json).toMatchObject({ target_count: 1 }); // gamma-2 is offline
    const after = await ctx.db.selectFrom('scheduled_jobs').select('next_run_at').where('id', '=', job.id).executeTakeFirstOrThrow();
    expect(after.next_run_at).toBe(T + HOUR);
    // The same moment again: nothing is due.
    expect((await tick(ctx.store, { now: T + 200 })).due).toBe(0);
  });

  it('records zero targets as Skipped and all-offline as Expired, without work items', async () => {
    const none = await insertDueJob(ctx, { targets_json: toJson({ filters: [inv.archivedFilterId] }) });
    const offline = await insertDueJob(ctx, { targets_json: toJson({ hostnames: ['gamma-2'] }) });
    await tick(ctx.store, { now: T, offlineAfterMs: OFFLINE_MS });
    expect((await runsOf(none.id))[0]).toMatchObject({ status: 'Skipped', skip_reason: 'no_devices_targeted' });
    expect((await runsOf(offline.id))[0]).toMatchObject({ status: 'Expired', error: 'all 1 target offline' });
    expect(await itemsOf(none.id)).toEqual([]);
    expect(await itemsOf(offline.id)).toEqual([]);
  });

  it('stops an expired job and says so', async () => {
    const job = await insertDueJob(ctx, { targets_json: toJson({ hostnames: ['alpha-1'] }), duration_stop_enabled: true, expiration: T + 30 * 60_000 });
    await tick(ctx.store, { now: T });
    const runs = await runsOf(job.id);
    expect(runs.map((r) => [r.scheduled_ts, r.status, r.skip_reason])).toEqual([
      [T, 'Pending', null],
      [T + 30 * 60_000, 'Skipped', 'expired'],
    ]);
    expect((await ctx.db.selectFrom('scheduled_jobs').select('next_run_at').where('id', '=', job.id).executeTakeFirstOrThrow()).next_run_at).toBeNull();
  });

  it('handles a 3-day outage per missed policy', async () => {
    const targets = toJson({ hostnames: ['alpha-1'] });
    const skip = await insertDueJob(ctx, { targets_json: targets, missed_policy: 'skip' });
    const once = await insertDueJob(ctx, { targets_json: targets, missed_policy: 'run_once' });
    const all = await insertDueJob(ctx, { targets_json: targets, missed_policy: 'run_all' });
    const now = T + 3 * DAY + 10 * 60_000;
    await upsertDevice(ctx.store, { guid: 'g-1', hostname: 'alpha-1', status: 'online', last_seen: now });
    await tick(ctx.store, { now });
    const skipRuns = await runsOf(skip.id);
    expect(skipRuns).toHaveLength(1);
    expect(skipRuns[0]).toMatchObject({ status: 'Skipped', skip_reason: 'missed', scheduled_ts: T });
    expect(skipRuns[0]!.error).toMatch(/^missed 73 occurrences between 2026-11-02T09:00:00.000Z and 2026-11-05T09:00:00.000Z/);
    expect(await itemsOf(skip.id)).toEqual([]);
    const onceRuns = await runsOf(once.id);
    expect(onceRuns.map((r) => r.status)).toEqual(['Skipped', 'Pending']);
    expect(onceRuns[1]!.scheduled_ts).toBe(T + 3 * DAY);
    expect(await itemsOf(once.id)).toHaveLength(1);
    expect(await runsOf(all.id)).toHaveLength(73);
    expect(await itemsOf(all.id)).toHaveLength(73);
    for (const j of [skip, once, all]) {
      const row = await ctx.db.selectFrom('scheduled_jobs').select('next_run_at').where('id', '=', j.id).executeTakeFirstOrThrow();
      expect(row.next_run_at).toBe(T + 3 * DAY + HOUR);
    }
  });

  it('fails a malformed job row readably and keeps ticking the others', async () => {
    const badTargets = await insertDueJob(ctx, { targets_json: toJson({ sites: 'all of them' }) });
    const badSchedule = await insertDueJob(ctx, { schedule_type: 'every_7_minutes' });
    const good = await insertDueJob(ctx, { targets_json: toJson({ hostnames: ['alpha-1'] }) });
    await tick(ctx.store, { now: T });
    const [bt] = await runsOf(badTargets.id);
    expect(bt).toMatchObject({ status: 'Failed' });
    expect(bt!.error).toMatch(/sites/);
    const [bs] = await runsOf(badSchedule.id);
    expect(bs!.error).toMatch(/^invalid schedule: schedule_type: unknown value "every_7_minutes"/);
    expect((await ctx.db.selectFrom('scheduled_jobs').select('next_run_at').where('id', '=', badSchedule.id).executeTakeFirstOrThrow()).next_run_at).toBeNull();
    expect(await itemsOf(good.id)).toHaveLength(1);
  });

  it('enqueues one onboarding_run for the scope site of an onboarding job', async () => {
    const job = await insertDueJob(ctx, {
      job_kind: 'onboarding',
      targets_json: toJson({ onboarding_scope: { site_id: inv.sites[1]!.id, entries: ['127.0.0.1'] } }),
    });
    await tick(ctx.store, { now: T });
    const items = await itemsOf(job.id);
    expect(items.map((i) => [i.kind, i.site_id, i.priority])).toEqual([['onboarding_run', inv.sites[1]!.id, 50]]);
  });

  it('runs a job now without touching its schedule', async () => {
    const job = await insertDueJob(ctx, { targets_json: toJson({ hostnames: ['beta-1'] }), next_run_at: T + DAY });
    const runId = await runJobNow(ctx.store, job, { now: T + 5 });
    const [run] = await runsOf(job.id);
    expect(run).toMatchObject({ id: runId, scheduled_ts: T + 5, status: 'Pending' });
    expect(await itemsOf(job.id)).toHaveLength(1);
    expect((await ctx.db.selectFrom('scheduled_jobs').select('next_run_at').where('id', '=', job.id).executeTakeFirstOrThrow()).next_run_at).toBe(T + DAY);
  });

  it('rolls runs up from their items: Success, Partial, Failed with the dead item\'s error', async () => {
    const [alpha, beta] = inv.sites;
    const ok = await insertDueJob(ctx, { targets_json: toJson({ hostnames: ['alpha-1'] }) });
    const partial = await insertDueJob(ctx, { targets_json: toJson({ sites: [alpha!.id, beta!.id] }) });
    const dead = await insertDueJob(ctx, { targets_json: toJson({ hostnames: ['beta-2'] }) });
    await tick(ctx.store, { now: T });
    const claim = (siteId: number) => claimWorkItems(ctx.store, { owner: `w${siteId}`, siteId, limit: 10, leaseSeconds: 60, now: T + 1 });
    const a = await claim(alpha!.id);
    const b = await claim(beta!.id);
    expect(await applyRunRollups(ctx.store, { now: T + 2 })).toBe(0);
    expect((await runsOf(ok.id))[0]).toMatchObject({ status: 'Running', started_ts: T + 1 });
    await completeWorkItems(ctx.store, `w${alpha!.id}`, a.map((item) => ({ item })), { now: T + 10 });
    const bPartial = b.find((i) => i.job_id === partial.id)!;
    const bDead = b.find((i) => i.job_id === dead.id)!;
    await completeWorkItems(ctx.store, `w${beta!.id}`, [{ item: bPartial }], { now: T + 10 });
    await failWorkItem(ctx.store, `w${beta!.id}`, bDead, new Error('ssh: connection refused'), { retryable: false, now: T + 11 });
    // partial: both site items succeeded but nothing failed... make it partial by failing one target explicitly.
    const partialRun = (await runsOf(partial.id))[0]!;
    await ctx.db.updateTable('scheduled_job_run_targets').set({ status: 'Failed' }).where('run_id', '=', partialRun.id).where('hostname', '=', 'beta-2').execute();
    expect(await applyRunRollups(ctx.store, { now: T + 20 })).toBe(3);
    expect((await runsOf(ok.id))[0]).toMatchObject({ status: 'Success', error: null, started_ts: T + 1, finished_ts: T + 10 });
    expect((await runsOf(partial.id))[0]).toMatchObject({ status: 'Partial' });
    expect((await runsOf(dead.id))[0]).toMatchObject({ status: 'Failed', error: 'ssh: connection refused', finished_ts: T + 11 });
    const okTargets = await ctx.db.selectFrom('scheduled_job_run_targets').select(['status', 'finished_at']).where('run_id', '=', (await runsOf(ok.id))[0]!.id).execute();
    expect(okTargets).toEqual([{ status: 'Success', finished_at: T + 10 }]);
  });
});

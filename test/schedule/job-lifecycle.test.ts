/**
 * The job lifecycle in the domain (both backends): create, update, delete and export are
 * validated as one, audited in the same transaction, and leave written occurrences alone; a rerun
 * copies the source run's frozen targets and is deduplicated while it is unfinished. The clock is
 * injected (NOW, far in the future), never today's date.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { listAudit } from '../../src/audit/audit-log.js';
import { ConflictError, NotFoundError, ValidationError } from '../../src/errors.js';
import { assignDeviceToSite, upsertDevice } from '../../src/inventory/devices.js';
import { createSite } from '../../src/inventory/sites.js';
import { readJobDetail, listJobsPage } from '../../src/schedule/job-detail.js';
import { exportJob } from '../../src/schedule/job-export.js';
import { createJob, deleteJob, JobDefinitionError, updateJob } from '../../src/schedule/job-lifecycle.js';
import { rerunRun } from '../../src/schedule/rerun.js';
import { listRunsPage, readRunDetail } from '../../src/schedule/run-detail.js';
import { runJobNow } from '../../src/schedule/ticker.js';
import { describeBackends } from '../helpers/backends.js';
import { jobDefinition } from '../helpers/jobs.js';

const NOW = Date.UTC(2099, 0, 1, 0, 0);
const ACTOR = 'cli:tester';
const at = { actor: ACTOR, now: NOW };

describeBackends('job lifecycle', (ctx) => {
  let site = 0;
  const def = (overrides: Record<string, unknown> = {}) =>
    jobDefinition({ start_ts: '2099-06-01T02:30:00Z', targets: { sites: [site] }, ...overrides });

  beforeEach(async () => {
    await ctx.truncateAll();
    site = (await createSite(ctx.store, { name: 'berlin' })).id;
    for (const h of ['ws-1', 'ws-2']) {
      await upsertDevice(ctx.store, { guid: `g-${h}`, hostname: h, status: 'online', last_seen: NOW });
      await assignDeviceToSite(ctx.store, h, site);
    }
  });
  const audit = async (objectType: string) => (await listAudit(ctx.db, { objectType })).items.reverse();
  const jobCount = async () => (await ctx.db.selectFrom('scheduled_jobs').select('id').execute()).length;

  describe('create', () => {
    it('writes the job and its audit row, and returns unknown hostnames as warnings', async () => {
      const { job, warnings } = await createJob(ctx.store, def({ targets: { sites: [site], hostnames: ['later-1'] } }), at);
      expect(job).toMatchObject({ name: 'nightly cleanup', next_run_at: Date.UTC(2099, 5, 1, 2, 30) });
      expect(warnings).toEqual(['targets.hostnames: no device named "later-1" is known yet; the job targets it once it enrols']);
      const [row] = await audit('job');
      expect(row).toMatchObject({ actor: ACTOR, action: 'job.create', object_id: String(job.id), at: NOW });
      expect(row!.summary).toMatchObject({ name: 'nightly cleanup', schedule_type: 'daily', next_run_at: Date.UTC(2099, 5, 1, 2, 30) });
    });

    it('lists every problem (definition and references) and writes nothing', async () => {
      const bad = createJob(ctx.store, def({ schedule_type: 'fortnightly', targets: { sites: [99999] } }), at);
      await expect(bad).rejects.toBeInstanceOf(JobDefinitionError);
      const err = (await bad.catch((e: unknown) => e)) as ValidationError;
      expect(err.problems[0]).toMatch(/^schedule_type: unknown value "fortnightly"; expected one of immediately, once, /);
      const refs = (await createJob(ctx.store, def({ targets: { sites: [99999], filters: [88888] }, credential_id: 77777 }), at).catch((e: unknown) => e)) as ValidationError;
      expect(refs.problems).toEqual(['targets.sites: no site with id 99999', 'targets.filters: no device filter with id 88888', 'credential_id: no credential with id 77777']);
      expect(refs.message).toBe(`invalid job definition: ${refs.problems.join('; ')}`);
      expect(await jobCount()).toBe(0);
      expect(await audit('job')).toEqual([]);
    });
  });

  describe('update', () => {
    it('recomputes the next occurrence from the new schedule and audits the changed fields before and after', async () => {
      const { job } = await createJob(ctx.store, def(), at);
      const later = NOW + 60_000;
      const r = await updateJob(ctx.store, job.id, def({ schedule_type: 'weekly', start_ts: '2099-07-01T05:00:00Z', time_zone: 'UTC' }), { actor: ACTOR, now: later });
      expect(r.job).toMatchObject({ schedule_type: 'weekly', next_run_at: Date.UTC(2099, 6, 1, 5, 0), created_at: NOW, updated_at: later });
      expect(Object.keys(r.changed).sort()).toEqual(['schedule_type', 'start_ts', 'time_zone']);
      expect(r.changed.start_ts).toEqual({ before: '2099-06-01T02:30:00.000Z', after: '2099-07-01T05:00:00.000Z' });

      // A start in the past: the next occurrence is the first one after now, as at create.
      const past = await updateJob(ctx.store, job.id, def({ start_ts: '2098-03-01T03:00:00Z', time_zone: 'UTC' }), at);
      expect(past.job.next_run_at).toBe(Date.UTC(2099, 0, 1, 3, 0));

      const rows = await audit('job');
      expect(rows.map((a) => a.action)).toEqual(['job.create', 'job.update', 'job.update']);
      expect(rows[1]!.summary).toMatchObject({
        changed: { schedule_type: { before: 'daily', after: 'weekly' } },
        next_run_at: { before: Date.UTC(2099, 5, 1, 2, 30), after: Date.UTC(2099, 6, 1, 5, 0) },
      });
    });

    it('leaves occurrences already written alone: their frozen targets and work items stay', async () => {
      const { job } = await createJob(ctx.store, def(), at);
      const runId = await runJobNow(ctx.store, job, { now: NOW });
      const before = await readRunDetail(ctx.store, runId);
      await updateJob(ctx.store, job.id, def({ targets: { hostnames: ['ws-1'] } }), at);
      const after = await readRunDetail(ctx.store, runId);
      expect(after!.targets).toEqual(before!.targets);
      expect(after!.targets.map((t) => t.hostname).sort()).toEqual(['ws-1', 'ws-2']);
      expect(after!.work_items).toEqual(before!.work_items);
    });

    it('validates as create does, names unknown references and writes nothing; an unknown job is NotFound', async () => {
      const { job } = await createJob(ctx.store, def(), at);
      const err = (await updateJob(ctx.store, job.id, def({ targets: { filters: [4242] }, components: [] }), at).catch((e: unknown) => e)) as ValidationError;
      expect(err).toBeInstanceOf(JobDefinitionError);
      expect(err.problems).toEqual(['components: must not be empty']);
      const refs = (await updateJob(ctx.store, job.id, def({ targets: { filters: [4242] } }), at).catch((e: unknown) => e)) as ValidationError;
      expect(refs.problems).toEqual(['targets.filters: no device filter with id 4242']);
      expect(await ctx.db.selectFrom('scheduled_jobs').selectAll().where('id', '=', job.id).executeTakeFirst()).toEqual(job);
      await expect(updateJob(ctx.store, 999_999, def(), at)).rejects.toBeInstanceOf(NotFoundError);
      expect((await audit('job')).map((a) => a.action)).toEqual(['job.create']);
    });

    it('does not run an immediately job again that already ran', async () => {
      const { job } = await createJob(ctx.store, def({ schedule_type: 'immediately', start_ts: null }), at);
      await runJobNow(ctx.store, job, { now: NOW });
      const r = await updateJob(ctx.store, job.id, def({ schedule_type: 'immediately', start_ts: null, name: 'renamed' }), at);
      expect(r.job.next_run_at).toBeNull();
    });
  });

  describe('delete', () => {
    it('deletes a job with its history and audits it', async () => {
      const { job } = await createJob(ctx.store, def(), at);
      const runId = await runJobNow(ctx.store, job, { now: NOW });
      await ctx.db.updateTable('scheduled_job_runs').set({ status: 'Success' }).where('id', '=', runId).execute();
      expect(await deleteJob(ctx.store, job.id, at)).toMatchObject({ runsDeleted: 1, itemsCancelled: 0 });
      expect(await jobCount()).toBe(0);
      expect(await ctx.db.selectFrom('scheduled_job_runs').select('id').execute()).toEqual([]);
      expect(await ctx.db.selectFrom('scheduled_job_run_targets').select('id').execute()).toEqual([]);
      const [, deleted] = await audit('job');
      expect(deleted).toMatchObject({ action: 'job.delete', object_id: String(job.id), summary: { name: 'nightly cleanup', runs_deleted: 1, items_cancelled: 0, forced: false } });
      await expect(deleteJob(ctx.store, job.id, at)).rejects.toBeInstanceOf(NotFoundError);
    });

    it('refuses while an occurrence is unfinished, naming it; force cancels its work items and deletes', async () => {
      const { job } = await createJob(ctx.store, def(), at);
      const runId = await runJobNow(ctx.store, job, { now: NOW });
      const refused = (await deleteJob(ctx.store, job.id, at).catch((e: unknown) => e)) as ConflictError;
      expect(refused).toBeInstanceOf(ConflictError);
      expect(refused.message).toBe(
        `job ${job.id} has 1 unfinished occurrence (run ${runId}); wait for it to finish, or pass --force (API: ?force=true) to cancel its work items and delete the job with its history`,
      );
      expect(await jobCount()).toBe(1);
      expect((await audit('job')).map((a) => a.action)).toEqual(['job.create']);

      const forced = await deleteJob(ctx.store, job.id, { ...at, force: true });
      expect(forced).toMatchObject({ runsDeleted: 1, itemsCancelled: 1 });
      const items = await ctx.db.selectFrom('job_scheduler_work_items').select(['status', 'error']).where('job_id', '=', job.id).execute();
      expect(items).toEqual([{ status: 'cancelled', error: `job ${job.id} deleted by ${ACTOR}` }]);
      expect(await jobCount()).toBe(0);
    });
  });

  it('export gives a definition create accepts back unchanged (through JSON text, as a file)', async () => {
    const { job } = await createJob(ctx.store, def({ cron_expression: null, execution_context: 'system', targets: { sites: [site], hostnames: ['ws-1'] } }), at);
    const text = JSON.stringify(exportJob(job), null, 2);
    const { job: copy } = await createJob(ctx.store, JSON.parse(text), at);
    expect(copy.id).not.toBe(job.id);
    expect(exportJob(copy)).toEqual(exportJob(job));
    expect(copy.next_run_at).toBe(job.next_run_at);
  });

  it('show gives the definition, schedule in words, next and last occurrence and recent runs with target counts', async () => {
    const { job } = await createJob(ctx.store, def(), at);
    const runId = await runJobNow(ctx.store, job, { now: NOW });
    const d = await readJobDetail(ctx.store, job.id);
    expect(d).toMatchObject({
      id: job.id,
      enabled: true,
      schedule: 'daily at 04:30 (Europe/Berlin)', // 02:30Z is 04:30 in Berlin's summer time
      next_run_at: Date.UTC(2099, 5, 1, 2, 30),
      last_occurrence: { run_id: runId, scheduled_ts: NOW, status: 'Pending' },
      definition: exportJob(job),
      recent_runs: [{ id: runId, status: 'Pending', targets: { Pending: 2 } }],
    });
    await expect(readJobDetail(ctx.store, 424242)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('lists jobs and runs one page at a time', async () => {
    const ids: number[] = [];
    for (let i = 0; i < 3; i++) ids.push((await createJob(ctx.store, def({ name: `j${i}` }), at)).job.id);
    const first = await listJobsPage(ctx.store, { limit: 2 });
    expect(first.items.map((j) => j.id)).toEqual(ids.slice(0, 2));
    const second = await listJobsPage(ctx.store, { limit: 2, cursor: first.next_cursor! });
    expect(second).toMatchObject({ items: [{ id: ids[2] }], next_cursor: null });
    await expect(listJobsPage(ctx.store, { cursor: 'nonsense' })).rejects.toBeInstanceOf(ValidationError);

    const job = (await ctx.db.selectFrom('scheduled_jobs').selectAll().where('id', '=', ids[0]!).executeTakeFirstOrThrow());
    const runs = [];
    for (let i = 0; i < 3; i++) runs.push(await runJobNow(ctx.store, job, { now: NOW + i }));
    const page1 = await listRunsPage(ctx.store, { jobId: job.id, limit: 2 });
    expect(page1.items.map((r) => r.id)).toEqual([runs[2], runs[1]]);
    const page2 = await listRunsPage(ctx.store, { jobId: job.id, limit: 2, cursor: page1.next_cursor! });
    expect(page2).toMatchObject({ items: [{ id: runs[0] }], next_cursor: null });
    await expect(listRunsPage(ctx.store, { jobId: 424242 })).rejects.toBeInstanceOf(NotFoundError);
  });

  describe('rerun', () => {
    it('copies the frozen targets (never resolves again) and audits the new run', async () => {
      const { job } = await createJob(ctx.store, def(), at);
      const source = await runJobNow(ctx.store, job, { now: NOW });
      // The inventory changes after the source ran: a rerun still targets what the source froze.
      await upsertDevice(ctx.store, { guid: 'g-ws-3', hostname: 'ws-3', status: 'online', last_seen: NOW });
      await assignDeviceToSite(ctx.store, 'ws-3', site);
      const r = await rerunRun(ctx.store, source, { actor: ACTOR, now: NOW + 1000 });
      expect(r).toMatchObject({ created: true, source_run_id: source, job_id: job.id });
      const d = await readRunDetail(ctx.store, r.run_id);
      expect(d!.run).toMatchObject({ status: 'Pending', rerun_of_run_id: source, scheduled_ts: NOW + 1000 });
      expect(d!.targets.map((t) => [t.hostname, t.resolution_status, t.status])).toEqual([
        ['ws-1', 'resolved', 'Pending'],
        ['ws-2', 'resolved', 'Pending'],
      ]);
      expect(d!.work_items).toMatchObject([{ kind: 'scheduled_run', site_id: site, status: 'queued' }]);
      const [row] = await audit('run');
      expect(row).toMatchObject({ action: 'run.rerun', actor: ACTOR, object_id: String(r.run_id), summary: { source_run_id: source, job_id: job.id, targets: 2, work_items: 1 } });
    });

    it('is deduplicated while the rerun is unfinished, even when asked twice at once; a finished rerun allows another', async () => {
      const { job } = await createJob(ctx.store, def(), at);
      const source = await runJobNow(ctx.store, job, { now: NOW });
      const [a, b] = await Promise.all([
        rerunRun(ctx.store, source, { actor: ACTOR, now: NOW + 1 }),
        rerunRun(ctx.store, source, { actor: ACTOR, now: NOW + 2 }),
      ]);
      expect([a.created, b.created].sort()).toEqual([false, true]);
      expect(a.run_id).toBe(b.run_id);
      const again = await rerunRun(ctx.store, source, { actor: ACTOR, now: NOW + 3 });
      expect(again).toMatchObject({ created: false, run_id: a.run_id });
      expect((await audit('run')).length).toBe(1);

      await ctx.db.updateTable('scheduled_job_runs').set({ status: 'Success' }).where('id', '=', a.run_id).execute();
      const next = await rerunRun(ctx.store, source, { actor: ACTOR, now: NOW + 4 });
      expect(next.created).toBe(true);
      expect(next.run_id).not.toBe(a.run_id);
    });

    it('refuses an unknown run, and a run whose job was deleted (its runs went with it)', async () => {
      await expect(rerunRun(ctx.store, 987_654, { actor: ACTOR, now: NOW })).rejects.toThrow('no run with id 987654');
      const { job } = await createJob(ctx.store, def(), at);
      const source = await runJobNow(ctx.store, job, { now: NOW });
      await deleteJob(ctx.store, job.id, { ...at, force: true });
      await expect(rerunRun(ctx.store, source, { actor: ACTOR, now: NOW })).rejects.toThrow(
        `no run with id ${source} (a deleted job's runs are deleted with it)`,
      );
    });
  });

  it('run detail shows each target with its exit code, duration, detail and output snippets', async () => {
    const { job } = await createJob(ctx.store, def(), at);
    const runId = await runJobNow(ctx.store, job, { now: NOW });
    const [t1] = await ctx.db.selectFrom('scheduled_job_run_targets').select('id').where('run_id', '=', runId).where('hostname', '=', 'ws-1').execute();
    await ctx.db.updateTable('scheduled_job_run_targets').set({ status: 'Failed', finished_at: NOW + 5 }).where('id', '=', t1!.id).execute();
    const activity = await ctx.db
      .insertInto('activity_history')
      .values({ hostname: 'ws-1', script_name: 'df', script_type: 'command', ran_at: NOW, status: 'Failed', stdout: 'x'.repeat(1000), stderr: 'boom\n' })
      .returning('id')
      .executeTakeFirstOrThrow();
    await ctx.db
      .insertInto('scheduled_job_run_activity')
      .values({ run_id: runId, activity_id: activity.id, component_kind: 'command', created_at: NOW, exit_code: 3, duration_ms: 120, detail: 'exit code 3' })
      .execute();
    const d = await readRunDetail(ctx.store, runId);
    expect(d!.target_rows).toEqual([
      expect.objectContaining({ hostname: 'ws-1', resolution_status: 'resolved', outcome: 'Failed', exit_code: 3, duration_ms: 120, detail: 'exit code 3', components_run: 1, stderr_snippet: 'boom\n', stdout_snippet: `…${'x'.repeat(400)}` }),
      expect.objectContaining({ hostname: 'ws-2', outcome: 'Pending', exit_code: null, duration_ms: null, components_run: 0 }),
    ]);
    expect(d!.onboarding).toBeNull();
    expect(d!.work_items).toMatchObject([{ status: 'queued', attempt_count: 0, error: null }]);
  });
});

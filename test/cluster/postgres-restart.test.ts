/**
 * PostgreSQL restarted (`pg_ctlcluster … restart`) while three namespace hosts run, each a
 * scheduler with its site workers: every process retries and carries on without a restart of its
 * own, every occurrence still fires once, every item completes once, nothing is lost, and each
 * replica's tick recovers within seconds of the server accepting connections again.
 *
 * It restarts the shared server: only in `npm run test:cluster` (serial, after the main suite and
 * the faults), never beside other test files. PostgreSQL only.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgctl, postmasterStartedAt } from '../helpers/postgres-server.js';
import { waitUntil } from '../helpers/processes.js';
import { createClusterBed, type ClusterBed } from './bed.js';
import { attemptsFolder, createWorkload, occurrenceGaps, overlappingAttempts, readAttempts, type Workload } from './workload.js';

const orFalse = async (check: () => Promise<boolean>) => check().catch(() => false);

describe('PostgreSQL restarted under a fleet of 3 hosts [PostgreSQL only]', () => {
  let bed: ClusterBed;
  let work: Workload;

  beforeAll(async () => {
    bed = await createClusterBed(3);
    work = await createWorkload(bed.ctx.store, { sites: 6, jobs: 60, slow: 6, ...attemptsFolder() });
    for (const h of bed.hosts) h.start();
  }, 120_000);

  afterAll(async () => {
    if ((await postmasterStartedAt()) === 0) await pgctl('start').catch(() => {});
    await waitUntil(async () => (await postmasterStartedAt()) > 0, 60_000, () => 'PostgreSQL is not accepting connections after the test');
    await bed?.teardown();
    if (work) rmSync(work.dir, { recursive: true, force: true });
  }, 90_000);

  it('every replica recovers by itself; occurrences once, items completed once, nothing lost', async () => {
    const { db } = bed.ctx;
    const alive = () => {
      for (const h of bed.hosts) if (!h.alive()) throw new Error(`${h.name} exited: ${h.text.slice(-3000)}`);
    };
    // Work flowing on every host first.
    await waitUntil(
      async () => {
        alive();
        const done = await db.selectFrom('job_scheduler_work_items').select('id').where('status', '=', 'succeeded').execute();
        return done.length >= 10 && bed.hosts.every((h) => h.count('scheduler started') === 1);
      },
      120_000,
      () => 'no work done before the restart',
    );

    const restartAt = Date.now();
    await pgctl('restart');
    await waitUntil(async () => (await postmasterStartedAt()) >= restartAt, 60_000, () => 'PostgreSQL is not back');
    const readyAt = Date.now();

    // Each replica's tick loop recovers, and new occurrences are written and completed.
    const recovered = () => bed.hosts.map((h) => h.lines.find((l) => l.msg === 'loop recovered' && l.loop === 'tick' && Number(l.time) >= restartAt));
    await waitUntil(
      async () => {
        alive();
        return recovered().every(Boolean) && orFalse(async () => (await db.selectFrom('job_scheduler_work_items').select('id').where('status', '=', 'succeeded').where('finished_at', '>=', readyAt).execute()).length >= 5);
      },
      90_000,
      () => `tick recovered on ${recovered().filter(Boolean).length}/3 replicas`,
    );
    const firstCompletion = await db.selectFrom('job_scheduler_work_items').select((eb) => eb.fn.min('finished_at').as('t')).where('finished_at', '>=', readyAt).executeTakeFirst();

    // Drain and judge.
    await db.updateTable('scheduled_jobs').set({ enabled: false }).execute();
    await waitUntil(
      async () => {
        alive();
        const open = await db.selectFrom('job_scheduler_work_items').select('id').where('status', 'in', ['queued', 'running']).execute();
        const pending = await db.selectFrom('scheduled_job_runs').select('id').where('status', 'in', ['Pending', 'Running']).execute();
        return open.length === 0 && pending.length === 0;
      },
      180_000,
      () => 'the fleet did not drain after the restart',
    );
    const runs = await db.selectFrom('scheduled_job_runs').select(['id', 'status']).execute();
    const items = await db.selectFrom('job_scheduler_work_items').select(['id', 'status']).execute();
    expect(runs.filter((r) => r.status !== 'Success')).toEqual([]);
    expect(items.filter((i) => i.status !== 'succeeded')).toEqual([]);
    expect(await occurrenceGaps(bed.ctx.store, work.intervals)).toEqual([]);
    const completions = new Map<number, number>();
    for (const l of bed.hosts.flatMap((h) => h.lines)) {
      if (l.msg === 'work item settled' && l.outcome === 'completed') completions.set(Number(l.itemId), (completions.get(Number(l.itemId)) ?? 0) + 1);
    }
    expect([...completions].filter(([, n]) => n > 1)).toEqual([]);
    expect(completions.size).toBe(items.length);
    expect(overlappingAttempts(readAttempts(work.attemptsLog), () => undefined)).toEqual([]);

    process.stderr.write(
      `${JSON.stringify({
        event: 'cluster_postgres_restart',
        restart_ms: readyAt - restartAt,
        tick_recovered_ms: recovered().map((l) => Number(l!.time) - readyAt),
        first_completion_ms: Number(firstCompletion?.t) - readyAt,
        runs: runs.length,
      })}\n`,
    );
  }, 300_000);
});

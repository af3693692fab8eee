/**
 * Three (CLUSTER_HOSTS) hosts in network namespaces, each a real `jobyard scheduler` with the
 * process launcher and its own site workers, against one PostgreSQL database; 500 (CLUSTER_JOBS)
 * scheduled jobs of mixed schedules over 10 (CLUSTER_SITES) sites. In order, on the same running fleet:
 *
 * 1. steady state for CLUSTER_STEADY_SECONDS (180);
 * 2. one host partitioned (its link down) for CLUSTER_PARTITION_SECONDS (25, longer than the 10 s
 *    lease and the 20 s worker staleness): its items are taken over by the other hosts; once the
 *    link is back its late outcomes are refused (lease_lost) and its workers stop, declared lost;
 * 3. another host killed outright (kill -9 of every process in its namespace);
 * 4. the jobs are disabled and the fleet drains: every occurrence ran exactly once as a run, every
 *    item completed exactly once, nothing lost, no two attempts of one run at the same time, the
 *    launch caps held throughout, and maintenance (rollup, reclaim, lost workers) was done once per
 *    piece of work however many replicas ran it.
 *
 * Recovery times are printed as one JSON line (`cluster_recovery`) on stderr; docs/reliability.md
 * records them. PostgreSQL only, and only in `npm run test:cluster` (serial, after the suite).
 */
import { rmSync } from 'node:fs';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIVE_WORKER_STATUSES } from '../../src/fleet/worker-rows.js';
import { waitUntil } from '../helpers/processes.js';
import { CLUSTER_ENV, createClusterBed, type ClusterBed, type ClusterHost, type LogLine } from './bed.js';
import { attemptsFolder, createWorkload, expectedOccurrences, occurrenceGaps, overlappingAttempts, readAttempts, type Workload } from './workload.js';

const HOSTS = Number(process.env.CLUSTER_HOSTS ?? 3);
const JOBS = Number(process.env.CLUSTER_JOBS ?? 500);
const STEADY_S = Number(process.env.CLUSTER_STEADY_SECONDS ?? 180);
const PARTITION_S = Number(process.env.CLUSTER_PARTITION_SECONDS ?? 25);
const LEASE_MS = Number(CLUSTER_ENV.WORKER_LEASE_SECONDS) * 1000;
const STALE_MS = Number(CLUSTER_ENV.WORKER_STALE_SECONDS) * 1000;
const SITES = Number(process.env.CLUSTER_SITES ?? 10);
/** One worker per site at once (MAX_WORKERS_PER_SITE=1), all sites served: MAX_WORKERS = sites. */
const MAX_WORKERS = SITES;

describe(`a fleet of ${HOSTS} hosts on one PostgreSQL [PostgreSQL only]`, () => {
  let bed: ClusterBed;
  let work: Workload;
  const recovery: Record<string, unknown> = { hosts: HOSTS, jobs: JOBS, sites: SITES, steady_seconds: STEADY_S, partition_seconds: PARTITION_S, lease_ms: LEASE_MS, stale_ms: STALE_MS };
  /** The most live workers seen at once, in all and on one site; the most sessions of the database. */
  const peaks = { workers: 0, perSite: 0, sessions: 0 };
  let sampling = true;
  let sampler: Promise<void> = Promise.resolve();
  /** Pids of the killed host's processes and when they were killed. */
  let killed: { pids: Set<number>; at: number } | undefined;

  const db = () => bed.ctx.db;
  const allLines = (): LogLine[] => bed.hosts.flatMap((h) => h.lines);
  const hostOf = (guid: string) => bed.hosts.find((h) => h.launchedWorkers().has(guid));

  beforeAll(async () => {
    bed = await createClusterBed(HOSTS);
    const folder = attemptsFolder();
    work = await createWorkload(bed.ctx.store, { sites: SITES, jobs: JOBS, slow: 2 * SITES, ...folder });
    for (const h of bed.hosts) h.start({ MAX_WORKERS: String(MAX_WORKERS) });
    // Measured from when every replica runs (a loaded machine takes seconds to start each).
    await waitUntil(() => bed.hosts.every((h) => h.count('scheduler started') === 1), 90_000, () => bed.hosts.map((h) => h.text.slice(-500)).join('\n'));
    sampler = (async () => {
      while (sampling) {
        try {
          const live = await db().selectFrom('job_scheduler_workers').select('site_id').where('status', 'in', LIVE_WORKER_STATUSES).execute();
          const bySite = new Map<number | null, number>();
          for (const w of live) bySite.set(w.site_id, (bySite.get(w.site_id) ?? 0) + 1);
          peaks.workers = Math.max(peaks.workers, live.length);
          peaks.perSite = Math.max(peaks.perSite, ...bySite.values(), 0);
          const { rows } = await sql<{ n: string }>`select count(*)::text as n from pg_stat_activity where datname = current_database()`.execute(db());
          peaks.sessions = Math.max(peaks.sessions, Number(rows[0]!.n));
        } catch {
          // a sample lost to a busy moment is just skipped
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
  }, 120_000);

  afterAll(async () => {
    sampling = false;
    await sampler;
    process.stderr.write(`${JSON.stringify({ event: 'cluster_recovery', ...recovery, peaks })}\n`);
    await bed?.teardown();
    if (work) rmSync(work.dir, { recursive: true, force: true });
  }, 60_000);

  const hostsAlive = (hosts: ClusterHost[]) => {
    for (const h of hosts) if (!h.alive()) throw new Error(`${h.name} exited: ${h.text.slice(-3000)}`);
  };

  /** Running items held by a host's workers. */
  const heldBy = async (h: ClusterHost) => {
    const guids = [...h.launchedWorkers()];
    if (guids.length === 0) return [];
    return db().selectFrom('job_scheduler_work_items').select(['id', 'claim_count', 'lease_owner']).where('status', '=', 'running').where('lease_owner', 'in', guids).execute();
  };

  /** Waits until each item was claimed again by a worker of another host (or finished by one); returns the worst delay. */
  const takeover = async (items: Array<{ id: number; claim_count: number }>, from: ClusterHost, since: number, label: string) => {
    const done = new Map<number, number>();
    /** When each item stopped being the failed host's (released by a reclaim or a lost-worker release). */
    const released = new Map<number, number>();
    const fromGuids = from.launchedWorkers();
    await waitUntil(
      async () => {
        const rows = await db().selectFrom('job_scheduler_work_items').select(['id', 'status', 'claim_count', 'lease_owner']).where('id', 'in', items.map((i) => i.id)).execute();
        for (const r of rows) {
          const before = items.find((i) => i.id === r.id)!;
          if (!released.has(r.id) && (r.lease_owner === null || !fromGuids.has(r.lease_owner) || r.claim_count > before.claim_count)) released.set(r.id, Date.now() - since);
          const elsewhere = r.lease_owner !== null && !fromGuids.has(r.lease_owner) && r.claim_count > before.claim_count;
          if (!done.has(r.id) && (elsewhere || (r.status === 'succeeded' && r.claim_count > before.claim_count))) done.set(r.id, Date.now() - since);
        }
        return done.size === items.length;
      },
      // Generous: a takeover needs a worker started on another host, which took 60 s and more
      // on a 2-core machine loaded by other test runs (about a second when idle).
      LEASE_MS + STALE_MS + 210_000,
      () => `${label}: taken over ${done.size}/${items.length}`,
    );
    return { worst: Math.max(...done.values()), released: Math.max(...released.values()) };
  };

  it(`steady state: every occurrence fires once, every item completes once, the launch caps hold (${STEADY_S} s)`, async () => {
    const startedAt = Date.now();
    await waitUntil(
      async () => {
        hostsAlive(bed.hosts);
        return Date.now() - startedAt >= STEADY_S * 1000;
      },
      STEADY_S * 1000 + 10_000,
      () => 'steady state',
    );
    // Every occurrence due by now gets exactly one run. A tick on a loaded 2-core machine takes
    // seconds (10 s seen), so the runs due by now are awaited rather than counted at once: a
    // missed occurrence never appears (the wait fails), a doubled one would exceed the count.
    const until = Date.now();
    const expected = expectedOccurrences(work.firstDue, work.intervals, until);
    const dueRuns = async () => (await db().selectFrom('scheduled_job_runs').select('scheduled_ts').where('scheduled_ts', '<=', until).execute()).length;
    await waitUntil(async () => (await dueRuns()) >= expected, 60_000, async () => `runs due by the end of the steady state: ${await dueRuns()} of ${expected}`);
    expect(await dueRuns(), 'one run per occurrence due').toBe(expected);
    // The replicas' tick lines are read first: a tick logs after its commit, so what they report
    // can never exceed the runs in the database a moment later (it would, had two fired one).
    const firedBy = bed.hosts.map((h) => h.lines.filter((l) => l.msg === 'tick').reduce((n, l) => n + Number(l.runs ?? 0), 0));
    const runs = await db().selectFrom('scheduled_job_runs').select(['id', 'scheduled_ts']).execute();
    expect(await occurrenceGaps(bed.ctx.store, work.intervals)).toEqual([]);
    // Items finished so far: one attempt each (no host failed yet).
    const retried = await db().selectFrom('job_scheduler_work_items').select(['id', 'attempt_count']).where('status', '=', 'succeeded').where('attempt_count', '>', 1).execute();
    expect(retried).toEqual([]);
    // Every replica took part: each fired occurrences and launched workers.
    const launchedBy = bed.hosts.map((h) => h.launchedWorkers().size);
    recovery.steady = { runs: runs.length, fired_by_replica: firedBy, workers_launched_by_replica: launchedBy };
    expect(firedBy.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(runs.length);
    expect(firedBy.filter((n) => n > 0).length, `occurrences fired per replica: ${firedBy}`).toBeGreaterThanOrEqual(2);
    expect(peaks.workers).toBeLessThanOrEqual(MAX_WORKERS);
    expect(peaks.perSite).toBeLessThanOrEqual(1);
    // The steady span, up to 60 s more for the runs due by its end, and the reads after it.
  }, STEADY_S * 1000 + 120_000);

  it(`a host partitioned for ${PARTITION_S} s: others take over its items, its late outcomes are refused, its workers stop`, async () => {
    const p = await pickBusiest(bed.hosts, heldBy);
    const held = await heldBy(p);
    const liveBefore = await db().selectFrom('job_scheduler_workers').select('worker_guid').where('status', 'in', LIVE_WORKER_STATUSES).where('worker_guid', 'in', [...p.launchedWorkers()]).execute();
    const downAt = Date.now();
    await p.netns.linkDown();
    let took: { worst: number; released: number };
    try {
      took = await takeover(held, p, downAt, 'partition');
      // The link stays down past the lease and the staleness, then comes back.
      await waitUntil(() => Date.now() - downAt >= PARTITION_S * 1000, PARTITION_S * 1000 + 5_000, () => 'partition');
    } finally {
      await p.netns.linkUp(); // also when the takeover failed: the next scenarios need the host back
    }
    const { worst, released } = took;
    const upAt = Date.now();
    // Its workers were declared lost by the other replicas; once the link is back each stops: at its
    // next row heartbeat (reason "lost", exit 1) or when its own scheduler's reconcile finds the row
    // lost first and stops it (reason "signal").
    const cutOff = new Set(liveBefore.map((w) => w.worker_guid));
    const lostRows = await db().selectFrom('job_scheduler_workers').select(['worker_guid', 'status']).where('worker_guid', 'in', [...cutOff]).execute();
    // (Its scheduler may SIGKILL a worker that does not drain within 5 s: then the process is gone
    // without a "stopped" line, so the check is on the processes, by the pids in their log lines.)
    recovery.partition = { host: p.name, held_items: held.length, workers_cut_off: cutOff.size, takeover_worst_ms: worst, released_worst_ms: released };
    const stoppedLost = () => p.lines.filter((l) => l.msg === 'site worker stopped' && cutOff.has(String(l.workerGuid)));
    const pids = new Set(p.lines.filter((l) => cutOff.has(String(l.workerGuid)) && l.name === 'site-worker').map((l) => Number(l.pid)));
    const running = () => [...pids].filter((pid) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    });
    await waitUntil(() => running().length === 0, 60_000, () => `cut-off workers still running: ${running().length}/${pids.size}; ${p.text.slice(-2000)}`);
    const goneAt = Date.now();
    // What its workers reported for the items they held: never a completion.
    const heldIds = new Set(held.map((i) => i.id));
    const lateOutcomes = p.lines.filter((l) => l.msg === 'work item settled' && heldIds.has(Number(l.itemId)) && (l.time ?? 0) >= downAt).map((l) => String(l.outcome));
    expect(lateOutcomes.filter((o) => o === 'completed')).toEqual([]);
    recovery.partition = {
      host: p.name,
      held_items: held.length,
      workers_cut_off: liveBefore.length,
      takeover_worst_ms: worst,
      released_worst_ms: released,
      late_outcomes: lateOutcomes,
      workers_gone_after_link_up_ms: goneAt - upAt,
      workers_stop_reasons: stoppedLost().map((l) => String(l.reason)),
    };
    expect(lostRows.filter((w) => w.status !== 'lost' && w.status !== 'stopped')).toEqual([]);
    expect(held.length, 'the partitioned host held items').toBeGreaterThan(0);
    // Back in the queue within the staleness (or lease) plus reconcile rounds; taken over once another
    // host has started a worker for the site (seconds on an idle machine, more under load).
    expect(released).toBeLessThanOrEqual(Math.max(LEASE_MS, STALE_MS) + 10_000);
    expect(p.alive(), 'the partitioned scheduler carries on').toBe(true);
  }, PARTITION_S * 1000 + 360_000);

  it('a host killed outright (kill -9 of every process): others take over its items', async () => {
    const k = await pickBusiest(bed.hosts.slice(1).filter((h) => h.alive()), heldBy);
    const held = await heldBy(k);
    const at = Date.now();
    killed = { pids: new Set(await k.killAll()), at };
    const { worst, released } = await takeover(held, k, at, 'kill -9');
    recovery.kill = { host: k.name, held_items: held.length, processes_killed: killed.pids.size, takeover_worst_ms: worst, released_worst_ms: released };
    expect(held.length, 'the killed host held items').toBeGreaterThan(0);
    expect(released).toBeLessThanOrEqual(Math.max(LEASE_MS, STALE_MS) + 10_000);
  }, 300_000);

  it('after draining: every occurrence once, every item completed once, nothing lost, no overlapping attempts, maintenance done once', async () => {
    await db().updateTable('scheduled_jobs').set({ enabled: false }).execute();
    const survivors = bed.hosts.filter((h) => h.alive());
    await waitUntil(
      async () => {
        hostsAlive(survivors);
        const open = await db().selectFrom('job_scheduler_work_items').select('id').where('status', 'in', ['queued', 'running']).execute();
        const pending = await db().selectFrom('scheduled_job_runs').select('id').where('status', 'in', ['Pending', 'Running']).execute();
        return open.length === 0 && pending.length === 0;
      },
      240_000,
      async () => `open items ${JSON.stringify(await db().selectFrom('job_scheduler_work_items').select(['id', 'status', 'lease_owner']).where('status', 'in', ['queued', 'running']).execute())}`,
    );
    const runs = await db().selectFrom('scheduled_job_runs').select(['id', 'status', 'error']).execute();
    const items = await db().selectFrom('job_scheduler_work_items').select(['id', 'run_id', 'status', 'attempt_count']).execute();
    // Nothing lost: one item per run, every one succeeded, every run rolled up as a success.
    expect(runs.filter((r) => r.status !== 'Success')).toEqual([]);
    expect(items.filter((i) => i.status !== 'succeeded')).toEqual([]);
    expect(new Set(items.map((i) => i.run_id)).size).toBe(runs.length);
    expect(await occurrenceGaps(bed.ctx.store, work.intervals)).toEqual([]);

    // Exactly-once completion: one `completed` settlement per item across every host's workers.
    const completions = new Map<number, number>();
    for (const l of allLines()) if (l.msg === 'work item settled' && l.outcome === 'completed') completions.set(Number(l.itemId), (completions.get(Number(l.itemId)) ?? 0) + 1);
    expect([...completions].filter(([, n]) => n > 1)).toEqual([]);
    expect(completions.size).toBe(items.length);

    // No two attempts of one run at once; every run's command ran.
    const attempts = readAttempts(work.attemptsLog);
    const killedAt = (a: { pid: number }) => (killed?.pids.has(a.pid) ? killed.at : undefined);
    expect(overlappingAttempts(attempts, killedAt)).toEqual([]);
    expect(new Set(attempts.map((a) => a.runId)).size).toBe(runs.length);

    // Maintenance on every replica, each piece of work done once: the runs finalised add up to the
    // runs, each lost worker was declared lost by one replica, no loop failed on a deadlock.
    const perReplica = bed.hosts.map((h) => ({
      host: h.name,
      runs_finalised: h.lines.filter((l) => l.msg === 'runs finalised').reduce((n, l) => n + Number(l.runs), 0),
      leases_reclaimed: h.lines.filter((l) => l.msg === 'expired leases reclaimed').reduce((n, l) => n + (l.requeued as unknown[]).length, 0),
      workers_declared_lost: h.count('site worker lost'),
      workers_launched: h.launchedWorkers().size,
      loop_failures: h.lines.filter((l) => l.msg === 'loop run failed; retrying').map((l) => `${String(l.loop)}: ${String(l.err).slice(0, 80)}`),
    }));
    recovery.maintenance = perReplica;
    recovery.attempts = { runs: runs.length, items: items.length, retried_items: items.filter((i) => i.attempt_count > 1).length };
    expect(perReplica.reduce((n, r) => n + r.runs_finalised, 0)).toBe(runs.length);
    const lostRows = await db().selectFrom('job_scheduler_workers').select('worker_guid').where('status', '=', 'lost').execute();
    expect(perReplica.reduce((n, r) => n + r.workers_declared_lost, 0)).toBe(lostRows.length);
    expect(allLines().filter((l) => /deadlock/i.test(String(l.err ?? '')))).toEqual([]);
    // The launch caps held across replicas the whole time.
    expect(peaks.workers).toBeLessThanOrEqual(MAX_WORKERS);
    expect(peaks.perSite).toBeLessThanOrEqual(1);
    void hostOf;
  }, 300_000);
});

/** The host whose workers hold the most running items (waiting until one holds some). */
async function pickBusiest(hosts: ClusterHost[], heldBy: (h: ClusterHost) => Promise<Array<{ id: number }>>): Promise<ClusterHost> {
  let best: ClusterHost | undefined;
  await waitUntil(
    async () => {
      let most = 0;
      for (const h of hosts) {
        const n = (await heldBy(h)).length;
        if (n > most) [most, best] = [n, h];
      }
      return most >= 1;
    },
    90_000,
    () => 'no host holds running items',
  );
  return best!;
}

/**
 * The cluster scenarios' workload and what they check it against: sites with one device each,
 * scheduled jobs of mixed second-granularity cron schedules whose command appends one line per
 * attempt start and end ("start|end <run id> <epoch ms> <pid>") to a shared file, and readers that
 * turn the database and that file into the exactly-once, nothing-lost and no-overlap verdicts.
 */
import { chmodSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toJson } from '../../src/db/dialect.js';
import type { Store } from '../../src/db/open.js';
import { assignDeviceToSite, upsertDevice } from '../../src/inventory/devices.js';
import { createSite } from '../../src/inventory/sites.js';
import { insertJob } from '../helpers/jobs.js';

export interface Workload {
  dir: string;
  attemptsLog: string;
  siteIds: number[];
  /** Job id → its interval in ms (cron jobs). */
  intervals: Map<number, number>;
  /** Job id → its first occurrence. */
  firstDue: Map<number, number>;
}

/** A folder the commands (run as `nobody` by a root worker) can write their attempt lines to. */
export function attemptsFolder(): { dir: string; attemptsLog: string } {
  const dir = mkdtempSync(join(tmpdir(), 'jobyard-cluster-'));
  chmodSync(dir, 0o777);
  return { dir, attemptsLog: join(dir, 'attempts.log') };
}

/** sh script: one line at start, one at the end (also when SIGTERMed: the trap), `seconds` apart. */
export function attemptCommand(log: string, seconds: number): string[] {
  const stamp = (what: string) => `echo "${what} $JOBYARD_RUN_ID $(date +%s%3N) $$" >> ${log}`;
  return ['sh', '-c', `${stamp('start')}; trap '${stamp('end')}; exit 143' TERM; sleep ${seconds} & wait $!; ${stamp('end')}`];
}

/** The first time ≥ `after` whose epoch second is `offset` modulo `intervalS`. */
function nextAligned(after: number, intervalS: number, offset: number): number {
  const s = Math.ceil(after / 1000);
  const k = Math.ceil((s - offset) / intervalS);
  return (k * intervalS + offset) * 1000;
}

/**
 * `sites` sites with one online device each, and `jobs` cron jobs spread over them: `slow` of them
 * every 10 s running 4 s (so items are in flight when a host fails), the rest every 5, 10, 15 or
 * 30 minutes running 0.1 s, each at its own second offset so the load is even. Every job's first
 * occurrence is aligned to its schedule, so consecutive occurrences are exactly one interval apart.
 */
export async function createWorkload(store: Store, o: { sites: number; jobs: number; slow: number; attemptsLog: string; dir: string }): Promise<Workload> {
  const now = Date.now();
  const siteIds: number[] = [];
  for (let i = 0; i < o.sites; i++) {
    const site = await createSite(store, { name: `cluster-${i}` });
    await upsertDevice(store, { guid: `dev-${i}`, hostname: `dev-${i}`, status: 'online', last_seen: now + 86_400_000 });
    await assignDeviceToSite(store, `dev-${i}`, site.id);
    siteIds.push(site.id);
  }
  const intervals = new Map<number, number>();
  const firstDue = new Map<number, number>();
  // Mostly infrequent, as real fleets are: every 5, 10, 15 or 30 minutes (about 0.8 runs/s for 490
  // jobs). Each item spawns real processes, which is what bounds a 2-core test machine.
  const quick = [300, 600, 900, 1800];
  const firstAt = now + 5_000;
  for (let k = 0; k < o.jobs; k++) {
    const slow = k < o.slow;
    const intervalS = slow ? 10 : quick[k % quick.length]!;
    const offset = k % Math.min(intervalS, 60);
    const cron = intervalS >= 60 ? `${offset} */${intervalS / 60} * * * *` : `${offset}/${intervalS} * * * * *`;
    const job = await insertJob(store.db, {
      at: now,
      name: `${slow ? 'slow' : 'quick'}-${k}`,
      schedule_type: 'cron',
      cron_expression: cron,
      time_zone: 'UTC',
      next_run_at: nextAligned(firstAt, intervalS, offset),
      components_json: toJson([{ kind: 'command', argv: attemptCommand(o.attemptsLog, slow ? 4 : 0.1), timeout_seconds: 30 }]),
      targets_json: toJson({ sites: [siteIds[k % siteIds.length]] }),
    });
    intervals.set(job.id, intervalS * 1000);
    firstDue.set(job.id, Number(job.next_run_at));
  }
  return { dir: o.dir, attemptsLog: o.attemptsLog, siteIds, intervals, firstDue };
}

export interface Attempt {
  runId: number;
  pid: number;
  start: number;
  /** Missing when the process was SIGKILLed (no trap runs). */
  end: number | undefined;
}

export function readAttempts(file: string): Attempt[] {
  if (!existsSync(file)) return [];
  const byPid = new Map<string, Attempt>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const [what, run, at, pid] = line.split(' ');
    if (!what || !pid) continue;
    const key = `${run}:${pid}`;
    if (what === 'start') byPid.set(key, { runId: Number(run), pid: Number(pid), start: Number(at), end: undefined });
    else if (what === 'end' && byPid.has(key)) byPid.get(key)!.end ??= Number(at);
  }
  return [...byPid.values()];
}

/**
 * Pairs of attempts of one run that ran at the same time. An attempt without an end line was
 * SIGKILLed: it ends at `killedAt(attempt)` (the kill -9 of its host), or is open-ended.
 */
export function overlappingAttempts(attempts: Attempt[], killedAt: (a: Attempt) => number | undefined): Array<[Attempt, Attempt]> {
  const byRun = new Map<number, Attempt[]>();
  for (const a of attempts) byRun.set(a.runId, [...(byRun.get(a.runId) ?? []), a]);
  const out: Array<[Attempt, Attempt]> = [];
  for (const list of byRun.values()) {
    list.sort((a, b) => a.start - b.start);
    for (let i = 1; i < list.length; i++) {
      const prev = list[i - 1]!;
      const end = prev.end ?? killedAt(prev) ?? Number.POSITIVE_INFINITY;
      if (list[i]!.start < end) out.push([prev, list[i]!]);
    }
  }
  return out;
}

/**
 * How many occurrences the jobs should have fired from their first due time up to `until`: each
 * job's aligned times, one interval apart. Compared with the runs written, it shows none missed
 * and none doubled.
 */
export function expectedOccurrences(firstDue: Map<number, number>, intervals: Map<number, number>, until: number): number {
  let n = 0;
  for (const [job, first] of firstDue) if (first <= until) n += Math.floor((until - first) / intervals.get(job)!) + 1;
  return n;
}

/** Jobs whose consecutive occurrences are not exactly one interval apart (a gap or a double). */
export async function occurrenceGaps(store: Store, intervals: Map<number, number>): Promise<string[]> {
  const runs = await store.db.selectFrom('scheduled_job_runs').select(['job_id', 'scheduled_ts']).orderBy('job_id').orderBy('scheduled_ts').execute();
  const byJob = new Map<number, number[]>();
  for (const r of runs) byJob.set(r.job_id, [...(byJob.get(r.job_id) ?? []), Number(r.scheduled_ts)]);
  const problems: string[] = [];
  for (const [job, ts] of byJob) {
    const every = intervals.get(job);
    for (let i = 1; i < ts.length; i++) {
      if (ts[i]! - ts[i - 1]! !== every) problems.push(`job ${job}: ${new Date(ts[i - 1]!).toISOString()} → ${new Date(ts[i]!).toISOString()}`);
    }
  }
  return problems;
}

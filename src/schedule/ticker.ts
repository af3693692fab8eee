/**
 * One scheduler tick: read the due jobs (the indexed next_run_at), plan their occurrences (pure),
 * load one inventory snapshot and resolve every job's targets from it (outside any transaction),
 * then write runs, frozen targets, work items and new due times in short transactions of up to
 * WRITE_BATCH jobs each, two at once where the store has several connections. Safe to run in
 * several replicas at once (see fire.ts).
 */
import type { Kysely } from 'kysely';
import type { Store } from '../db/open.js';
import type { Database, ScheduledJob } from '../db/schema.js';
import { describeError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { signalLocalWork } from '../queue/wakeup.js';
import { OCCURRENCE_JOB_COLUMNS, writeOccurrences, type JobOccurrences, type OccurrenceJob, type OccurrenceTargets, type WriteSummary } from './fire.js';
import { loadInventory, type InventorySnapshot } from '../inventory/index.js';
import { noteRowsWritten } from '../db/planner-statistics.js';
import { planOccurrences, recurrenceOf } from './occurrences.js';
import { validateRecurrence } from './recurrence.js';
import { parseTargets, resolveTargets } from './targets.js';

export interface TickOptions {
  now?: number;
  logger?: Logger;
  /** Jobs read per tick (default 1000); the rest are due in the next tick. */
  dueBatch?: number;
  misfireGraceMs?: number;
  backfillCap?: number;
  /** Jobs per write transaction (default 200). */
  writeBatch?: number;
  /** A device not seen for this long is offline: frozen, and its outcome is Expired (default 10 min). */
  offlineAfterMs?: number;
}

export interface TickSummary {
  due: number;
  /** Jobs this replica advanced. */
  advanced: number;
  /** Jobs another replica advanced first. */
  lostRaces: number;
  runs: number;
  items: number;
  durationMs: number;
}

export const DEFAULT_OFFLINE_AFTER_MS = 10 * 60 * 1000;
const WRITE_BATCH = 200;
/** Write transactions one tick keeps open at once (separate connections; see tick). */
const WRITES_IN_FLIGHT = 2;

export async function tick(store: Store, options: TickOptions = {}): Promise<TickSummary> {
  const started = performance.now();
  const now = options.now ?? Date.now();
  const logger = options.logger ?? silentLogger;
  const due = await store.db
    .selectFrom('scheduled_jobs')
    .select(OCCURRENCE_JOB_COLUMNS)
    .where('enabled', '=', true)
    .where('next_run_at', 'is not', null)
    .where('next_run_at', '<=', now)
    .orderBy('next_run_at')
    .limit(options.dueBatch ?? 1000)
    .execute();
  const summary: TickSummary = { due: due.length, advanced: 0, lostRaces: 0, runs: 0, items: 0, durationMs: 0 };
  if (due.length === 0) return finish(summary, started);

  const plans = due.map((job) => planJob(job, now, options));
  const needsInventory = plans.some((p) => p.fire.length > 0 && p.job.job_kind !== 'onboarding' && !p.invalid);
  const inventory = needsInventory ? await loadInventory(store, { now }) : null;
  // Resolution is pure in (targets, inventory, now): jobs with the same targets share one answer.
  const resolved = new Map<string, OccurrenceTargets>();
  const offlineAfterMs = options.offlineAfterMs ?? DEFAULT_OFFLINE_AFTER_MS;
  for (const p of plans) {
    const key = resolutionKey(p);
    let targets = key === null ? undefined : resolved.get(key);
    if (targets === undefined) {
      targets = targetsFor(p, inventory, now, offlineAfterMs);
      if (key !== null) resolved.set(key, targets);
    }
    p.targets = targets;
  }

  const batches: JobOccurrences[][] = [];
  const size = Math.max(1, options.writeBatch ?? WRITE_BATCH);
  for (let i = 0; i < plans.length; i += size) batches.push(plans.slice(i, i + size));
  const writeBatch = async (batch: JobOccurrences[]): Promise<void> => {
    try {
      const written = await writeOccurrences(store, batch, { now });
      summary.advanced += written.won.length;
      summary.lostRaces += written.lost.length;
      summary.runs += written.runIds.length;
      summary.items += written.items;
      if (written.sites.length > 0) signalLocalWork(store, written.sites);
      // Frozen targets' foreign-key checks look runs up: keep that lookup planned from the
      // table's real size (planner-statistics.ts), between transactions.
      await noteRowsWritten(store, 'scheduled_job_runs', written.runIds.length, logger);
    } catch (err) {
      // A lost race that slipped past the compare-and-set hits a unique key: nothing was written
      // for the batch; the next tick re-reads what is still due.
      logger.warn({ err: describeError(err), jobs: batch.map((b) => b.job.id) }, 'tick batch not written; will retry');
    }
  };
  // Where the store has several connections, WRITES_IN_FLIGHT batches are written at once, each
  // in its own transaction on its own connection: node builds one batch's rows while the server
  // inserts and commits another (one after the other, the two sides mostly waited for each
  // other). Batches hold disjoint jobs, so they touch disjoint rows; exactly once still rests on
  // each job's compare-and-set.
  const lanes = store.dialect.capabilities.multipleConnections ? Math.min(WRITES_IN_FLIGHT, batches.length) : 1;
  let nextBatch = 0;
  const lane = async (): Promise<void> => {
    while (nextBatch < batches.length) await writeBatch(batches[nextBatch++]!);
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  for (const p of plans) {
    if (p.expiredAt !== null) logger.info({ jobId: p.job.id, name: p.job.name }, 'job expired: no further occurrences');
    if (p.invalid) logger.warn({ jobId: p.job.id, error: p.invalid }, 'job definition unusable: stopped');
  }
  return finish(summary, started);
}

function finish(summary: TickSummary, started: number): TickSummary {
  summary.durationMs = performance.now() - started;
  return summary;
}

/** The occurrence plan of one due job; a job whose schedule is unusable stops with a Failed run. */
function planJob(job: OccurrenceJob, now: number, options: TickOptions): JobOccurrences {
  // Objects spelled out (no spreads): this runs for every due job.
  const problems = validateRecurrence(recurrenceOf(job));
  if (problems.length > 0) return unusable(job, `invalid schedule: ${problems.join('; ')}`);
  try {
    const plan = planOccurrences(job, now, { misfireGraceMs: options.misfireGraceMs, backfillCap: options.backfillCap });
    return {
      job,
      expectedDue: job.next_run_at,
      targets: { frozen: null },
      nextRunAt: plan.nextRunAt,
      fire: plan.fire,
      missed: plan.missed,
      expiredAt: plan.expired ? (job.expiration ?? now) : null,
    };
  } catch (err) {
    return unusable(job, `invalid schedule: ${describeError(err)}`);
  }
}

function unusable(job: OccurrenceJob, invalid: string): JobOccurrences {
  return { job, expectedDue: job.next_run_at, targets: { frozen: null }, nextRunAt: null, fire: [], missed: null, expiredAt: null, invalid };
}

/** The memo key of a job's target resolution, or null when it is not shared (only plain JSON objects are). */
function resolutionKey(p: JobOccurrences): string | null {
  const spec = p.job.targets_json as unknown;
  if (p.job.job_kind === 'onboarding' || p.fire.length === 0 || p.invalid) return null;
  if (spec === null || typeof spec !== 'object' || Object.getPrototypeOf(spec) !== Object.prototype) return null;
  return JSON.stringify(spec);
}

function targetsFor(p: JobOccurrences, inventory: InventorySnapshot | null, now: number, offlineAfterMs: number): OccurrenceTargets {
  if (p.job.job_kind === 'onboarding' || p.fire.length === 0 || p.invalid) return { frozen: null };
  try {
    const spec = parseTargets(p.job.targets_json);
    return { frozen: resolveTargets(spec, inventory!, { now, offlineAfterMs }) };
  } catch (err) {
    return { frozen: null, error: describeError(err) };
  }
}

/**
 * A manual occurrence now (`jobyard jobs run-now`): same path as a tick, without touching the
 * job's schedule. Returns the new run id.
 */
export async function runJobNow(
  store: Store,
  job: ScheduledJob,
  options: { now?: number; offlineAfterMs?: number; beforeCommit?: (trx: Kysely<Database>, runId: number) => Promise<void> } = {},
): Promise<number> {
  const now = options.now ?? Date.now();
  const occ: JobOccurrences = {
    job,
    expectedDue: null,
    nextRunAt: job.next_run_at,
    fire: [now],
    missed: null,
    expiredAt: null,
    targets: { frozen: null },
  };
  const inventory = job.job_kind === 'onboarding' ? null : await loadInventory(store, { now });
  occ.targets = targetsFor(occ, inventory, now, options.offlineAfterMs ?? DEFAULT_OFFLINE_AFTER_MS);
  const beforeCommit = options.beforeCommit;
  const written = await writeOccurrences(store, [occ], {
    now,
    ...(beforeCommit ? { beforeCommit: (trx: Kysely<Database>, summary: WriteSummary) => beforeCommit(trx, summary.runIds[0]!) } : {}),
  });
  if (written.sites.length > 0) signalLocalWork(store, written.sites);
  return written.runIds[0]!;
}

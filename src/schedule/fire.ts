/**
 * Writes the occurrences a tick decided to fire: for a batch of jobs, in ONE short transaction,
 * the runs, their frozen targets, the work items (one per occurrence and site) and each job's
 * new due time. Target resolution happened before, outside any transaction.
 *
 * Exactly once across replicas: the transaction first moves each job's next_run_at from the due
 * time this replica read to the new one (compare-and-set). A replica that lost the race updates
 * no row for that job and writes nothing for it; the unique (job_id, scheduled_ts) on runs and
 * the unique dedupe_key on items back this up inside the database.
 */
import type { Kysely } from 'kysely';
import type { Store } from '../db/open.js';
import type { Database, ScheduledJob } from '../db/schema.js';
import { bulkInsert, type Cell } from '../db/bulk-insert.js';
import { compareAndSetMany } from '../db/bulk-update.js';
import { toJson, type Backend } from '../db/dialect.js';
import { insertWorkItems, type EnqueueRequest } from '../queue/enqueue.js';
import { signalLocalWork } from '../queue/wakeup.js';
import type { MissedRecord } from './occurrences.js';
import type { FrozenTarget } from './targets.js';

const RUN_COLUMNS = [
  'job_id', 'scheduled_ts', 'status', 'skip_reason', 'error', 'finished_ts', 'shared_execution', 'rerun_of_run_id', 'created_at', 'updated_at',
];
const TARGET_COLUMNS = [
  'run_id', 'device_guid', 'hostname', 'site_id', 'resolved_from_filter_id', 'resolved_from_filter_ids_json', 'resolution_status',
  'resolution_reason', 'status', 'finished_at', 'created_at',
];

/** Work kind per job kind. */
export const KIND_FOR_JOB: Record<string, string> = {
  automation: 'scheduled_run',
  onboarding: 'onboarding_run',
  agent_maintenance: 'agent_maintenance_run',
};

export type RunStatus = 'Pending' | 'Running' | 'Success' | 'Failed' | 'Partial' | 'Expired' | 'Skipped';

export interface OccurrenceTargets {
  /** Frozen targets (automation, agent maintenance), or null for onboarding jobs. */
  frozen: FrozenTarget[] | null;
  /** Why targets could not be resolved (malformed targets_json): the run fails with this. */
  error?: string;
}

/** The job columns writing occurrences (and planning them) reads; a tick selects only these. */
export const OCCURRENCE_JOB_COLUMNS = [
  'id', 'name', 'job_kind', 'targets_json', 'schedule_type', 'start_ts', 'time_zone', 'cron_expression',
  'duration_stop_enabled', 'expiration', 'missed_policy', 'next_run_at',
] as const satisfies ReadonlyArray<keyof ScheduledJob>;
export type OccurrenceJob = Pick<ScheduledJob, (typeof OCCURRENCE_JOB_COLUMNS)[number]>;

export interface JobOccurrences {
  job: OccurrenceJob;
  /** The due time this replica read; null for a manual run (no compare-and-set, no advance). */
  expectedDue: number | null;
  nextRunAt: number | null;
  fire: number[];
  targets: OccurrenceTargets;
  missed: MissedRecord | null;
  /** Set when the job stopped at its expiration: recorded as one Skipped run. */
  expiredAt: number | null;
  /** Set when the job's own definition is unusable (bad schedule): recorded as one Failed run. */
  invalid?: string;
  /** A rerun: the run whose frozen targets this occurrence copies (runs rerun). */
  rerunOf?: number;
}

export interface WriteSummary {
  /** Jobs this replica advanced (or ran manually). */
  won: number[];
  /** Jobs another replica had already advanced. */
  lost: number[];
  runIds: number[];
  items: number;
  sites: Array<number | null>;
}

interface RunRow {
  key: string;
  job_id: number;
  scheduled_ts: number;
  status: RunStatus;
  skip_reason: string | null;
  error: string | null;
  finished_ts: number | null;
  rerun_of_run_id: number | null;
  targets: FrozenTarget[];
  items: EnqueueRequest[];
}

export async function writeOccurrences(
  store: Store,
  batch: readonly JobOccurrences[],
  options: {
    now: number;
    /** Runs last inside the write transaction (an operator action records its audit row here). */
    beforeCommit?: (trx: Kysely<Database>, summary: WriteSummary) => Promise<void>;
  },
): Promise<WriteSummary> {
  if (batch.length === 0) return { won: [], lost: [], runIds: [], items: 0, sites: [] };
  const summary = await store.db.transaction().execute(async (trx) => {
    const written = await writeOccurrencesIn(store, trx, batch, options);
    await options.beforeCommit?.(trx, written);
    return written;
  });
  // Committed: wake this process's consumers and the fleet (other processes get the NOTIFY or
  // see SQLite's data_version change).
  if (summary.items > 0) signalLocalWork(store, summary.sites);
  return summary;
}

/**
 * The body of writeOccurrences inside the caller's transaction (a rerun writes its audit row in
 * the same one). The caller wakes local consumers after its commit (signalLocalWork).
 */
export async function writeOccurrencesIn(
  store: Store,
  trx: Kysely<Database>,
  batch: readonly JobOccurrences[],
  options: { now: number },
): Promise<WriteSummary> {
  const now = options.now;
  const summary: WriteSummary = { won: [], lost: [], runIds: [], items: 0, sites: [] };
  if (batch.length === 0) return summary;
  const planned = batch.map((b) => ({ occ: b, runs: buildRuns(b, now) }));
  {
    const won = await advanceDueTimes(trx, store.dialect.backend, batch, now);
    const winners = planned.filter((p) => won.has(p.occ.job.id));
    summary.won = winners.map((p) => p.occ.job.id);
    summary.lost = planned.filter((p) => !won.has(p.occ.job.id)).map((p) => p.occ.job.id);
    const runs = winners.flatMap((p) => p.runs);
    if (runs.length === 0) return summary;

    const backend = store.dialect.backend;
    const ids = new Map<string, number>();
    for (let i = 0; i < runs.length; i += 1000) {
      const inserted = await bulkInsert<{ id: number; job_id: number; scheduled_ts: number }>(trx, backend, {
        table: 'scheduled_job_runs',
        columns: RUN_COLUMNS,
        rows: runs.slice(i, i + 1000).map((r) => [
          r.job_id, r.scheduled_ts, r.status, r.skip_reason, r.error, r.finished_ts, true, r.rerun_of_run_id, now, now,
        ]),
        returning: ['id', 'job_id', 'scheduled_ts'],
      });
      for (const row of inserted) ids.set(`${row.job_id}:${row.scheduled_ts}`, Number(row.id));
    }
    summary.runIds = [...ids.values()];

    // A frozen list is shared by every job with the same targets (ticker.ts): its rows' cells are
    // built once per list and run status, then copied with each run's id.
    const templates = new Map<readonly FrozenTarget[], Map<RunStatus, Cell[][]>>();
    const targetRows: Cell[][] = [];
    for (const r of runs) {
      if (r.targets.length === 0) continue;
      let byStatus = templates.get(r.targets);
      if (!byStatus) templates.set(r.targets, (byStatus = new Map()));
      let rows = byStatus.get(r.status);
      if (!rows) byStatus.set(r.status, (rows = r.targets.map((t) => targetCells(t, r.status, now))));
      const runId = ids.get(r.key)!;
      for (const template of rows) {
        const row = template.slice();
        row[0] = runId;
        targetRows.push(row);
      }
    }
    for (let i = 0; i < targetRows.length; i += 2000) {
      await bulkInsert(trx, backend, { table: 'scheduled_job_run_targets', columns: TARGET_COLUMNS, rows: targetRows.slice(i, i + 2000) });
    }

    // The requests were built for this call (buildRuns above): filled in place, as copying each
    // with spreads was a measurable share of a tick.
    const items: EnqueueRequest[] = [];
    for (const r of runs) {
      if (r.items.length === 0) continue;
      const runId = ids.get(r.key)!;
      for (const it of r.items) {
        it.runId = runId;
        it.payload!.run_id = runId;
        items.push(it);
      }
    }
    const written = await insertWorkItems(store, items, { now, trx });
    summary.items = written.created;
    summary.sites = written.sites;
  }
  return summary;
}

/** Compare-and-set of next_run_at for every job with an expected due time; returns who won. */
async function advanceDueTimes(trx: Kysely<Database>, backend: Backend, batch: readonly JobOccurrences[], now: number): Promise<Set<number>> {
  const won = new Set(batch.filter((b) => b.expectedDue === null).map((b) => b.job.id));
  const cas = batch.filter((b) => b.expectedDue !== null);
  if (cas.length === 0) return won;
  const rows = await compareAndSetMany(trx, backend, {
    table: 'scheduled_jobs',
    column: 'next_run_at',
    rows: cas.map((b) => ({ id: b.job.id, expected: b.expectedDue!, next: b.nextRunAt })),
    updatedAt: now,
  });
  for (const id of rows) won.add(id);
  return won;
}

/** The runs (with their frozen targets and items) one job's occurrences produce. */
export function buildRuns(occ: JobOccurrences, now: number): RunRow[] {
  const { job } = occ;
  const run = (scheduledTs: number, fields: Partial<RunRow>): RunRow => ({
    key: `${job.id}:${scheduledTs}`,
    job_id: job.id,
    scheduled_ts: scheduledTs,
    status: 'Pending',
    skip_reason: null,
    error: null,
    finished_ts: null,
    rerun_of_run_id: occ.rerunOf ?? null,
    targets: [],
    items: [],
    ...fields,
  });
  const runs: RunRow[] = [];
  if (occ.invalid) {
    runs.push(run(occ.expectedDue ?? now, { status: 'Failed', error: occ.invalid, finished_ts: now }));
    return runs;
  }
  if (occ.missed) {
    const m = occ.missed;
    runs.push(
      run(m.scheduledTs, {
        status: 'Skipped',
        skip_reason: 'missed',
        finished_ts: now,
        error: `missed ${m.count} occurrence${m.count === 1 ? '' : 's'} between ${iso(m.firstTs)} and ${iso(m.lastTs)} while no scheduler was running`,
      }),
    );
  }
  for (const ts of occ.fire) runs.push(occurrenceRun(occ, ts, now, run));
  if (occ.expiredAt !== null && !runs.some((r) => r.scheduled_ts === occ.expiredAt)) {
    runs.push(
      run(occ.expiredAt, {
        status: 'Skipped',
        skip_reason: 'expired',
        finished_ts: now,
        error: `job expired at ${iso(occ.expiredAt)}; no further occurrences`,
      }),
    );
  }
  return runs;
}

function occurrenceRun(
  occ: JobOccurrences,
  scheduledTs: number,
  now: number,
  run: (ts: number, fields: Partial<RunRow>) => RunRow,
): RunRow {
  const { job, targets } = occ;
  const kind = KIND_FOR_JOB[job.job_kind] ?? 'scheduled_run';
  const payload = (siteId: number, targetCount: number | null): Record<string, unknown> => {
    const p: Record<string, unknown> = { job_id: job.id, job_name: job.name, job_kind: job.job_kind, scheduled_ts: scheduledTs, site_id: siteId };
    if (targetCount !== null) p.target_count = targetCount;
    p.run_id = null; // set once the run's id is known (writeOccurrencesIn)
    return p;
  };
  const item = (siteId: number, targetCount: number | null): EnqueueRequest => ({
    kind,
    siteId,
    jobId: job.id,
    dedupeKey: `scheduled:${job.id}:${scheduledTs}:${siteId}`,
    payload: payload(siteId, targetCount),
  });
  if (targets.error) return run(scheduledTs, { status: 'Failed', error: targets.error, finished_ts: now });

  if (targets.frozen === null) {
    // Onboarding: the scope names one site; the executor expands the address list at run time.
    const scope = (job.targets_json as { onboarding_scope?: { site_id?: unknown } } | null)?.onboarding_scope;
    const siteId = scope?.site_id;
    if (typeof siteId !== 'number' || !Number.isInteger(siteId)) {
      return run(scheduledTs, { status: 'Skipped', skip_reason: 'no_site', finished_ts: now, error: 'targets_json.onboarding_scope.site_id is missing' });
    }
    return run(scheduledTs, { items: [item(siteId, null)] });
  }

  const frozen = targets.frozen;
  const { deliverable, offline, perSite } = deliveryOf(frozen);
  if (deliverable === 0 && offline === 0) {
    return run(scheduledTs, { status: 'Skipped', skip_reason: 'no_devices_targeted', finished_ts: now, targets: frozen });
  }
  if (deliverable === 0) {
    return run(scheduledTs, {
      status: 'Expired',
      finished_ts: now,
      error: `all ${offline} target${offline === 1 ? '' : 's'} offline`,
      targets: frozen,
    });
  }
  return run(scheduledTs, { targets: frozen, items: perSite.map(([siteId, n]) => item(siteId, n)) });
}

interface Delivery {
  deliverable: number;
  offline: number;
  /** Deliverable targets per site, in site order. */
  perSite: Array<[number, number]>;
}

// Pure in the (read-only) frozen list, which jobs with the same targets share: counted once.
const deliveries = new WeakMap<readonly FrozenTarget[], Delivery>();

function deliveryOf(frozen: readonly FrozenTarget[]): Delivery {
  let d = deliveries.get(frozen);
  if (d) return d;
  const counts = new Map<number, number>();
  let offline = 0;
  let deliverable = 0;
  for (const t of frozen) {
    if (t.resolutionStatus === 'offline') offline++;
    else if (t.resolutionStatus === 'resolved' && t.siteId !== null) {
      deliverable++;
      counts.set(t.siteId, (counts.get(t.siteId) ?? 0) + 1);
    }
  }
  d = { deliverable, offline, perSite: [...counts.entries()].sort(([a], [b]) => a - b) };
  deliveries.set(frozen, d);
  return d;
}

/** A frozen target's row in TARGET_COLUMNS order, its run id (first) left to fill in. */
function targetCells(t: FrozenTarget, runStatus: RunStatus, now: number): Cell[] {
  const filterIds = t.resolvedFromFilterIds.length > 0 ? toJson(t.resolvedFromFilterIds) : null;
  const finishedAt = t.resolutionStatus === 'resolved' && runStatus === 'Pending' ? null : now;
  return [null, t.deviceGuid, t.hostname, t.siteId, t.resolvedFromFilterId, filterIds, t.resolutionStatus, t.resolutionReason, targetStatus(t, runStatus), finishedAt, now];
}

/** A frozen target's outcome when the run is written: delivered ones wait; others are final. */
function targetStatus(t: FrozenTarget, runStatus: RunStatus): string {
  if (t.resolutionStatus === 'offline') return 'Expired';
  if (t.resolutionStatus === 'resolved' && runStatus === 'Pending') return 'Pending';
  return 'Skipped';
}

function iso(ts: number): string {
  return new Date(ts).toISOString();
}

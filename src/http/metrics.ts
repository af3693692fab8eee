/**
 * Prometheus metrics (prom-client) on a Registry of their own per server, never the global one,
 * so several servers (tests, replicas in one process) do not share or clash over metrics.
 *
 * Two sources:
 *
 * 1. The database, read at scrape time (`render`) through the read models the status command
 *    shares (src/queue/stats.ts, src/fleet/worker-rows.ts, src/schedule/stats.ts). Site workers
 *    run in OTHER processes (child processes, containers), so whatever they claim and complete is
 *    not observable in this process; the database is the one place that sees every worker. Per
 *    scrape:
 *    - `jobyard_work_items{status,kind,site}`: items per status/kind/site (gauge).
 *    - `jobyard_workers{status}`: worker rows per status (gauge).
 *    - `jobyard_due_jobs`: enabled jobs with next_run_at <= now (gauge).
 *    - `jobyard_oldest_queued_item_age_seconds`: how long the longest-waiting claimable item
 *      (queued, available_at <= now) has waited since it became available; 0 when none (gauge).
 *    - Counters, derived from the rows kept in job_scheduler_work_items, per kind:
 *        completions = items with status `succeeded`;
 *        failures    = items with status `failed` or `dead` (final failures; an attempt that
 *                      fails and is retried is not a failure here, it shows up as a claim);
 *        claims      = the sum of `attempt_count` (every claim increments it).
 *      So "after 100 items complete, the completions counter says 100" holds whichever process
 *      completed them, and a restarted scheduler continues from the same figure.
 *      Pruning and other decreases: finished items are deleted after WORK_ITEM_RETENTION_DAYS,
 *      an operator retry moves a dead item back to queued, and a graceful release refunds an
 *      attempt. Each would make the raw figure go DOWN, which Prometheus reads as a counter
 *      reset (and `increase()` would then count the whole remaining figure again). To stay
 *      monotonic, each series keeps a per-process offset: when the database figure drops by d
 *      between two scrapes, d is added to the offset (the items are "still counted"). The
 *      exported value therefore never decreases while this process runs. Caveats: completions
 *      that happen in the same scrape interval as a prune of the same series are under-counted
 *      by at most the number pruned in that interval; and a restarted scheduler starts again
 *      from the raw database figure (without the offsets), which Prometheus sees as a reset,
 *      like any restarted process.
 *    - `jobyard_work_item_duration_seconds{kind,status}` (histogram): finished_at − started_at
 *      (the final attempt) of items that finished (succeeded, failed, dead) after this server
 *      started. Each scrape reads the items that finished since the previous scrape by a
 *      (finished_at, id) watermark over the finished_at index. Items are read only once they
 *      are `settleMs` old (default 10 s), so a completion committed slightly after the
 *      timestamp it carries is not skipped; each item is observed once per process.
 *
 * 2. This process: the scheduler reports each tick's duration (`observeTick`) and each lease
 *    reclaim (`countLeaseReclaims`) — `jobyard_tick_duration_seconds` and
 *    `jobyard_lease_reclaims_total{outcome}`. `jobyard_last_tick_timestamp_seconds` comes from
 *    the tick status (0 before the first tick).
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Store } from '../db/open.js';
import { countWorkersByStatus } from '../fleet/worker-rows.js';
import { listFinishedItemsSince, readQueueStats } from '../queue/stats.js';
import { readSchedulerStats } from '../schedule/stats.js';
import { readTickStatus, type TickStatusSource } from './tick-status.js';

/** What the scheduler calls; SchedulerService can depend on this interface alone. */
export interface SchedulerMetrics {
  /** One finished tick (a TickSummary has `durationMs`). */
  observeTick(summary: { durationMs: number }): void;
  /** One reclaim pass (a ReclaimResult: ids returned to the queue, ids gone dead). */
  countLeaseReclaims(result: { requeued: readonly unknown[]; dead: readonly unknown[] }): void;
}

export interface MetricsOptions {
  store: Store;
  clock?: () => number;
  /** The tick loop's state, for jobyard_last_tick_timestamp_seconds. */
  status?: TickStatusSource;
  /** Items are observed in the duration histogram once they finished this long ago (default 10 s). */
  settleMs?: number;
}

const FAILURE_STATUSES = new Set(['failed', 'dead']);
const HISTOGRAM_PAGE = 5000;

type Labels = Record<string, string>;

/**
 * Keeps counter series monotonic (see the header): exported = database figure + offset, where
 * the offset absorbs every drop of the database figure since this process started.
 */
class MonotonicSeries {
  readonly #series = new Map<string, { labels: Labels; db: number; offset: number }>();

  apply(current: ReadonlyMap<string, { labels: Labels; value: number }>): Array<{ labels: Labels; value: number }> {
    for (const [key, s] of this.#series) {
      if (!current.has(key)) {
        s.offset += s.db; // every item of the series is gone (pruned): keep its count
        s.db = 0;
      }
    }
    for (const [key, { labels, value }] of current) {
      const s = this.#series.get(key);
      if (!s) {
        this.#series.set(key, { labels, db: value, offset: 0 });
        continue;
      }
      if (value < s.db) s.offset += s.db - value;
      s.db = value;
    }
    return [...this.#series.values()].map((s) => ({ labels: s.labels, value: s.db + s.offset }));
  }
}

function add(map: Map<string, { labels: Labels; value: number }>, labels: Labels, value: number): void {
  const key = JSON.stringify(labels);
  const entry = map.get(key);
  if (entry) entry.value += value;
  else map.set(key, { labels, value });
}

export class JobyardMetrics implements SchedulerMetrics {
  readonly registry = new Registry();
  readonly #store: Store;
  readonly #clock: () => number;
  readonly #status: TickStatusSource | undefined;
  readonly #settleMs: number;
  /** Items that finished at or before this (finished_at, id) are already in the histogram. */
  #watermark: { finishedAt: number; id: number };
  /** Scrapes run one at a time: they share the watermark and the monotonic offsets. */
  #queue: Promise<unknown> = Promise.resolve();

  readonly #workItems: Gauge<'status' | 'kind' | 'site'>;
  readonly #workers: Gauge<'status'>;
  readonly #dueJobs: Gauge;
  readonly #oldestQueued: Gauge;
  readonly #lastTick: Gauge;
  readonly #credentialsLocked: Gauge;
  readonly #claims: Counter<'kind'>;
  readonly #completions: Counter<'kind'>;
  readonly #failures: Counter<'kind' | 'status'>;
  readonly #itemDuration: Histogram<'kind' | 'status'>;
  readonly #tickDuration: Histogram;
  readonly #reclaims: Counter<'outcome'>;
  readonly #claimsSeries = new MonotonicSeries();
  readonly #completionsSeries = new MonotonicSeries();
  readonly #failuresSeries = new MonotonicSeries();

  constructor(options: MetricsOptions) {
    this.#store = options.store;
    // The one clock finished_at is written by (the server's on PostgreSQL), so the histogram's
    // watermark and the rows it reads compare like with like.
    this.#clock = options.clock ?? (() => options.store.clock?.now() ?? Date.now());
    this.#status = options.status;
    this.#settleMs = options.settleMs ?? 10_000;
    this.#watermark = { finishedAt: this.#clock(), id: 0 };
    const registers = [this.registry];
    this.#workItems = new Gauge({
      name: 'jobyard_work_items',
      help: 'Work items in the database by status, kind and site (site="none" for site-less items).',
      labelNames: ['status', 'kind', 'site'] as const,
      registers,
    });
    this.#workers = new Gauge({ name: 'jobyard_workers', help: 'Site-worker rows by status.', labelNames: ['status'] as const, registers });
    this.#dueJobs = new Gauge({ name: 'jobyard_due_jobs', help: 'Enabled scheduled jobs whose next_run_at has passed.', registers });
    this.#oldestQueued = new Gauge({
      name: 'jobyard_oldest_queued_item_age_seconds',
      help: 'How long the longest-waiting claimable queued item has waited since available_at (0 when none).',
      registers,
    });
    this.#lastTick = new Gauge({
      name: 'jobyard_last_tick_timestamp_seconds',
      help: 'Unix time of the last completed scheduler tick (0 before the first).',
      registers,
    });
    this.#credentialsLocked = new Gauge({
      name: 'jobyard_credentials_locked',
      help: '1 while this scheduler holds no credentials key (items that need a credential fail with "credentials locked"), 0 when unlocked.',
      registers,
    });
    this.#claims = new Counter({
      name: 'jobyard_work_item_claims_total',
      help: 'Claims of work items (sum of attempt_count over kept items; monotonic across pruning).',
      labelNames: ['kind'] as const,
      registers,
    });
    this.#completions = new Counter({
      name: 'jobyard_work_item_completions_total',
      help: 'Work items that succeeded (items with status succeeded; monotonic across pruning).',
      labelNames: ['kind'] as const,
      registers,
    });
    this.#failures = new Counter({
      name: 'jobyard_work_item_failures_total',
      help: 'Work items that finished failed or dead (final failures; monotonic across pruning).',
      labelNames: ['kind', 'status'] as const,
      registers,
    });
    this.#itemDuration = new Histogram({
      name: 'jobyard_work_item_duration_seconds',
      help: 'Duration of the final attempt (finished_at - started_at) of items finished since this server started.',
      labelNames: ['kind', 'status'] as const,
      buckets: [0.05, 0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600],
      registers,
    });
    this.#tickDuration = new Histogram({
      name: 'jobyard_tick_duration_seconds',
      help: 'Duration of scheduler ticks in this process.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.#reclaims = new Counter({
      name: 'jobyard_lease_reclaims_total',
      help: 'Work items whose lease expired, reclaimed by this process (outcome requeued or dead).',
      labelNames: ['outcome'] as const,
      registers,
    });
    this.#reclaims.inc({ outcome: 'requeued' }, 0);
    this.#reclaims.inc({ outcome: 'dead' }, 0);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  observeTick(summary: { durationMs: number }): void {
    if (Number.isFinite(summary.durationMs) && summary.durationMs >= 0) this.#tickDuration.observe(summary.durationMs / 1000);
  }

  /** Also available as a plain number of milliseconds. */
  observeTickDuration(durationMs: number): void {
    this.observeTick({ durationMs });
  }

  countLeaseReclaims(result: { requeued: readonly unknown[]; dead: readonly unknown[] }): void {
    if (result.requeued.length > 0) this.#reclaims.inc({ outcome: 'requeued' }, result.requeued.length);
    if (result.dead.length > 0) this.#reclaims.inc({ outcome: 'dead' }, result.dead.length);
  }

  /** Reads the database, updates every metric and returns the exposition text. */
  render(): Promise<string> {
    const run = this.#queue.then(() => this.#collect()).then(() => this.registry.metrics());
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #collect(): Promise<void> {
    const now = this.#clock();
    const queue = await readQueueStats(this.#store, now);
    const workers = await countWorkersByStatus(this.#store);
    const { due_jobs: dueJobs } = await readSchedulerStats(this.#store, now);
    await this.#observeFinished(now);

    this.#workItems.reset();
    const claims = new Map<string, { labels: Labels; value: number }>();
    const completions = new Map<string, { labels: Labels; value: number }>();
    const failures = new Map<string, { labels: Labels; value: number }>();
    for (const row of queue.groups) {
      this.#workItems.set({ status: row.status, kind: row.kind, site: row.site_id === null ? 'none' : String(row.site_id) }, row.items);
      add(claims, { kind: row.kind }, row.attempts);
      if (row.status === 'succeeded') add(completions, { kind: row.kind }, row.items);
      if (FAILURE_STATUSES.has(row.status)) add(failures, { kind: row.kind, status: row.status }, row.items);
    }
    setCounter(this.#claims, this.#claimsSeries.apply(claims));
    setCounter(this.#completions, this.#completionsSeries.apply(completions));
    setCounter(this.#failures, this.#failuresSeries.apply(failures));

    this.#workers.reset();
    for (const [status, n] of Object.entries(workers)) this.#workers.set({ status }, n);
    this.#dueJobs.set(dueJobs);
    this.#oldestQueued.set((queue.longest_ready_wait_ms ?? 0) / 1000);
    const tickStatus = this.#status ? readTickStatus(this.#status) : undefined;
    const lastTickAt = tickStatus?.lastTickAt ?? null;
    this.#lastTick.set(lastTickAt === null ? 0 : lastTickAt / 1000);
    if (tickStatus?.credentials) this.#credentialsLocked.set(tickStatus.credentials === 'locked' ? 1 : 0);
  }

  /** Adds items that finished since the last scrape (and are settled) to the duration histogram. */
  async #observeFinished(now: number): Promise<void> {
    const upTo = now - this.#settleMs;
    for (;;) {
      if (upTo < this.#watermark.finishedAt) return;
      const rows = await listFinishedItemsSince(this.#store, { after: this.#watermark, upTo, limit: HISTOGRAM_PAGE });
      for (const row of rows) {
        if (row.started_at !== null && row.finished_at !== null && row.finished_at >= row.started_at) {
          this.#itemDuration.observe({ kind: row.kind, status: row.status }, (Number(row.finished_at) - Number(row.started_at)) / 1000);
        }
      }
      const last = rows.at(-1);
      if (last) this.#watermark = { finishedAt: Number(last.finished_at), id: Number(last.id) };
      if (rows.length < HISTOGRAM_PAGE) return;
    }
  }
}

function setCounter<T extends string>(counter: Counter<T>, values: Array<{ labels: Labels; value: number }>): void {
  counter.reset();
  for (const { labels, value } of values) counter.inc(labels as Partial<Record<T, string>>, value);
}

export function createMetrics(options: MetricsOptions): JobyardMetrics {
  return new JobyardMetrics(options);
}

/**
 * Child processes for tests that need real concurrency: start a Node script, read its stdout as
 * JSON-lines events, await an event, stop it with SIGTERM, and SIGKILL whatever a test left
 * running. The queue fixtures (test/fixtures/queue-consumer.mjs, queue-enqueuer.mjs) have their
 * own starters, and readers for what they log and for the work items they touch.
 *
 * A test file calls `killChildProcessesAfterEach()` once at its top level, so a failing test
 * leaves no process behind. Wait for what a process prints (`waitFor`) or for a database state
 * (`waitUntil`), never for a fixed time.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeEach, expect } from 'vitest';
import type { Store } from '../../src/db/open.js';
import { enqueueWorkItems } from '../../src/queue/index.js';

/** One stdout line: the parsed JSON object, or `{ event: 'text', line }` when it is not JSON. */
export type ChildEvent = Record<string, unknown> & { event: string };

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ChildProc {
  readonly name: string;
  readonly child: ChildProcessWithoutNullStreams;
  readonly pid: number;
  /** Every stdout line so far, in order. */
  readonly events: ChildEvent[];
  /** Everything written to stderr so far. */
  stderr: string;
  readonly exited: Promise<ExitStatus>;
  /** Resolves with the first stdout event of that name; rejects if the process exits first or on timeout. */
  waitFor(event: string, timeoutMs?: number): Promise<ChildEvent>;
}

/** Small pools by default: the test files share one PostgreSQL server (max_connections 200, set by scripts/ensure-postgres.sh). */
const SMALL_POOL = { DB_POOL_SIZE: '3', DB_MAX_OVERFLOW: '1' };

const live = new Set<ChildProc>();

/**
 * Runs `node script` with `env` over this process's environment (and small database pools).
 * `name` appears in every error message about the process.
 */
export function spawnNodeScript(name: string, script: string, env: Record<string, string>): ChildProc {
  const child = spawn(process.execPath, [script], {
    env: { ...process.env, ...SMALL_POOL, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const events: ChildEvent[] = [];
  const listeners = new Set<() => void>();
  let exitInfo: ExitStatus | undefined;
  const exited = new Promise<ExitStatus>((resolve) => {
    child.on('exit', (code, signal) => {
      exitInfo = { code, signal };
      resolve(exitInfo);
      for (const l of listeners) l();
    });
  });
  const proc: ChildProc = {
    name,
    child,
    pid: child.pid!,
    events,
    stderr: '',
    exited,
    waitFor(event, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = events.find((e) => e.event === event);
          if (found) return finish(() => resolve(found));
          if (exitInfo) {
            finish(() =>
              reject(new Error(`${name} exited (${JSON.stringify(exitInfo)}) before "${event}"; stderr:\n${proc.stderr.slice(-3000)}`)),
            );
          }
        };
        const timer = setTimeout(
          () => finish(() => reject(new Error(`${name}: no "${event}" within ${timeoutMs} ms; stderr:\n${proc.stderr.slice(-3000)}`))),
          timeoutMs,
        );
        const finish = (fn: () => void) => {
          clearTimeout(timer);
          listeners.delete(check);
          fn();
        };
        listeners.add(check);
        check();
      });
    },
  };
  createInterface({ input: child.stdout }).on('line', (line) => {
    try {
      events.push(JSON.parse(line) as ChildEvent);
    } catch {
      events.push({ event: 'text', line });
    }
    for (const l of listeners) l();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (proc.stderr += chunk));
  live.add(proc);
  void exited.then(() => live.delete(proc));
  return proc;
}

/** SIGTERM, then the exit; a graceful stop must exit 0 after printing "stopped", which it returns. */
export async function stopGracefully(p: ChildProc, timeoutMs = 15_000): Promise<ChildEvent> {
  p.child.kill('SIGTERM');
  const exit = await withTimeout(p.exited, timeoutMs, `${p.name} did not exit after SIGTERM`);
  expect(exit, `${p.name} exit; stderr:\n${p.stderr.slice(-3000)}`).toEqual({ code: 0, signal: null });
  return p.waitFor('stopped', 1);
}

/** SIGKILLs every process started here that is still running, and waits for their exits. */
export async function killLiveProcesses(): Promise<void> {
  const procs = [...live];
  for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  await Promise.all(procs.map((p) => p.exited));
}

/** Registers `killLiveProcesses` after each test and after the file; call once at a file's top level. */
export function killChildProcessesAfterEach(): void {
  afterEach(killLiveProcesses);
  afterAll(killLiveProcesses);
}

/**
 * The per-test bed of a process test: before each test, empty tables and a fresh temp folder for
 * the children's logs; after it, every child still running killed and the folder removed. Call
 * inside a describe; the returned function gives the current test's folder.
 */
export function useProcessTestBed(ctx: { truncateAll(): Promise<void> }, prefix: string): () => string {
  let dir = '';
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), prefix));
    await ctx.truncateAll();
  });
  afterEach(async () => {
    await killLiveProcesses();
    rmSync(dir, { recursive: true, force: true });
  });
  return () => dir;
}

/** Throws at once (with its stderr) if one of these processes has exited: fail fast, not on a timeout. */
export function assertAlive(procs: ChildProc[]): void {
  for (const p of procs) {
    if (p.child.exitCode !== null || p.child.signalCode !== null) {
      throw new Error(`${p.name} exited unexpectedly (code ${p.child.exitCode}, signal ${p.child.signalCode}); stderr:\n${p.stderr.slice(-4000)}`);
    }
  }
}

export function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${message} (${ms} ms)`)), ms))),
  ]).finally(() => clearTimeout(timer));
}

/** Polls `check` every 50 ms until it is true; on timeout throws with `describe()` (the state seen). */
export async function waitUntil(
  check: () => Promise<boolean> | boolean,
  timeoutMs: number,
  describe: () => Promise<string> | string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${await describe()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// The queue fixtures

const QUEUE_CONSUMER = fileURLToPath(new URL('../fixtures/queue-consumer.mjs', import.meta.url));
const QUEUE_ENQUEUER = fileURLToPath(new URL('../fixtures/queue-enqueuer.mjs', import.meta.url));

/** See test/fixtures/queue-consumer.mjs; unset fields take the defaults shown. */
export interface ConsumerOptions {
  /** null: site-less items. */
  siteId: number | null;
  kind: string;
  /** The file it appends "start <id>", "done <id>" and "settled <id> <outcome>" lines to. */
  log: string;
  concurrency?: number; // 10
  prefetch?: number; // runQueue's
  leaseSeconds?: number; // 30
  heartbeatSeconds?: number; // 5
  delayMs?: number; // 0: handlers finish at once
  graceMs?: number; // 5,000
  reclaimMs?: number; // off
  pollMs?: number; // 200
  /** An argv the handler runs as a command component (instead of the delay); see the fixture. */
  command?: string[];
  /** More environment (e.g. DB_WAKE_JITTER_MS). */
  env?: Record<string, string>;
}

/** A queue consumer process; it prints "ready" (with its lease `owner`) once it consumes. */
export function spawnConsumer(url: string, name: string, o: ConsumerOptions): ChildProc {
  return spawnNodeScript(name, QUEUE_CONSUMER, {
    DATABASE_URL: url,
    JY_SITE_ID: String(o.siteId),
    JY_KIND: o.kind,
    JY_LOG_FILE: o.log,
    JY_LOG_LEVEL: 'warn',
    JY_CONCURRENCY: String(o.concurrency ?? 10),
    ...(o.prefetch !== undefined ? { JY_PREFETCH: String(o.prefetch) } : {}),
    JY_LEASE_SECONDS: String(o.leaseSeconds ?? 30),
    JY_HEARTBEAT_SECONDS: String(o.heartbeatSeconds ?? 5),
    JY_DELAY_MS: String(o.delayMs ?? 0),
    JY_GRACE_MS: String(o.graceMs ?? 5_000),
    JY_POLL_MS: String(o.pollMs ?? 200),
    ...(o.reclaimMs ? { JY_RECLAIM_MS: String(o.reclaimMs) } : {}),
    ...(o.command ? { JY_COMMAND: JSON.stringify(o.command) } : {}),
    ...o.env,
  });
}

/** See test/fixtures/queue-enqueuer.mjs. */
export interface EnqueuerOptions {
  siteId: number;
  /** Keys "dedupe-0" … "dedupe-<count-1>". */
  count: number;
  batch: number;
  /** Where it writes `{ pid, startedAt, finishedAt, results }` as JSON. */
  outFile: string;
}

/**
 * A process that enqueues keyed work items: it prints "ready", waits for "go\n" on its stdin
 * (so several start at the same moment), writes its results to `outFile` and exits 0.
 */
export function spawnEnqueuer(url: string, name: string, o: EnqueuerOptions): ChildProc {
  return spawnNodeScript(name, QUEUE_ENQUEUER, {
    DATABASE_URL: url,
    JY_COUNT: String(o.count),
    JY_BATCH: String(o.batch),
    JY_SITE_ID: String(o.siteId),
    JY_OUT_FILE: o.outFile,
  });
}

/** What a consumer logged: per item id, how often its handler started and finished; each settlement. */
export interface ConsumerLog {
  start: Map<number, number>;
  done: Map<number, number>;
  settled: Array<{ id: number; outcome: string }>;
}

/** Reads a consumer's log file (empty when the file does not exist yet). */
export function readConsumerLog(file: string): ConsumerLog {
  const log: ConsumerLog = { start: new Map(), done: new Map(), settled: [] };
  if (!existsSync(file)) return log;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line === '') continue;
    const [what, idText, outcome] = line.split(' ');
    const id = Number(idText);
    if (what === 'start' || what === 'done') log[what].set(id, (log[what].get(id) ?? 0) + 1);
    else if (what === 'settled') log.settled.push({ id, outcome: outcome! });
  }
  return log;
}

/** Adds each log's per-id counts of `what` together. */
export function sumCounts(logs: ConsumerLog[], what: 'start' | 'done'): Map<number, number> {
  const total = new Map<number, number>();
  for (const log of logs) for (const [id, n] of log[what]) total.set(id, (total.get(id) ?? 0) + n);
  return total;
}

export interface WorkItemRow {
  id: number;
  status: string;
  attempt_count: number;
  lease_owner: string | null;
  lease_expires_at: number | null;
  heartbeat_at: number | null;
  started_at: number | null;
  finished_at: number | null;
  error: string | null;
  result_json: unknown;
}

/** A site's work items, by id. */
export async function workItemRows(store: Store, siteId: number): Promise<WorkItemRow[]> {
  return (await store.db
    .selectFrom('job_scheduler_work_items')
    .select(['id', 'status', 'attempt_count', 'lease_owner', 'lease_expires_at', 'heartbeat_at', 'started_at', 'finished_at', 'error', 'result_json'])
    .where('site_id', '=', siteId)
    .orderBy('id')
    .execute()) as WorkItemRow[];
}

/** A site's work items counted by status (statuses with none are absent). */
export async function workItemStatusCounts(store: Store, siteId: number): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const r = await store.db
    .selectFrom('job_scheduler_work_items')
    .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
    .where('site_id', '=', siteId)
    .groupBy('status')
    .execute();
  for (const { status, n } of r) out[status] = Number(n);
  return out;
}

/**
 * The fixtures bound to one site and kind, for a test file whose items and consumers all use
 * them: consumers, `count` enqueued items (payload `{ n }`, 5 attempts, ids in order), and
 * reads of the site's work items.
 */
export function queueSite(siteId: number, kind: string) {
  return {
    startConsumer: (url: string, name: string, o: Omit<ConsumerOptions, 'siteId' | 'kind'>) => spawnConsumer(url, name, { siteId, kind, ...o }),
    async enqueue(store: Store, count: number): Promise<number[]> {
      const made = await enqueueWorkItems(store, Array.from({ length: count }, (_, n) => ({ kind, siteId, payload: { n }, maxAttempts: 5 })));
      return made.map((r) => r.item.id);
    },
    rows: (store: Store) => workItemRows(store, siteId),
    statusCounts: (store: Store) => workItemStatusCounts(store, siteId),
  };
}

/** The pid of the consumer that completed an item (its handler returns `{ by: process.pid }`). */
export const completedByPid = (r: WorkItemRow): number | undefined => (r.result_json as { by?: number } | null)?.by;

/** How often each value occurs. */
export function histogram<T>(values: T[]): Map<T, number> {
  const m = new Map<T, number>();
  for (const v of values) m.set(v, (m.get(v) ?? 0) + 1);
  return m;
}

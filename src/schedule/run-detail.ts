/**
 * What an operator reads about runs: a job's runs, newest occurrence first, and one run with its
 * frozen targets, its activity (scheduled_job_run_activity → activity_history) and its work items.
 * The status API, and the CLI and dashboard after it, show the same rows.
 *
 * `target_rows` is the per-target view `runs show` prints: each frozen target with its outcome and
 * what its components recorded (the last component's exit code and one-line detail, the summed
 * duration, output snippets — stored output is already masked and capped when it is written, the
 * snippets only shorten it further). Onboarding runs add their targets' timelines (the read-only
 * timelines module of the onboarding executor, the one place that joins those tables).
 * `playbooks` lists an occurrence's Ansible playbook components (their shared run rows) with each
 * host's PLAY RECAP counts (read by the Ansible executor's play-recaps module); empty otherwise.
 */
import type { Store } from '../db/open.js';
import type { ScheduledJobRun } from '../db/schema.js';
import { NotFoundError } from '../errors.js';
import { decodeCursor, pageLimit, toPage, type Page } from '../pagination.js';
import { readOnboardingTimelines } from '../executors/onboarding/timelines.js';
import { readPlayRecaps } from '../executors/ansible/play-recaps.js';

/** Characters of stdout/stderr shown per target (the full stored text is in `activity`). */
export const SNIPPET_CHARS = 400;
/** Onboarding targets shown with a run. */
const ONBOARDING_TARGET_LIMIT = 1000;

/** The job fields shown beside its runs (the definition's components and targets are not). */
const JOB_SUMMARY = ['id', 'name', 'job_kind', 'schedule_type', 'enabled', 'next_run_at', 'time_zone'] as const;

/** A job's newest runs, or undefined when the job does not exist. */
export async function listJobRuns(store: Store, jobId: number, limit: number) {
  const job = await store.db.selectFrom('scheduled_jobs').select(JOB_SUMMARY).where('id', '=', jobId).executeTakeFirst();
  if (!job) return undefined;
  const runs = await store.db
    .selectFrom('scheduled_job_runs')
    .selectAll()
    .where('job_id', '=', jobId)
    .orderBy('scheduled_ts', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return { job, runs };
}

const isRunKey = (v: unknown): v is [number, number] =>
  Array.isArray(v) && v.length === 2 && v.every((x) => Number.isSafeInteger(x) && (x as number) >= 0);

/** A job's runs, newest occurrence first, one page at a time (keyset on scheduled_ts, id). */
export async function listRunsPage(store: Store, query: { jobId: number; limit?: number; cursor?: string }): Promise<Page<ScheduledJobRun>> {
  const limit = pageLimit(query.limit);
  const job = await store.db.selectFrom('scheduled_jobs').select('id').where('id', '=', query.jobId).executeTakeFirst();
  if (!job) throw new NotFoundError(`no job with id ${query.jobId}`);
  let q = store.db
    .selectFrom('scheduled_job_runs')
    .selectAll()
    .where('job_id', '=', query.jobId)
    .orderBy('scheduled_ts', 'desc')
    .orderBy('id', 'desc')
    .limit(limit + 1);
  if (query.cursor !== undefined) {
    const [ts, id] = decodeCursor(query.cursor, isRunKey);
    q = q.where((eb) => eb.or([eb('scheduled_ts', '<', ts), eb.and([eb('scheduled_ts', '=', ts), eb('id', '<', id)])]));
  }
  return toPage(await q.execute(), limit, (r) => [r.scheduled_ts, r.id]);
}

/** One run with everything recorded about it, or undefined when it does not exist. */
export async function readRunDetail(store: Store, runId: number) {
  const run = await store.db.selectFrom('scheduled_job_runs').selectAll().where('id', '=', runId).executeTakeFirst();
  if (!run) return undefined;
  const job = await store.db.selectFrom('scheduled_jobs').select(JOB_SUMMARY).where('id', '=', run.job_id).executeTakeFirst();
  const targets = await store.db.selectFrom('scheduled_job_run_targets').selectAll().where('run_id', '=', runId).orderBy('id').execute();
  const activity = await store.db
    .selectFrom('scheduled_job_run_activity as a')
    .leftJoin('activity_history as h', 'h.id', 'a.activity_id')
    .select([
      'a.activity_id',
      'a.component_kind',
      'a.component_name',
      'a.component_path',
      'a.script_type',
      'a.created_at',
      'a.exit_code',
      'a.duration_ms',
      'a.detail',
      'h.hostname',
      'h.script_name',
      'h.script_path',
      'h.ran_at',
      'h.status',
      'h.stdout',
      'h.stderr',
    ])
    .where('a.run_id', '=', runId)
    .orderBy('a.created_at')
    .orderBy('a.id')
    .execute();
  const workItems = await store.db
    .selectFrom('job_scheduler_work_items')
    .select(['id', 'kind', 'site_id', 'status', 'attempt_count', 'max_attempts', 'error', 'created_at', 'started_at', 'finished_at'])
    .where('run_id', '=', runId)
    .orderBy('id')
    .execute();
  const onboarding = job?.job_kind === 'onboarding'
    ? ((await readOnboardingTimelines(store, job.id, { runId, limit: ONBOARDING_TARGET_LIMIT }))?.targets ?? [])
    : null;
  const playbooks = await readPlayRecaps(store, run);
  return { run, job: job ?? null, targets, target_rows: targetRows(targets, activity), activity, playbooks, work_items: workItems, onboarding };
}

export interface TargetRow {
  id: number;
  hostname: string | null;
  site_id: number | null;
  resolution_status: string | null;
  resolution_reason: string | null;
  /** Pending, Success, Failed, Expired or Skipped. */
  outcome: string | null;
  finished_at: number | null;
  components_run: number;
  /** The last component's exit code (commands only) and one-line outcome. */
  exit_code: number | null;
  detail: string | null;
  /** Summed over the target's components; null when none recorded a duration. */
  duration_ms: number | null;
  stdout_snippet: string | null;
  stderr_snippet: string | null;
}

type TargetIn = { id: number; hostname: string | null; site_id: number | null; resolution_status: string | null; resolution_reason: string | null; status: string | null; finished_at: number | null };
type ActivityIn = { hostname: string | null; exit_code: number | null; duration_ms: number | null; detail: string | null; stdout: string | null; stderr: string | null };

/** Pure: each frozen target with what its components recorded (activity rows are per hostname). */
export function targetRows(targets: readonly TargetIn[], activity: readonly ActivityIn[]): TargetRow[] {
  const byHost = new Map<string, ActivityIn[]>();
  for (const a of activity) {
    const key = (a.hostname ?? '').toLowerCase();
    byHost.set(key, [...(byHost.get(key) ?? []), a]);
  }
  return targets.map((t) => {
    const runs = byHost.get((t.hostname ?? '').toLowerCase()) ?? [];
    const last = runs[runs.length - 1];
    const durations = runs.map((a) => a.duration_ms).filter((d): d is number => d !== null);
    return {
      id: t.id,
      hostname: t.hostname,
      site_id: t.site_id,
      resolution_status: t.resolution_status,
      resolution_reason: t.resolution_reason,
      outcome: t.status,
      finished_at: t.finished_at,
      components_run: runs.length,
      exit_code: last?.exit_code ?? null,
      detail: last?.detail ?? null,
      duration_ms: durations.length > 0 ? durations.reduce((a, b) => a + Number(b), 0) : null,
      stdout_snippet: shorten(last?.stdout ?? null),
      stderr_snippet: shorten(last?.stderr ?? null),
    };
  });
}

/** The end of the text (where a failure shows), at most SNIPPET_CHARS characters. */
function shorten(text: string | null): string | null {
  if (text === null || text === '') return text;
  const chars = [...text];
  return chars.length <= SNIPPET_CHARS ? text : `…${chars.slice(-SNIPPET_CHARS).join('')}`;
}

/**
 * Persistence of onboarding rows (`scheduled_job_onboarding_targets`) and their timeline
 * (`scheduled_job_onboarding_target_events`): creating a run's rows from its scope (reusing an
 * earlier attempt's), updating them, and opening and closing task events.
 */
import { randomUUID } from 'node:crypto';
import type { ScopeProblem, ScopeTarget } from '../onboarding-scope.js';
import type { Env, Row } from './settings.js';

const rowKey = (input: string | null, address: string | null) => `${input ?? ''}\u0000${address ?? ''}`;

/** The rows of this run and site: the ones a previous attempt wrote, and new ones for the rest. */
export async function ensureRows(env: Env): Promise<Row[]> {
  const { ctx, refs, scope } = env;
  const existing: Row[] = await ctx.store.db
    .selectFrom('scheduled_job_onboarding_targets')
    .select(['id', 'target_input', 'target_address', 'status', 'approval_reference'])
    .where('run_id', '=', refs.runId)
    .where('site_id', '=', refs.siteId)
    .orderBy('id')
    .execute();
  const byKey = new Map(existing.map((r) => [rowKey(r.target_input, r.target_address), r]));
  const now = ctx.now();
  const badExclusions = scope.invalid.filter((p) => p.exclusion);
  const skipAll = badExclusions.length > 0
    ? `not attempted: the scope has ${badExclusions.length} invalid exclusion${badExclusions.length === 1 ? '' : 's'} (${badExclusions.map((p) => JSON.stringify(p.input)).join(', ')}); fix them so excluded hosts stay untouched`
    : null;

  type Planned = { input: string; address: string | null; status: string; detail: string | null; final: boolean; event?: { status: string; detail: string } };
  const planned: Planned[] = [
    ...scope.invalid.map((p: ScopeProblem): Planned => {
      const detail = p.exclusion ? `exclusion: ${p.error}` : p.error;
      return { input: p.input, address: null, status: 'invalid', detail, final: true, event: { status: 'failed', detail } };
    }),
    ...scope.excluded.map((t: ScopeTarget): Planned => ({
      input: t.targetInput, address: t.address, status: 'excluded', detail: 'matched an exclusion', final: true, event: { status: 'skipped', detail: 'matched an exclusion' },
    })),
    ...scope.targets.map((t: ScopeTarget): Planned =>
      skipAll
        ? { input: t.targetInput, address: t.address, status: 'skipped', detail: skipAll, final: true, event: { status: 'skipped', detail: skipAll } }
        : { input: t.targetInput, address: t.address, status: 'pending', detail: null, final: false },
    ),
  ];
  const seenKeys = new Set(byKey.keys());
  const fresh = planned.filter((p) => {
    const key = rowKey(p.input, p.address);
    if (seenKeys.has(key)) return false; // written by an earlier attempt, or the same bad text listed twice
    seenKeys.add(key);
    return true;
  });
  for (let i = 0; i < fresh.length; i += 500) {
    const batch = fresh.slice(i, i + 500);
    const inserted = await ctx.store.db
      .insertInto('scheduled_job_onboarding_targets')
      .values(
        batch.map((p) => ({
          run_id: refs.runId,
          job_id: refs.jobId,
          scheduled_ts: env.run.scheduled_ts,
          site_id: refs.siteId,
          target_input: p.input,
          target_address: p.address,
          status: p.status,
          detail: p.detail,
          approval_reference: p.final ? null : randomUUID(),
          created_at: now,
          updated_at: now,
          finished_at: p.final ? now : null,
        })),
      )
      .returning(['id', 'target_input', 'target_address', 'status', 'approval_reference'])
      .execute();
    for (const r of inserted) byKey.set(rowKey(r.target_input, r.target_address), r);
    const events = batch
      .filter((p) => p.event)
      .map((p) => ({
        target_row_id: byKey.get(rowKey(p.input, p.address))!.id,
        run_id: refs.runId,
        job_id: refs.jobId,
        status: p.event!.status,
        task: 'scope',
        detail: p.event!.detail,
        started_at: now,
        finished_at: now,
        created_at: now,
        updated_at: now,
      }));
    if (events.length > 0) await ctx.store.db.insertInto('scheduled_job_onboarding_target_events').values(events).execute();
  }
  // Scope order: invalid, excluded, then addresses.
  return planned.map((p) => byKey.get(rowKey(p.input, p.address))!).filter((r, i, all) => all.indexOf(r) === i);
}

export async function updateRow(env: Env, rowId: number, fields: Record<string, unknown>, final = false): Promise<void> {
  const now = env.ctx.now();
  await env.ctx.store.db
    .updateTable('scheduled_job_onboarding_targets')
    .set({ ...fields, updated_at: now, ...(final ? { finished_at: now } : {}) })
    .where('id', '=', rowId)
    .execute();
}

/** Appends a running event for `task`, closing any event of the target still open. */
export async function startTask(env: Env, rowId: number, task: string, detail: string | null = null): Promise<number> {
  const now = env.ctx.now();
  await env.ctx.store.db
    .updateTable('scheduled_job_onboarding_target_events')
    .set({ status: 'interrupted', finished_at: now, updated_at: now })
    .where('target_row_id', '=', rowId)
    .where('finished_at', 'is', null)
    .execute();
  const event = await env.ctx.store.db
    .insertInto('scheduled_job_onboarding_target_events')
    .values({
      target_row_id: rowId,
      run_id: env.refs.runId,
      job_id: env.refs.jobId,
      status: 'running',
      task,
      detail,
      started_at: now,
      created_at: now,
      updated_at: now,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return event.id;
}

export async function finishTask(
  env: Env,
  eventId: number,
  status: 'completed' | 'failed',
  detail: string,
  snippets: { stdout?: string | null; stderr?: string | null } = {},
): Promise<void> {
  const now = env.ctx.now();
  await env.ctx.store.db
    .updateTable('scheduled_job_onboarding_target_events')
    .set({ status, detail, stdout_snippet: snippets.stdout ?? null, stderr_snippet: snippets.stderr ?? null, finished_at: now, updated_at: now })
    .where('id', '=', eventId)
    .execute();
}

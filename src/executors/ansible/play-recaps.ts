/**
 * Reading the Ansible results of an occurrence for run detail (`runs show`, the API, the
 * dashboard): each playbook component's shared run row with the PLAY RECAP counts of its hosts
 * (ansible_play_recaps, written by run.ts). Read-only.
 */
import type { Store } from '../../db/open.js';
import { RECAP_FIELDS, type RecapCounts } from './recap.js';

export interface HostRecap extends RecapCounts {
  inventory_hostname: string;
  target_id: number | null;
  /** The frozen target's hostname (null when the target row is gone). */
  hostname: string | null;
}

export interface PlaybookComponentRun {
  run_id: number;
  component_index: number;
  component_kind: string | null;
  component_name: string | null;
  status: string;
  error: string | null;
  started_ts: number | null;
  finished_ts: number | null;
  hosts: HostRecap[];
}

/**
 * The playbook component runs of a run: for an occurrence's row, the component rows of the same
 * occurrence (job and scheduled time); for a component row, that row alone. Oldest component first,
 * hosts by inventory alias.
 */
export async function readPlayRecaps(
  store: Store,
  run: { id: number; job_id: number; scheduled_ts: number; component_index: number | null },
): Promise<PlaybookComponentRun[]> {
  let q = store.db
    .selectFrom('scheduled_job_runs')
    .select(['id', 'component_index', 'component_kind', 'component_name', 'status', 'error', 'started_ts', 'finished_ts'])
    .where('job_id', '=', run.job_id)
    .where('scheduled_ts', '=', run.scheduled_ts)
    .orderBy('component_index');
  q = run.component_index === null ? q.where('component_index', 'is not', null) : q.where('id', '=', run.id);
  const components = await q.execute();
  if (components.length === 0) return [];
  const rows = await store.db
    .selectFrom('ansible_play_recaps as p')
    .leftJoin('scheduled_job_run_targets as t', 't.id', 'p.target_id')
    .select(['p.run_id', 'p.inventory_hostname', 'p.target_id', 't.hostname', ...RECAP_FIELDS.map((f) => `p.${f}` as const)])
    .where('p.run_id', 'in', components.map((c) => c.id))
    .orderBy('p.inventory_hostname')
    .execute();
  return components.map((c) => ({
    run_id: c.id,
    component_index: Number(c.component_index),
    component_kind: c.component_kind,
    component_name: c.component_name,
    status: c.status,
    error: c.error,
    started_ts: c.started_ts === null ? null : Number(c.started_ts),
    finished_ts: c.finished_ts === null ? null : Number(c.finished_ts),
    hosts: rows
      .filter((r) => Number(r.run_id) === Number(c.id))
      .map((r) => ({
        inventory_hostname: r.inventory_hostname,
        target_id: r.target_id === null ? null : Number(r.target_id),
        hostname: r.hostname,
        ...(Object.fromEntries(RECAP_FIELDS.map((f) => [f, Number(r[f])])) as RecapCounts),
      })),
  }));
}

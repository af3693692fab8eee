/**
 * Ansible playbooks (src/executors/ansible):
 * - One shared run row per playbook component and occurrence (shared_execution, target_hostname
 *   NULL, component_index/kind/name set) beside the occurrence's own run row. The exactly-once
 *   fence `uq_runs_job_scheduled_ts` (job_id, scheduled_ts) becomes partial over rows without a
 *   component_index (every occurrence row, as before), and component rows are unique per
 *   (job_id, scheduled_ts, component_index). Partial unique indexes work on both backends.
 * - ansible_play_recaps: one PLAY RECAP line per host of a component run (ok, changed,
 *   unreachable, failed, skipped, rescued, ignored), linked to the frozen target it came from.
 */
import { sql } from '../src/db/kysely.js';
import type { Kysely } from 'kysely';
import type { Dialect } from '../src/db/dialect.js';

export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  const t = dialect.types;
  await db.schema.dropIndex('uq_runs_job_scheduled_ts').execute();
  await db.schema
    .createIndex('uq_runs_job_scheduled_ts')
    .on('scheduled_job_runs')
    .columns(['job_id', 'scheduled_ts'])
    .unique()
    .where(sql.ref('component_index'), 'is', null)
    .execute();
  await db.schema
    .createIndex('uq_runs_job_scheduled_ts_component')
    .on('scheduled_job_runs')
    .columns(['job_id', 'scheduled_ts', 'component_index'])
    .unique()
    .where(sql.ref('component_index'), 'is not', null)
    .execute();
  await dialect
    .addIdColumn(db.schema.createTable('ansible_play_recaps'), 'id', 'big')
    .addColumn('run_id', t.bigint, (c) => c.notNull().references('scheduled_job_runs.id').onDelete('cascade'))
    .addColumn('target_id', t.bigint, (c) => c.references('scheduled_job_run_targets.id').onDelete('cascade'))
    .addColumn('inventory_hostname', 'text', (c) => c.notNull())
    .addColumn('ok', 'integer', (c) => c.notNull())
    .addColumn('changed', 'integer', (c) => c.notNull())
    .addColumn('unreachable', 'integer', (c) => c.notNull())
    .addColumn('failed', 'integer', (c) => c.notNull())
    .addColumn('skipped', 'integer', (c) => c.notNull())
    .addColumn('rescued', 'integer', (c) => c.notNull())
    .addColumn('ignored', 'integer', (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('uq_ansible_play_recaps_run_host').on('ansible_play_recaps').columns(['run_id', 'inventory_hostname']).unique().execute();
  await db.schema.createIndex('ix_ansible_play_recaps_target').on('ansible_play_recaps').column('target_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('ansible_play_recaps').execute();
  await db.deleteFrom('scheduled_job_runs').where('component_index', 'is not', null).execute();
  await db.schema.dropIndex('uq_runs_job_scheduled_ts_component').execute();
  await db.schema.dropIndex('uq_runs_job_scheduled_ts').execute();
  await db.schema.createIndex('uq_runs_job_scheduled_ts').on('scheduled_job_runs').columns(['job_id', 'scheduled_ts']).unique().execute();
}

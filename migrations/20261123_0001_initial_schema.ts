/**
 * The initial schema: the scheduling and automation tables (jobs, runs, frozen targets, onboarding,
 * work items, workers) and the inventory tables they read, plus what a correct queue needs (unique dedupe_key, the
 * claim index, the reclaim index, max_attempts/result_json on items, and the indexed due-time
 * column scheduled_jobs.next_run_at).
 *
 * device_filter_sites has a primary key and foreign keys (uniqueness is the database's job, not
 * each write path's); sites/devices get pre-lowercased lookup columns.
 */
import { sql } from '../src/db/kysely.js';
import type { Kysely } from 'kysely';
import type { Dialect } from '../src/db/dialect.js';

export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  const t = dialect.types;
  const s = db.schema;

  // --- inventory -------------------------------------------------------------------------
  await dialect
    .addIdColumn(s.createTable('sites'), 'id', 'int')
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('name_lower', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('enrollment_code', 'text')
    .addColumn('auto_approve_until', t.timestamp)
    .addUniqueConstraint('uq_sites_name', ['name'])
    .execute();
  await s.createIndex('uq_sites_enrollment_code').on('sites').column('enrollment_code').unique().execute();
  await s.createIndex('ix_sites_name_lower').on('sites').column('name_lower').execute();

  await s
    .createTable('devices')
    .addColumn('guid', 'text', (c) => c.notNull().primaryKey())
    .addColumn('hostname', 'text', (c) => c.notNull())
    .addColumn('hostname_lower', 'text', (c) => c.notNull())
    .addColumn('status', 'text')
    .addColumn('last_seen', t.timestamp)
    .addColumn('agent_id', 'text')
    .addColumn('connection_type', 'text')
    .addColumn('connection_endpoint', 'text')
    .addColumn('internal_ip', 'text')
    .addColumn('external_ip', 'text')
    .addColumn('operating_system', 'text')
    .addColumn('device_type', 'text')
    .addColumn('ssl_key_fingerprint', 'text')
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addUniqueConstraint('uq_devices_hostname', ['hostname'])
    .execute();
  await s.createIndex('idx_devices_ssl_key').on('devices').column('ssl_key_fingerprint').execute();
  await s.createIndex('idx_devices_status').on('devices').column('status').execute();
  await s.createIndex('ix_devices_hostname_lower').on('devices').column('hostname_lower').execute();

  await s
    .createTable('device_sites')
    .addColumn('device_hostname', 'text', (c) => c.notNull().primaryKey())
    .addColumn('site_id', 'integer', (c) => c.notNull().references('sites.id').onDelete('cascade'))
    .addColumn('assigned_at', t.timestamp, (c) => c.notNull())
    .execute();
  await s.createIndex('ix_device_sites_site_id').on('device_sites').column('site_id').execute();

  await dialect
    .addIdColumn(s.createTable('device_filters'), 'id', 'int')
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('archived', t.boolean, (c) => c.notNull().defaultTo(false))
    .addColumn('criteria_mode', 'text')
    .addColumn('site_mode', 'text')
    .addColumn('basic_criteria_json', t.json)
    .addColumn('advanced_criteria_json', t.json)
    .addColumn('last_edited_by', 'text')
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .addUniqueConstraint('uq_device_filters_name', ['name'])
    .execute();

  await s
    .createTable('device_filter_sites')
    .addColumn('filter_id', 'integer', (c) => c.notNull().references('device_filters.id').onDelete('cascade'))
    .addColumn('site_id', 'integer', (c) => c.notNull().references('sites.id').onDelete('cascade'))
    .addPrimaryKeyConstraint('pk_device_filter_sites', ['filter_id', 'site_id'])
    .execute();
  await s.createIndex('ix_device_filter_sites_site_id').on('device_filter_sites').column('site_id').execute();

  await dialect
    .addIdColumn(s.createTable('device_approvals'), 'id', 'int')
    .addColumn('approval_reference', 'text', (c) => c.notNull())
    .addColumn('guid', 'text')
    .addColumn('hostname_claimed', 'text')
    .addColumn('ssl_key_fingerprint_claimed', 'text')
    .addColumn('enrollment_code', 'text')
    .addColumn('site_id', 'integer')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('client_nonce', 'text')
    .addColumn('server_nonce', 'text')
    .addColumn('agent_pubkey_der', t.blob)
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .addColumn('approved_by_user_id', 'text')
    .addColumn('onboarding_job_id', 'integer')
    .addColumn('onboarding_run_id', t.bigint)
    .addColumn('onboarding_target', 'text')
    .addUniqueConstraint('uq_device_approvals_reference', ['approval_reference'])
    .execute();
  await s.createIndex('idx_da_status').on('device_approvals').column('status').execute();
  await s.createIndex('idx_da_fp_status').on('device_approvals').columns(['ssl_key_fingerprint_claimed', 'status']).execute();
  await s.createIndex('idx_da_site').on('device_approvals').column('site_id').execute();
  await s.createIndex('idx_da_onboarding_job').on('device_approvals').column('onboarding_job_id').execute();

  await dialect
    .addIdColumn(s.createTable('credentials'), 'id', 'int')
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('site_id', 'integer', (c) => c.references('sites.id').onDelete('set null'))
    .addColumn('credential_type', 'text')
    .addColumn('connection_type', 'text')
    .addColumn('username', 'text')
    .addColumn('password_encrypted', t.blob)
    .addColumn('private_key_encrypted', t.blob)
    .addColumn('private_key_passphrase_encrypted', t.blob)
    .addColumn('become_method', 'text')
    .addColumn('become_username', 'text')
    .addColumn('become_password_encrypted', t.blob)
    .addColumn('metadata_json', t.json)
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .addUniqueConstraint('uq_credentials_name', ['name'])
    .execute();

  await dialect
    .addIdColumn(s.createTable('activity_history'), 'id', 'big')
    .addColumn('hostname', 'text')
    .addColumn('script_path', 'text')
    .addColumn('script_name', 'text')
    .addColumn('script_type', 'text')
    .addColumn('ran_at', t.timestamp, (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('stdout', 'text')
    .addColumn('stderr', 'text')
    .execute();
  await s.createIndex('ix_activity_history_hostname_ran_at').on('activity_history').columns(['hostname', 'ran_at']).execute();

  // --- scheduling ------------------------------------------------------------------------
  await dialect
    .addIdColumn(s.createTable('scheduled_jobs'), 'id', 'int')
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('components_json', t.json, (c) => c.notNull())
    .addColumn('targets_json', t.json, (c) => c.notNull())
    .addColumn('schedule_type', 'text', (c) => c.notNull())
    .addColumn('start_ts', t.timestamp)
    .addColumn('duration_stop_enabled', t.boolean, (c) => c.notNull().defaultTo(false))
    .addColumn('expiration', t.timestamp)
    .addColumn('execution_context', 'text')
    .addColumn('credential_id', 'integer')
    .addColumn('use_service_account', t.boolean, (c) => c.notNull().defaultTo(false))
    .addColumn('job_kind', 'text', (c) => c.notNull().defaultTo('automation'))
    .addColumn('enabled', t.boolean, (c) => c.notNull().defaultTo(true))
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .addColumn('next_run_at', t.timestamp)
    .execute();
  await s.createIndex('ix_scheduled_jobs_next_run_at').on('scheduled_jobs').column('next_run_at').execute();

  await dialect
    .addIdColumn(s.createTable('scheduled_job_runs'), 'id', 'big')
    .addColumn('job_id', 'integer', (c) => c.notNull().references('scheduled_jobs.id').onDelete('cascade'))
    .addColumn('scheduled_ts', t.timestamp, (c) => c.notNull())
    .addColumn('started_ts', t.timestamp)
    .addColumn('finished_ts', t.timestamp)
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('error', 'text')
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .addColumn('target_hostname', 'text')
    .addColumn('skip_reason', 'text')
    .addColumn('shared_execution', t.boolean, (c) => c.notNull().defaultTo(false))
    .addColumn('component_index', 'integer')
    .addColumn('component_kind', 'text')
    .addColumn('component_name', 'text')
    .execute();
  await s
    .createIndex('idx_runs_job_sched_target')
    .on('scheduled_job_runs')
    .columns(['job_id', 'scheduled_ts', 'target_hostname'])
    .execute();

  await dialect
    .addIdColumn(s.createTable('scheduled_job_run_activity'), 'id', 'big')
    .addColumn('run_id', t.bigint, (c) => c.notNull().references('scheduled_job_runs.id').onDelete('cascade'))
    .addColumn('activity_id', t.bigint, (c) => c.notNull().references('activity_history.id').onDelete('cascade'))
    .addColumn('component_kind', 'text')
    .addColumn('script_type', 'text')
    .addColumn('component_path', 'text')
    .addColumn('component_name', 'text')
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .execute();
  await s.createIndex('idx_run_activity_run').on('scheduled_job_run_activity').column('run_id').execute();
  await s.createIndex('idx_run_activity_activity').on('scheduled_job_run_activity').column('activity_id').unique().execute();

  await dialect
    .addIdColumn(s.createTable('scheduled_job_run_targets'), 'id', 'big')
    .addColumn('run_id', t.bigint, (c) => c.notNull().references('scheduled_job_runs.id').onDelete('cascade'))
    .addColumn('device_guid', 'text')
    .addColumn('hostname', 'text')
    .addColumn('site_id', 'integer')
    .addColumn('resolved_from_filter_id', 'integer')
    .addColumn('inventory_hostname', 'text')
    .addColumn('wireguard_peer_ip', 'text')
    .addColumn('resolved_connection', 'text')
    .addColumn('resolution_status', 'text')
    .addColumn('resolution_reason', 'text')
    .addColumn('resolved_from_filter_ids_json', t.json)
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .execute();
  await s.createIndex('idx_scheduled_job_run_targets_run').on('scheduled_job_run_targets').column('run_id').execute();
  await s
    .createIndex('idx_scheduled_job_run_targets_filter')
    .on('scheduled_job_run_targets')
    .column('resolved_from_filter_id')
    .execute();
  await s.createIndex('idx_scheduled_job_run_targets_host').on('scheduled_job_run_targets').column('hostname').execute();

  await dialect
    .addIdColumn(s.createTable('scheduled_job_onboarding_targets'), 'id', 'big')
    .addColumn('run_id', t.bigint, (c) => c.notNull().references('scheduled_job_runs.id').onDelete('cascade'))
    .addColumn('job_id', 'integer', (c) => c.notNull().references('scheduled_jobs.id').onDelete('cascade'))
    .addColumn('scheduled_ts', t.timestamp)
    .addColumn('site_id', 'integer')
    .addColumn('target_input', 'text')
    .addColumn('target_address', 'text')
    .addColumn('target_hostname', 'text')
    .addColumn('ssh_port', 'integer')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('detail', 'text')
    .addColumn('stdout_snippet', 'text')
    .addColumn('stderr_snippet', 'text')
    .addColumn('approval_reference', 'text')
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .addColumn('finished_at', t.timestamp)
    .execute();
  await s.createIndex('idx_onboarding_targets_run').on('scheduled_job_onboarding_targets').column('run_id').execute();
  await s
    .createIndex('idx_onboarding_targets_job')
    .on('scheduled_job_onboarding_targets')
    .columns(['job_id', 'scheduled_ts'])
    .execute();
  await s.createIndex('idx_onboarding_targets_status').on('scheduled_job_onboarding_targets').column('status').execute();

  await dialect
    .addIdColumn(s.createTable('scheduled_job_onboarding_target_events'), 'id', 'big')
    .addColumn('target_row_id', t.bigint, (c) =>
      c.notNull().references('scheduled_job_onboarding_targets.id').onDelete('cascade'),
    )
    .addColumn('run_id', t.bigint, (c) => c.notNull().references('scheduled_job_runs.id').onDelete('cascade'))
    .addColumn('job_id', 'integer', (c) => c.notNull().references('scheduled_jobs.id').onDelete('cascade'))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('task', 'text')
    .addColumn('detail', 'text')
    .addColumn('stdout_snippet', 'text')
    .addColumn('stderr_snippet', 'text')
    .addColumn('started_at', t.timestamp)
    .addColumn('finished_at', t.timestamp)
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .execute();
  await s
    .createIndex('idx_onboarding_target_events_target')
    .on('scheduled_job_onboarding_target_events')
    .columns(['target_row_id', 'started_at'])
    .execute();
  await s
    .createIndex('idx_onboarding_target_events_run')
    .on('scheduled_job_onboarding_target_events')
    .column('run_id')
    .execute();

  // --- queue -----------------------------------------------------------------------------
  await dialect
    .addIdColumn(s.createTable('job_scheduler_work_items'), 'id', 'big')
    .addColumn('dedupe_key', 'text')
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('site_id', 'integer')
    .addColumn('lane', 'text', (c) => c.notNull().defaultTo('default'))
    .addColumn('job_id', 'integer')
    .addColumn('run_id', t.bigint)
    .addColumn('target_id', t.bigint)
    .addColumn('payload_json', t.json, (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('queued'))
    .addColumn('attempt_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('max_attempts', 'integer', (c) => c.notNull())
    .addColumn('priority', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('available_at', t.timestamp, (c) => c.notNull())
    .addColumn('lease_owner', 'text')
    .addColumn('lease_expires_at', t.timestamp)
    .addColumn('heartbeat_at', t.timestamp)
    .addColumn('worker_guid', 'text')
    .addColumn('container_name', 'text')
    .addColumn('error', 'text')
    .addColumn('result_json', t.json)
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .addColumn('started_at', t.timestamp)
    .addColumn('finished_at', t.timestamp)
    .execute();
  // Partial indexes keep the hot path cheap: an item enters each index only in the states that
  // query it, so claim and completion updates touch few index entries.
  await s
    .createIndex('uq_work_items_dedupe_key')
    .on('job_scheduler_work_items')
    .column('dedupe_key')
    .unique()
    .where(sql.ref('dedupe_key'), 'is not', null)
    .execute();
  // Serves the claim: equality on status, site (or IS NULL) and lane, then exactly the claim's
  // ORDER BY priority DESC, available_at, id — so a claim reads its batch off the index in order
  // instead of sorting every queued item.
  await s
    .createIndex('ix_work_items_claim')
    .on('job_scheduler_work_items')
    .columns(['status', 'site_id', 'lane', 'priority desc', 'available_at', 'id'])
    .where(sql.ref('status'), '=', 'queued')
    .execute();
  // Site-less items (service actions) claim with `site_id IS NULL`, which PostgreSQL cannot treat
  // as an equality for index order; this index gives them the same in-order read.
  await s
    .createIndex('ix_work_items_claim_siteless')
    .on('job_scheduler_work_items')
    .columns(['lane', 'priority desc', 'available_at', 'id'])
    .where((eb) => eb.and([eb(sql.ref('status'), '=', 'queued'), eb(sql.ref('site_id'), 'is', null)]))
    .execute();
  // Reclaim scans expired leases; releaseOwner finds a lost worker's items.
  await s
    .createIndex('ix_work_items_lease_expires_at')
    .on('job_scheduler_work_items')
    .column('lease_expires_at')
    .where(sql.ref('status'), '=', 'running')
    .execute();
  await s
    .createIndex('ix_work_items_lease_owner')
    .on('job_scheduler_work_items')
    .column('lease_owner')
    .where(sql.ref('status'), '=', 'running')
    .execute();
  await s
    .createIndex('ix_work_items_run_id')
    .on('job_scheduler_work_items')
    .column('run_id')
    .where(sql.ref('run_id'), 'is not', null)
    .execute();
  // Pruning deletes finished items by age.
  await s.createIndex('ix_work_items_finished_at').on('job_scheduler_work_items').column('finished_at').execute();
  await s.createIndex('ix_work_items_status_kind').on('job_scheduler_work_items').columns(['status', 'kind']).execute();

  await s
    .createTable('job_scheduler_workers')
    .addColumn('worker_guid', 'text', (c) => c.notNull().primaryKey())
    .addColumn('container_name', 'text')
    .addColumn('site_id', 'integer')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('started_at', t.timestamp)
    .addColumn('last_seen_at', t.timestamp)
    .addColumn('idle_since', t.timestamp)
    .addColumn('stopped_at', t.timestamp)
    .addColumn('current_lanes_json', t.json)
    .addColumn('claimed_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('task_links_json', t.json)
    .addColumn('docker_state', 'text')
    .addColumn('exit_code', 'integer')
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .execute();
  await s.createIndex('ix_workers_site_status').on('job_scheduler_workers').columns(['site_id', 'status']).execute();
  await s.createIndex('ix_workers_status').on('job_scheduler_workers').column('status').execute();

  await s
    .createTable('job_scheduler_service_snapshots')
    .addColumn('service_key', 'text', (c) => c.notNull().primaryKey())
    .addColumn('payload_json', t.json, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .execute();
}

/** Tables in reverse dependency order; dropping a table drops its indexes on both backends. */
const TABLES = [
  'job_scheduler_service_snapshots',
  'job_scheduler_workers',
  'job_scheduler_work_items',
  'scheduled_job_onboarding_target_events',
  'scheduled_job_onboarding_targets',
  'scheduled_job_run_targets',
  'scheduled_job_run_activity',
  'scheduled_job_runs',
  'scheduled_jobs',
  'activity_history',
  'credentials',
  'device_approvals',
  'device_filter_sites',
  'device_filters',
  'device_sites',
  'devices',
  'sites',
];

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of TABLES) await db.schema.dropTable(table).execute();
}

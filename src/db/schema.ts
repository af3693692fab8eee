/**
 * The Kysely `Database` interface: every jobyard table as the application sees it. Timestamps are
 * epoch milliseconds, `*_json` columns read as parsed values and are written as JSON text
 * (`toJson`), booleans are booleans on both backends (see dialect.ts).
 *
 * Kept in step with migrations/ by test/db/schema-drift.test.ts, which migrates both backends to
 * latest and compares the live columns (and their nullability) with the interfaces below.
 */
import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';
import type { OperatorTables } from './schema-operator.js';

/** A `*_json` column: read as T, written as JSON text. */
export type Json<T = unknown> = ColumnType<T, string, string>;
/** A nullable `*_json` column. */
export type NullableJson<T = unknown> = ColumnType<T | null, string | null | undefined, string | null>;
/** Epoch milliseconds. */
export type Timestamp = number;

export interface Database extends OperatorTables {
  activity_history: ActivityHistoryTable;
  credentials: CredentialsTable;
  device_approvals: DeviceApprovalsTable;
  device_filter_sites: DeviceFilterSitesTable;
  device_filters: DeviceFiltersTable;
  device_sites: DeviceSitesTable;
  devices: DevicesTable;
  job_scheduler_service_snapshots: JobSchedulerServiceSnapshotsTable;
  job_scheduler_work_items: JobSchedulerWorkItemsTable;
  job_scheduler_workers: JobSchedulerWorkersTable;
  scheduled_job_onboarding_target_events: ScheduledJobOnboardingTargetEventsTable;
  scheduled_job_onboarding_targets: ScheduledJobOnboardingTargetsTable;
  scheduled_job_run_activity: ScheduledJobRunActivityTable;
  scheduled_job_run_targets: ScheduledJobRunTargetsTable;
  scheduled_job_runs: ScheduledJobRunsTable;
  scheduled_jobs: ScheduledJobsTable;
  sites: SitesTable;
}

// ---------------------------------------------------------------------------------------------
// Inventory the scheduler reads: sites, devices and saved filters.

export interface SitesTable {
  id: Generated<number>;
  name: string;
  /** `name` lowercased, for case-insensitive lookups (dialect.lowerEq). */
  name_lower: string;
  description: string | null;
  created_at: Timestamp;
  enrollment_code: string | null;
  auto_approve_until: Timestamp | null;
}

export interface DevicesTable {
  guid: string;
  hostname: string;
  /** `hostname` lowercased, for case-insensitive lookups (dialect.lowerEq). */
  hostname_lower: string;
  status: string | null;
  last_seen: Timestamp | null;
  agent_id: string | null;
  connection_type: string | null;
  connection_endpoint: string | null;
  internal_ip: string | null;
  external_ip: string | null;
  operating_system: string | null;
  device_type: string | null;
  ssl_key_fingerprint: string | null;
  created_at: Timestamp;
}

/** Hostname → site map; the key is the hostname (a logical link to devices.hostname). */
export interface DeviceSitesTable {
  device_hostname: string;
  site_id: number;
  assigned_at: Timestamp;
}

export interface DeviceFiltersTable {
  id: Generated<number>;
  name: string;
  description: string | null;
  archived: Generated<boolean>;
  criteria_mode: string | null;
  site_mode: string | null;
  basic_criteria_json: NullableJson;
  advanced_criteria_json: NullableJson;
  last_edited_by: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface DeviceFilterSitesTable {
  filter_id: number;
  site_id: number;
}

export interface DeviceApprovalsTable {
  id: Generated<number>;
  approval_reference: string;
  guid: string | null;
  hostname_claimed: string | null;
  ssl_key_fingerprint_claimed: string | null;
  enrollment_code: string | null;
  /** Soft relation to sites.id (no foreign key: an approval request may name a site that is
   *  created or removed later; the approval step checks it). */
  site_id: number | null;
  status: string;
  client_nonce: string | null;
  server_nonce: string | null;
  agent_pubkey_der: Buffer | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  approved_by_user_id: string | null;
  onboarding_job_id: number | null;
  onboarding_run_id: number | null;
  onboarding_target: string | null;
}

/** Credential material stays here; workers fetch it by id only while executing. */
export interface CredentialsTable {
  id: Generated<number>;
  name: string;
  description: string | null;
  site_id: number | null;
  credential_type: string | null;
  connection_type: string | null;
  username: string | null;
  password_encrypted: Buffer | null;
  private_key_encrypted: Buffer | null;
  private_key_passphrase_encrypted: Buffer | null;
  become_method: string | null;
  become_username: string | null;
  become_password_encrypted: Buffer | null;
  metadata_json: NullableJson;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface ActivityHistoryTable {
  id: Generated<number>;
  hostname: string | null;
  script_path: string | null;
  script_name: string | null;
  script_type: string | null;
  ran_at: Timestamp;
  status: string;
  stdout: string | null;
  stderr: string | null;
}

// ---------------------------------------------------------------------------------------------
// Scheduling: job definitions, their occurrences (runs) and what each occurrence touched.

export interface ScheduledJobsTable {
  id: Generated<number>;
  name: string;
  components_json: Json;
  targets_json: Json;
  schedule_type: string;
  start_ts: Timestamp | null;
  duration_stop_enabled: Generated<boolean>;
  expiration: Timestamp | null;
  execution_context: string | null;
  /** Logical link to credentials.id (no foreign key: a job keeps its reference when a
   *  credential is removed, and the executor refuses the item with a clear error). */
  credential_id: number | null;
  use_service_account: Generated<boolean>;
  job_kind: Generated<string>;
  enabled: Generated<boolean>;
  created_at: Timestamp;
  updated_at: Timestamp;
  /** The next occurrence still to be ticked; NULL when there is none or the job is disabled. Indexed: a tick reads only due jobs. */
  next_run_at: Timestamp | null;
  /** IANA zone for calendar and cron schedules. */
  time_zone: Generated<string>;
  cron_expression: string | null;
  /** skip | run_once | run_all: what happens to occurrences missed while no scheduler ran. */
  missed_policy: Generated<string>;
}

export interface ScheduledJobRunsTable {
  id: Generated<number>;
  job_id: number;
  scheduled_ts: Timestamp;
  started_ts: Timestamp | null;
  finished_ts: Timestamp | null;
  status: string;
  error: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  target_hostname: string | null;
  skip_reason: string | null;
  shared_execution: Generated<boolean>;
  component_index: number | null;
  component_kind: string | null;
  component_name: string | null;
  /** The run a rerun copied its frozen targets from; null for ticked and run-now occurrences. */
  rerun_of_run_id: number | null;
}

export interface ScheduledJobRunActivityTable {
  id: Generated<number>;
  run_id: number;
  activity_id: number;
  component_kind: string | null;
  script_type: string | null;
  component_path: string | null;
  component_name: string | null;
  created_at: Timestamp;
  /** A command's exit code (null for other kinds and for rows from before it was recorded). */
  exit_code: number | null;
  duration_ms: number | null;
  /** One line: `exit code 3`, `HTTP 503 Service Unavailable`, `timed out after 5 s`. */
  detail: string | null;
}

/** The frozen, point-in-time target list of one occurrence. */
export interface ScheduledJobRunTargetsTable {
  id: Generated<number>;
  run_id: number;
  device_guid: string | null;
  hostname: string | null;
  site_id: number | null;
  resolved_from_filter_id: number | null;
  inventory_hostname: string | null;
  wireguard_peer_ip: string | null;
  resolved_connection: string | null;
  resolution_status: string | null;
  resolution_reason: string | null;
  resolved_from_filter_ids_json: NullableJson<number[]>;
  created_at: Timestamp;
  /** This target's outcome for the occurrence: Pending, Success, Failed, Expired, Skipped. */
  status: string | null;
  finished_at: Timestamp | null;
  /** One line: why the target failed (remote runs), or how it ended. */
  detail: string | null;
  /** Exit code of the last component run on the target over SSH. */
  exit_code: number | null;
  duration_ms: number | null;
}

export interface ScheduledJobOnboardingTargetsTable {
  id: Generated<number>;
  run_id: number;
  job_id: number;
  scheduled_ts: Timestamp | null;
  site_id: number | null;
  /** The raw scope entry, inline `# comment` included. */
  target_input: string | null;
  target_address: string | null;
  target_hostname: string | null;
  ssh_port: number | null;
  status: string;
  detail: string | null;
  stdout_snippet: string | null;
  stderr_snippet: string | null;
  approval_reference: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  finished_at: Timestamp | null;
}

export interface ScheduledJobOnboardingTargetEventsTable {
  id: Generated<number>;
  target_row_id: number;
  run_id: number;
  job_id: number;
  status: string;
  task: string | null;
  detail: string | null;
  stdout_snippet: string | null;
  stderr_snippet: string | null;
  started_at: Timestamp | null;
  finished_at: Timestamp | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

// ---------------------------------------------------------------------------------------------
// The work-item queue and the processes that drain it.

export interface JobSchedulerWorkItemsTable {
  id: Generated<number>;
  /** One piece of work has one key for as long as its item is kept (unique). */
  dedupe_key: string | null;
  kind: string;
  site_id: number | null;
  lane: Generated<string>;
  job_id: number | null;
  run_id: number | null;
  target_id: number | null;
  payload_json: Json<Record<string, unknown>>;
  /** queued → running → succeeded | failed | dead | cancelled (queued again on retry/reclaim). */
  status: Generated<string>;
  attempt_count: Generated<number>;
  /**
   * Claims so far; each claim adds one and nothing takes one away, so (id, claim_count) names one
   * claim. Completion, failure, heartbeat and release are fenced on it (queue/claim.ts: Lease).
   */
  claim_count: Generated<number>;
  max_attempts: number;
  /** Higher runs first. */
  priority: Generated<number>;
  available_at: Timestamp;
  lease_owner: string | null;
  lease_expires_at: Timestamp | null;
  heartbeat_at: Timestamp | null;
  worker_guid: string | null;
  container_name: string | null;
  error: string | null;
  /** What the executor reported on success (service-action outcome, counts, …). */
  result_json: NullableJson;
  created_at: Timestamp;
  updated_at: Timestamp;
  started_at: Timestamp | null;
  finished_at: Timestamp | null;
}

export interface JobSchedulerWorkersTable {
  worker_guid: string;
  container_name: string | null;
  site_id: number | null;
  status: string;
  started_at: Timestamp | null;
  last_seen_at: Timestamp | null;
  idle_since: Timestamp | null;
  stopped_at: Timestamp | null;
  current_lanes_json: NullableJson<string[]>;
  claimed_count: Generated<number>;
  task_links_json: NullableJson;
  docker_state: string | null;
  exit_code: number | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface JobSchedulerServiceSnapshotsTable {
  service_key: string;
  payload_json: Json<Record<string, unknown>>;
  updated_at: Timestamp;
}

export type WorkItem = Selectable<JobSchedulerWorkItemsTable>;
export type NewWorkItem = Insertable<JobSchedulerWorkItemsTable>;
export type WorkItemUpdate = Updateable<JobSchedulerWorkItemsTable>;
export type ScheduledJob = Selectable<ScheduledJobsTable>;
export type ScheduledJobRun = Selectable<ScheduledJobRunsTable>;
export type Worker = Selectable<JobSchedulerWorkersTable>;

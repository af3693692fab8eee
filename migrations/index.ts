/**
 * Every migration this build knows, in order. File names are `YYYYMMDD_NNNN_description`;
 * test/db/migrations.test.ts fails when a file in this folder is missing from the list.
 */
import type { MigrationList } from '../src/db/migrate.js';
import * as m20261123_0001 from './20261123_0001_initial_schema.js';
import * as m20261123_0002 from './20261123_0002_work_item_notify.js';
import * as m20261123_0003 from './20261123_0003_scheduler_fields.js';
import * as m20261202_0001 from './20261202_0001_work_item_claim_count.js';
import * as m20261202_0002 from './20261202_0002_audit_log.js';
import * as m20261202_0003 from './20261202_0003_api_tokens.js';
import * as m20261202_0004 from './20261202_0004_credential_keyring.js';
import * as m20261202_0006 from './20261202_0006_run_reruns_and_outcomes.js';
import * as m20261202_0007 from './20261202_0007_maintenance_leases.js';
import * as m20261202_0008 from './20261202_0008_ssh_host_keys.js';
import * as m20261202_0009 from './20261202_0009_ansible_recaps.js';
import * as m20261202_0010 from './20261202_0010_ui_sessions.js';
import * as m20261202_0011 from './20261202_0011_minute_rollup.js';
import * as m20261202_0014 from './20261202_0014_work_item_partial_indexes.js';
import * as m20261202_0018 from './20261202_0018_work_item_list_indexes.js';
import * as m20261202_0019 from './20261202_0019_ui_session_proof.js';
import * as m20261202_0020 from './20261202_0020_work_item_kind_time_indexes.js';
import * as m20261202_0023 from './20261202_0023_drop_payload_gin.js';
import * as m20261202_0026 from './20261202_0026_work_item_claim_sited.js';
import * as m20261202_0027 from './20261202_0027_queued_available_at_status.js';
import * as m20261202_0028 from './20261202_0028_running_items_covering_index.js';

export const MIGRATIONS: MigrationList = [
  ['20261123_0001_initial_schema', m20261123_0001],
  ['20261123_0002_work_item_notify', m20261123_0002],
  ['20261123_0003_scheduler_fields', m20261123_0003],
  ['20261202_0001_work_item_claim_count', m20261202_0001],
  ['20261202_0002_audit_log', m20261202_0002],
  ['20261202_0003_api_tokens', m20261202_0003],
  ['20261202_0004_credential_keyring', m20261202_0004],
  ['20261202_0006_run_reruns_and_outcomes', m20261202_0006],
  ['20261202_0007_maintenance_leases', m20261202_0007],
  ['20261202_0008_ssh_host_keys', m20261202_0008],
  ['20261202_0009_ansible_recaps', m20261202_0009],
  ['20261202_0010_ui_sessions', m20261202_0010],
  ['20261202_0011_minute_rollup', m20261202_0011],
  ['20261202_0014_work_item_partial_indexes', m20261202_0014],
  ['20261202_0018_work_item_list_indexes', m20261202_0018],
  ['20261202_0019_ui_session_proof', m20261202_0019],
  ['20261202_0020_work_item_kind_time_indexes', m20261202_0020],
  ['20261202_0023_drop_payload_gin', m20261202_0023],
  ['20261202_0026_work_item_claim_sited', m20261202_0026],
  ['20261202_0027_queued_available_at_status', m20261202_0027],
  ['20261202_0028_running_items_covering_index', m20261202_0028],
];

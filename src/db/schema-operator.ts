/**
 * The tables of the operator surface (audit log, API tokens, the credential keyring), kept apart
 * from schema.ts so that each file stays readable. `Database` in schema.ts includes them; the
 * same drift test checks them against the migrations.
 */
import type { Generated } from 'kysely';
import type { Json, Timestamp } from './schema.js';

export interface OperatorTables {
  audit_log: AuditLogTable;
  ui_sessions: UiSessionsTable;
  work_item_minute_rollup: WorkItemMinuteRollupTable;
  api_tokens: ApiTokensTable;
  ssh_host_keys: SshHostKeysTable;
  maintenance_leases: MaintenanceLeasesTable;
  credential_keyring: CredentialKeyringTable;
  ansible_play_recaps: AnsiblePlayRecapsTable;
}

/** One shared maintenance task's turn (owned by src/daemon/maintenance-lease.ts). */
export interface MaintenanceLeasesTable {
  /** `reclaim`, `prune`, `rollup`, `reconcile`, … */
  task: string;
  /** The task is not run again before this (epoch ms, the database's clock). */
  next_due_at: Timestamp;
  /** The replica that took the last turn (its owner id), for operators. */
  holder: string | null;
  ran_at: Timestamp | null;
}

/** One write made by an operator (owned by src/audit/audit-log.ts). */
export interface AuditLogTable {
  id: Generated<number>;
  at: Timestamp;
  /** A token's name (`token:<name>`), `cli:<os user>`, or `system` for the scheduler's own writes. */
  actor: string;
  /** `<object type>.<verb>`, e.g. `site.create`, `job.update`, `credential.rotate_key`. */
  action: string;
  object_type: string;
  object_id: string | null;
  /** What changed, never a secret (masked by src/secrets.ts before it is written). */
  summary_json: Json<Record<string, unknown>>;
}

/** One dashboard sign-in (owned by src/http/ui/sessions.ts); the cookie's id is stored hashed. */
export interface UiSessionsTable {
  /** SHA-256 (hex) of the random session id in the cookie. */
  id_hash: string;
  actor: string;
  /** viewer | operator | admin, as the token that signed in had. */
  role: string;
  csrf_token: string;
  created_at: Timestamp;
  expires_at: Timestamp;
  /** HMAC-SHA256 (hex), keyed with the cookie's session id, of the token that signed in. */
  credential_mac: Generated<string>;
  /** Last request (written at most once a minute), for the idle timeout. */
  last_active_at: Generated<Timestamp>;
}

/** Finished work items per minute and kind, for the dashboard's charts (owned by src/queue/minute-rollup.ts). */
export interface WorkItemMinuteRollupTable {
  /** Start of the minute, epoch ms. */
  minute_ts: Timestamp;
  kind: string;
  succeeded: number;
  /** failed or dead. */
  failed: number;
  /** Sum and count of (started_at − available_at): how long claimable items waited for a worker. */
  wait_ms_sum: number;
  wait_count: number;
  /** Sum of (finished_at − started_at) over the minute's finished items. */
  run_ms_sum: number;
}

/** A bearer token of the HTTP API (owned by src/auth/tokens.ts); only its hash is stored. */
export interface ApiTokensTable {
  id: Generated<number>;
  /** Unique across live and revoked tokens; the audit actor is `token:<name>`. */
  name: string;
  /** viewer | operator | admin */
  role: string;
  /** Hex SHA-256 of the token (a 256-bit random value, so no slow hash is needed). */
  token_hash: string;
  created_at: Timestamp;
  /** The actor that created it. */
  created_by: string;
  /** Updated at most once a minute. */
  last_used_at: Timestamp | null;
  revoked_at: Timestamp | null;
}

/** The SSH host key pinned per remote host on first contact (owned by src/executors/ssh/host-keys.ts). */
export interface SshHostKeysTable {
  /** `device:<guid>` or `address:<host>:<port>` (a host reached before it is a device). */
  subject: string;
  hostname: string | null;
  /** host:port the key was first seen at. */
  address: string;
  /** e.g. ssh-ed25519. */
  key_type: string;
  /** The key blob, base64 (as in known_hosts). */
  public_key: string;
  /** `SHA256:<base64>` as OpenSSH prints it. */
  fingerprint: string;
  pinned_at: Timestamp;
  last_seen_at: Timestamp;
}

/**
 * The credentials keyring, one row (id 1) once the first unlock happened (owned by
 * src/credentials/keyring.ts). The key is derived from the operator's secret and never stored.
 */
export interface CredentialKeyringTable {
  /** Always 1 (a check constraint): one keyring. */
  id: Generated<number>;
  /** `scrypt`. */
  kdf_name: string;
  /** `{ N, r, p, salt }` (salt base64url). */
  kdf_params_json: Json<Record<string, unknown>>;
  /** A jy:v1 envelope of a known constant: opens only with the right key. */
  verification_token: string;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** One host's PLAY RECAP line of an ansible_playbook component run (src/executors/ansible). */
export interface AnsiblePlayRecapsTable {
  id: Generated<number>;
  /** The component's shared run row. */
  run_id: number;
  /** The frozen target (of the occurrence's run) this inventory alias stood for. */
  target_id: number | null;
  inventory_hostname: string;
  ok: number;
  changed: number;
  unreachable: number;
  failed: number;
  skipped: number;
  rescued: number;
  ignored: number;
  created_at: Timestamp;
}

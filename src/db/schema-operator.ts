/**
 * The tables of the operator surface (audit log, API tokens, the credential keyring), kept apart
 * from schema.ts so that each file stays readable. `Database` in schema.ts includes them; the
 * same drift test checks them against the migrations.
 */
import type { Generated } from 'kysely';
import type { Json, Timestamp } from './schema.js';

export interface OperatorTables {
  audit_log: AuditLogTable;
  api_tokens: ApiTokensTable;
  ssh_host_keys: SshHostKeysTable;
  ansible_play_recaps: AnsiblePlayRecapsTable;
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

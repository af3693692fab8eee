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
}

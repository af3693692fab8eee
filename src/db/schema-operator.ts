/**
 * The tables of the operator surface (audit log, API tokens, the credential keyring), kept apart
 * from schema.ts so that each file stays readable. `Database` in schema.ts includes them; the
 * same drift test checks them against the migrations.
 */
import type { Generated } from 'kysely';
import type { Json, Timestamp } from './schema.js';

export interface OperatorTables {
  audit_log: AuditLogTable;
  maintenance_leases: MaintenanceLeasesTable;
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

/**
 * The audit log (owner of `audit_log`): who changed what, and when. Every write an operator makes
 * through the CLI or the HTTP API records one row, in the same transaction as the change, so a
 * change without its row (or a row without its change) cannot commit. The summary says what
 * changed; any key that names a secret is replaced by "[redacted]" before it is written, so even a
 * careless caller cannot put a password here.
 */
import os from 'node:os';
import type { Kysely } from 'kysely';
import { toJson } from '../db/dialect.js';
import type { Database } from '../db/schema.js';
import { decodeCursor, isIdKey, pageLimit, toPage, type Page } from '../pagination.js';
import { isSecretKey } from '../secrets.js';

/** Who made a change: `token:<name>`, `cli:<os user>`, or `system`. */
export type Actor = string;

export const REDACTED = '[redacted]';

/** The actor for a command run from the CLI: `cli:<os user>`. */
export function cliActor(): Actor {
  let user: string;
  try {
    user = os.userInfo().username;
  } catch {
    user = process.env.USER ?? String(process.getuid?.() ?? 'unknown');
  }
  return `cli:${user}`;
}

/** The actor for a request made with an API token. */
export const tokenActor = (tokenName: string): Actor => `token:${tokenName}`;

export interface AuditEntry {
  actor: Actor;
  /** `<object type>.<verb>`, e.g. `site.create`. */
  action: string;
  objectType: string;
  objectId?: string | number | null;
  /** What changed (the new values, a before/after, counts); secrets are redacted. */
  summary?: Record<string, unknown>;
  /** Epoch ms; defaults to now. */
  at?: number;
}

export interface AuditRow {
  id: number;
  at: number;
  actor: string;
  action: string;
  object_type: string;
  object_id: string | null;
  summary: Record<string, unknown>;
}

/** Records one write. Call it with the transaction that makes the change. */
export async function recordAudit(db: Kysely<Database>, entry: AuditEntry): Promise<void> {
  await db
    .insertInto('audit_log')
    .values({
      at: entry.at ?? Date.now(),
      actor: entry.actor,
      action: entry.action,
      object_type: entry.objectType,
      object_id: entry.objectId === undefined || entry.objectId === null ? null : String(entry.objectId),
      summary_json: toJson(redactSecrets(entry.summary ?? {})),
    })
    .execute();
}

export interface AuditQuery {
  limit?: number;
  cursor?: string;
  actor?: string;
  action?: string;
  objectType?: string;
  objectId?: string;
  /** Epoch ms, inclusive. */
  since?: number;
}

/** The newest rows first, filtered, one page at a time. */
export async function listAudit(db: Kysely<Database>, query: AuditQuery = {}): Promise<Page<AuditRow>> {
  const limit = pageLimit(query.limit);
  let q = db.selectFrom('audit_log').selectAll().orderBy('id', 'desc').limit(limit + 1);
  if (query.cursor !== undefined) q = q.where('id', '<', decodeCursor(query.cursor, isIdKey));
  if (query.actor !== undefined) q = q.where('actor', '=', query.actor);
  if (query.action !== undefined) q = q.where('action', '=', query.action);
  if (query.objectType !== undefined) q = q.where('object_type', '=', query.objectType);
  if (query.objectId !== undefined) q = q.where('object_id', '=', query.objectId);
  if (query.since !== undefined) q = q.where('at', '>=', query.since);
  const rows = await q.execute();
  const page = toPage(rows, limit, (r) => r.id);
  return {
    next_cursor: page.next_cursor,
    items: page.items.map((r) => ({
      id: Number(r.id),
      at: Number(r.at),
      actor: r.actor,
      action: r.action,
      object_type: r.object_type,
      object_id: r.object_id,
      summary: r.summary_json,
    })),
  };
}

/** Deletes rows older than `before` (epoch ms); returns how many. */
export async function pruneAudit(db: Kysely<Database>, before: number): Promise<number> {
  const result = await db.deleteFrom('audit_log').where('at', '<', before).executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** A copy of `value` with every secret-named key's value replaced, at any depth. */
export function redactSecrets<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => redactSecrets(v)) as T;
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = isSecretKey(k) && v !== null && v !== undefined ? REDACTED : redactSecrets(v);
  }
  return out as T;
}

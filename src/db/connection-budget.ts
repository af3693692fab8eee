/**
 * The server-wide connection limit the fleet budgets against. PostgreSQL refuses connections past
 * max_connections, and keeps superuser_reserved_connections of those for superusers; SQLite has
 * no such limit (one connection per process), so it has no budget.
 */
import { sql } from './kysely.js';
import type { Store } from './open.js';

/** Connections left for operators, migrations and monitoring beyond the superuser reserve. */
export const OPERATOR_RESERVE = 10;

export interface ServerConnectionLimit {
  maxConnections: number;
  superuserReserved: number;
}

/** max_connections and superuser_reserved_connections, or null where there is no server limit. */
export async function readServerConnectionLimit(store: Store): Promise<ServerConnectionLimit | null> {
  if (!store.dialect.capabilities.connectionBudget) return null;
  const { rows } = await sql<{ max: string; reserved: string }>`
    select current_setting('max_connections') as max, current_setting('superuser_reserved_connections') as reserved
  `.execute(store.db);
  return { maxConnections: Number(rows[0]!.max), superuserReserved: Number(rows[0]!.reserved) };
}

/** The default DB_CONNECTION_BUDGET: max_connections − superuser_reserved_connections − OPERATOR_RESERVE, at least 1. */
export function defaultConnectionBudget(limit: ServerConnectionLimit): number {
  return Math.max(1, limit.maxConnections - limit.superuserReserved - OPERATOR_RESERVE);
}

/**
 * DB_CONNECTION_BUDGET when set, else the default from the server; undefined where the backend
 * has no connection limit (the fleet then checks nothing).
 */
export async function resolveConnectionBudget(store: Store, configured: number | undefined): Promise<number | undefined> {
  const limit = await readServerConnectionLimit(store);
  if (!limit) return undefined;
  return configured ?? defaultConnectionBudget(limit);
}

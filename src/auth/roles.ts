/**
 * API roles, ordered: a role can do everything the roles below it can.
 * - viewer: reads.
 * - operator: also writes jobs, runs, work items and inventory.
 * - admin: also credentials, service actions, tokens and the audit log.
 */
export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const isRole = (value: unknown): value is Role => typeof value === 'string' && (ROLES as readonly string[]).includes(value);

/** True when `have` is `need` or above it. */
export function roleAtLeast(have: Role, need: Role): boolean {
  return ROLES.indexOf(have) >= ROLES.indexOf(need);
}

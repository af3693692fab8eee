/**
 * Work kinds and their defaults. Priority: HIGHER runs first (the claim orders by
 * priority DESC): service actions first, then onboarding, maintenance and scheduled runs.
 */
export const WORK_KINDS = [
  'service_action',
  'onboarding_run',
  'agent_maintenance_run',
  'scheduled_run',
  'scheduled_workflow_run',
] as const;
export type WorkKind = (typeof WORK_KINDS)[number];

const DEFAULT_PRIORITY: Record<string, number> = {
  service_action: 100,
  onboarding_run: 50,
  agent_maintenance_run: 45,
  scheduled_run: 40,
  scheduled_workflow_run: 40,
};

/** Priority of a kind when the enqueuer gives none; unknown kinds get 0. */
export function defaultPriority(kind: string): number {
  return DEFAULT_PRIORITY[kind] ?? 0;
}

export interface RetryPolicy {
  /** Attempts in all, the first included; the item goes `dead` after the last one fails. */
  maxAttempts: number;
  /** Delay before the second attempt; doubles per attempt. */
  baseDelayMs: number;
  /** Upper bound on one delay. */
  maxDelayMs: number;
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;

/**
 * Defaults per kind. Service actions are operator clicks: retry soon, give up soon. Scheduled and
 * onboarding runs touch remote machines that may be rebooting: wait longer between attempts.
 */
const RETRY_POLICIES: Record<string, RetryPolicy> = {
  service_action: { maxAttempts: 3, baseDelayMs: 2 * SECOND, maxDelayMs: 30 * SECOND },
  onboarding_run: { maxAttempts: 3, baseDelayMs: 30 * SECOND, maxDelayMs: 10 * MINUTE },
  agent_maintenance_run: { maxAttempts: 3, baseDelayMs: 30 * SECOND, maxDelayMs: 10 * MINUTE },
  scheduled_run: { maxAttempts: 3, baseDelayMs: 10 * SECOND, maxDelayMs: 5 * MINUTE },
  scheduled_workflow_run: { maxAttempts: 3, baseDelayMs: 10 * SECOND, maxDelayMs: 5 * MINUTE },
};
const FALLBACK_POLICY: RetryPolicy = { maxAttempts: 5, baseDelayMs: 5 * SECOND, maxDelayMs: 10 * MINUTE };

export function retryPolicyFor(kind: string, overrides: Partial<Record<string, Partial<RetryPolicy>>> = {}): RetryPolicy {
  return { ...(RETRY_POLICIES[kind] ?? FALLBACK_POLICY), ...overrides[kind] };
}

/** Item statuses. `queued` and `running` are live; the rest are final until an operator retries. */
export const WORK_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'dead', 'cancelled'] as const;
export type WorkStatus = (typeof WORK_STATUSES)[number];
export const FINISHED_STATUSES: readonly WorkStatus[] = ['succeeded', 'failed', 'dead', 'cancelled'];

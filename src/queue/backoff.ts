import type { RetryPolicy } from './kinds.js';

/**
 * Delay before the next attempt after `attempt` (1-based) failed: exponential, capped, with
 * "equal jitter" — half the delay is fixed and half random — so retries of items that failed
 * together spread out but never come back sooner than half the schedule.
 */
export function retryDelayMs(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const exponent = Math.max(0, attempt - 1);
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(exponent, 30));
  const half = ceiling / 2;
  return Math.round(half + random() * half);
}

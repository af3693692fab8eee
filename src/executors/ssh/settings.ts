/** Remote-execution settings and the per-site limit on targets connected at once. */
import pLimit, { type LimitFunction } from 'p-limit';

export interface SshSettings {
  /** TCP connect + handshake + authentication (ssh2 readyTimeout). */
  connectTimeoutMs: number;
  /** Targets of one site connected at once in this worker, across all of its jobs. */
  siteConcurrency: number;
  /** TERM → KILL → channel close steps when a remote command is stopped. */
  killGraceMs: number;
  keepaliveIntervalMs: number;
}

export const DEFAULT_SSH_SETTINGS: SshSettings = {
  connectTimeoutMs: 10_000,
  siteConcurrency: 20,
  killGraceMs: 2_000,
  keepaliveIntervalMs: 15_000,
};

export function sshSettings(overrides: Partial<SshSettings> | undefined): SshSettings {
  return { ...DEFAULT_SSH_SETTINGS, ...(overrides ?? {}) };
}

const siteLimits = new Map<number, { size: number; limit: LimitFunction }>();

/** The process-wide limiter of a site (recreated when its size changes). */
export function siteLimit(siteId: number, size: number): LimitFunction {
  const existing = siteLimits.get(siteId);
  if (existing && existing.size === size) return existing.limit;
  const limit = pLimit(Math.max(1, size));
  siteLimits.set(siteId, { size, limit });
  return limit;
}

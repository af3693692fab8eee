import { UserError } from '../errors.js';

/**
 * Host tuning profiles: the pool grows with the host. CPU and RAM are ranked separately
 * and the lower rank wins, so an unbalanced host (many cores, little memory) is not over-tuned.
 */
export const POOL_PROFILES = [
  { name: 'Homelab', poolSize: 10, maxOverflow: 10 },
  { name: 'Small Business', poolSize: 12, maxOverflow: 16 },
  { name: 'MSP / Production', poolSize: 20, maxOverflow: 20 },
  { name: 'Enterprise', poolSize: 24, maxOverflow: 24 },
] as const;

export type PoolProfileName = (typeof POOL_PROFILES)[number]['name'];

export interface HostShape {
  vcpus: number;
  memoryBytes: number;
}

export interface PoolSettings {
  profile: PoolProfileName;
  cpuRank: number;
  ramRank: number;
  poolSize: number;
  maxOverflow: number;
  /** What the pool may open at most: size + overflow. */
  poolMax: number;
  overridden: boolean;
}

const GIB = 1024 ** 3;

/** 0 Homelab (<8), 1 Small Business (8–15), 2 MSP (16–23), 3 Enterprise (24+). */
export function rankCpu(vcpus: number): number {
  if (vcpus >= 24) return 3;
  if (vcpus >= 16) return 2;
  if (vcpus >= 8) return 1;
  return 0;
}

/** 0 Homelab (<16 GiB), 1 Small Business (16–31), 2 MSP (32–63), 3 Enterprise (64+). */
export function rankMemory(memoryBytes: number): number {
  const gib = memoryBytes / GIB;
  if (gib >= 64) return 3;
  if (gib >= 32) return 2;
  if (gib >= 16) return 1;
  return 0;
}

/**
 * The pool settings for a host, with `DB_POOL_SIZE` / `DB_MAX_OVERFLOW` overriding the profile's
 * values one by one. Pure: the caller passes the host shape and the environment.
 */
export function selectPoolSettings(
  host: HostShape,
  env: { DB_POOL_SIZE?: string | undefined; DB_MAX_OVERFLOW?: string | undefined } = {},
): PoolSettings {
  const cpuRank = rankCpu(host.vcpus);
  const ramRank = rankMemory(host.memoryBytes);
  const profile = POOL_PROFILES[Math.min(cpuRank, ramRank)]!;
  const sizeOverride = parseCount('DB_POOL_SIZE', env.DB_POOL_SIZE, 1);
  const overflowOverride = parseCount('DB_MAX_OVERFLOW', env.DB_MAX_OVERFLOW, 0);
  const poolSize = sizeOverride ?? profile.poolSize;
  const maxOverflow = overflowOverride ?? profile.maxOverflow;
  return {
    profile: profile.name,
    cpuRank,
    ramRank,
    poolSize,
    maxOverflow,
    poolMax: poolSize + maxOverflow,
    overridden: sizeOverride !== undefined || overflowOverride !== undefined,
  };
}

function parseCount(name: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) {
    throw new UserError(`${name}: "${value}" is not an integer >= ${min}`);
  }
  return n;
}

/** Connections a process holds outside its pool: the wake-up listener (LISTEN). */
export const LISTENER_CONNECTIONS = 1;

/**
 * A site worker's pool: one connection per item it may run at once (concurrency per lane × lanes)
 * plus two for its row heartbeat and claims, so it never sizes itself from the host like a scheduler.
 */
export function workerPoolMax(concurrency: number, laneCount: number): number {
  return concurrency * Math.max(1, laneCount) + 2;
}

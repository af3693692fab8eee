/**
 * The one rule for "online" (pure): a device is online when it was last seen at or after
 * `now - offlineAfterMs`; never seen, or seen earlier, is offline. Exactly at the threshold still
 * counts as online. The scheduler freezes offline targets with this rule (schedule/targets.ts), and
 * `devices list` shows and filters by it, so both always agree. SQL filters compare `last_seen`
 * with `onlineSince(...)`, the same threshold.
 */

export const DEVICE_STATES = ['online', 'offline'] as const;
export type DeviceState = (typeof DEVICE_STATES)[number];

/** The earliest `last_seen` (epoch ms) that still counts as online at `now`. */
export function onlineSince(now: number, offlineAfterMs: number): number {
  return now - offlineAfterMs;
}

/** True when a device last seen at `lastSeen` (null: never) is offline at `now`. */
export function isOffline(lastSeen: number | null, now: number, offlineAfterMs: number): boolean {
  return lastSeen === null || lastSeen < onlineSince(now, offlineAfterMs);
}

export function deviceState(lastSeen: number | null, now: number, offlineAfterMs: number): DeviceState {
  return isOffline(lastSeen, now, offlineAfterMs) ? 'offline' : 'online';
}

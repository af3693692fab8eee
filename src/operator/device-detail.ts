/**
 * One device as `jobyard devices show` and GET /api/devices/{device} present it: the inventory's
 * view plus the SSH host keys pinned for it. The pins belong to the SSH executor (which sits above
 * the inventory), so the two are joined here, above both.
 */
import type { Store } from '../db/open.js';
import { getDevice, type DeviceView, type PresenceClock } from '../inventory/device-admin.js';
import { hostKeysOfDevice } from '../executors/ssh/host-keys.js';

/** A pinned key as shown to operators (the key blob itself is left out; the fingerprint names it). */
export interface PinnedHostKeyView {
  key_type: string;
  fingerprint: string;
  /** The address the key was first seen at. */
  address: string;
  pinned_at: number;
  last_seen_at: number;
}

export interface DeviceDetail extends DeviceView {
  ssh_host_keys: PinnedHostKeyView[];
}

export async function getDeviceDetail(store: Store, ref: string, clock: PresenceClock): Promise<DeviceDetail> {
  const device = await getDevice(store, ref, clock);
  const pins = await hostKeysOfDevice(store, device.guid);
  return {
    ...device,
    ssh_host_keys: pins.map((p) => ({ key_type: p.key_type, fingerprint: p.fingerprint, address: p.address, pinned_at: Number(p.pinned_at), last_seen_at: Number(p.last_seen_at) })),
  };
}

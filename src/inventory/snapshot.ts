/**
 * The inventory snapshot a scheduler tick resolves targets from (I/O).
 *
 * `loadInventory` runs three plain SELECTs — devices with their site assignment
 * (`listInventoryDevices`), saved filters with their site lists (`listFilters`), and the ids of
 * existing sites (`listSiteIds`) — and returns plain data. No transaction is held: each statement
 * is consistent on its own, and the tick then resolves every due job's targets from this one
 * snapshot in memory (targets.ts, pure), so no connection is checked out while targets are
 * computed. A tick loads one snapshot and reuses it for every due job rather than querying per job.
 *
 * The reads are not one consistent view. Sites are read last, so a site deleted between the
 * reads shows up as a device whose `siteId` is not in `siteIds` (the resolver reports such a
 * device as unassigned); the other races (a filter created between reads, a device assigned a
 * moment later) only make the snapshot a moment older, which every snapshot is anyway.
 *
 * Archived filters are kept in the snapshot so the resolver can say why they contribute nothing.
 */
import type { Store } from '../db/open.js';
import { listInventoryDevices, type InventoryDevice } from './devices.js';
import { listFilters } from './filter-store.js';
import type { InventoryFilter } from './filters.js';
import { listSiteIds } from './sites.js';

export interface InventorySnapshot {
  /** The `now` the snapshot was loaded at (epoch ms). */
  takenAt: number;
  /** Every device, ordered by hostnameLower then guid. */
  devices: InventoryDevice[];
  /**
   * Lowercased hostname → device. devices.hostname is unique but only case-sensitively; when two
   * devices differ only in case, the most recently seen one is kept here (the resolver still
   * prefers an exact-case match for an explicit hostname).
   */
  byHostnameLower: Map<string, InventoryDevice>;
  /** Site id → its devices (in `devices` order). Devices without a site are in no list. */
  bySite: Map<number, InventoryDevice[]>;
  /** Every saved filter, archived ones included, by id. */
  filters: Map<number, InventoryFilter>;
  /** Ids of the sites that exist. */
  siteIds: Set<number>;
}

/** Loads one snapshot with three short reads; no transaction. */
export async function loadInventory(store: Store, options: { now: number }): Promise<InventorySnapshot> {
  const devices = await listInventoryDevices(store);
  const filters = await listFilters(store);
  // Last on purpose: a site deleted after the devices were read then shows as unassigned.
  const siteIds = await listSiteIds(store);

  return buildInventorySnapshot({
    takenAt: options.now,
    devices,
    filters,
    siteIds,
  });
}

/**
 * Builds the indexes of a snapshot from plain lists (pure). `devices` keep their order; callers
 * that want the documented order pass them sorted by hostnameLower then guid.
 */
export function buildInventorySnapshot(parts: {
  takenAt: number;
  devices: InventoryDevice[];
  filters: Iterable<InventoryFilter>;
  siteIds: Iterable<number>;
}): InventorySnapshot {
  const byHostnameLower = new Map<string, InventoryDevice>();
  const bySite = new Map<number, InventoryDevice[]>();
  for (const device of parts.devices) {
    const current = byHostnameLower.get(device.hostnameLower);
    if (!current || seenLater(device, current)) byHostnameLower.set(device.hostnameLower, device);
    if (device.siteId !== null) {
      const list = bySite.get(device.siteId);
      if (list) list.push(device);
      else bySite.set(device.siteId, [device]);
    }
  }
  const filters = new Map<number, InventoryFilter>();
  for (const filter of parts.filters) filters.set(filter.id, filter);
  return {
    takenAt: parts.takenAt,
    devices: parts.devices,
    byHostnameLower,
    bySite,
    filters,
    siteIds: new Set(parts.siteIds),
  };
}

function seenLater(a: InventoryDevice, b: InventoryDevice): boolean {
  return (a.lastSeen ?? -Infinity) > (b.lastSeen ?? -Infinity);
}

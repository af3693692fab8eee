/**
 * The inventory snapshot a scheduler tick resolves targets from (I/O).
 *
 * `loadInventory` runs three plain SELECTs — devices left-joined to their site assignment, saved
 * filters left-joined to their site list, and the ids of existing sites — and returns plain data.
 * No transaction is held: each statement is consistent on its own, and the tick then resolves
 * every due job's targets from this one snapshot in memory (targets.ts, pure), so no connection is
 * checked out while targets are computed (the seed's connection-hygiene rule: "fetch one inventory
 * snapshot and reuse it").
 *
 * The reads are not one consistent view. Sites are read last, so a site deleted between the
 * reads shows up as a device whose `siteId` is not in `siteIds` (the resolver reports such a
 * device as unassigned); the other races (a filter created between reads, a device assigned a
 * moment later) only make the snapshot a moment older, which every snapshot is anyway.
 *
 * `device_filters` has no deleted flag in this schema (rows are removed outright), so every row is
 * loaded; archived filters are kept in the snapshot so the resolver can say why they contribute
 * nothing. `device_sites` is joined on the exact hostname, as in the seed (the mapping key is the
 * hostname; there is no foreign key to devices).
 */
import type { Store } from '../db/open.js';
import type { InventoryDevice } from './devices.js';
import type { InventoryFilter } from './filters.js';

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
  const { db } = store;

  const deviceRows = await db
    .selectFrom('devices as d')
    .leftJoin('device_sites as ds', 'ds.device_hostname', 'd.hostname')
    .select([
      'd.guid',
      'd.hostname',
      'd.hostname_lower',
      'ds.site_id',
      'd.status',
      'd.last_seen',
      'd.operating_system',
      'd.device_type',
      'd.agent_id',
      'd.connection_type',
      'd.internal_ip',
      'd.external_ip',
    ])
    .orderBy('d.hostname_lower')
    .orderBy('d.guid')
    .execute();

  const filterRows = await db
    .selectFrom('device_filters as f')
    .leftJoin('device_filter_sites as fs', 'fs.filter_id', 'f.id')
    .select([
      'f.id',
      'f.name',
      'f.archived',
      'f.criteria_mode',
      'f.site_mode',
      'f.basic_criteria_json',
      'f.advanced_criteria_json',
      'fs.site_id',
    ])
    .orderBy('f.id')
    .orderBy('fs.site_id')
    .execute();

  const siteRows = await db.selectFrom('sites').select('id').execute();

  const devices: InventoryDevice[] = deviceRows.map((r) => ({
    guid: r.guid,
    hostname: r.hostname,
    hostnameLower: r.hostname_lower,
    siteId: r.site_id ?? null,
    status: r.status,
    lastSeen: r.last_seen === null ? null : Number(r.last_seen),
    operatingSystem: r.operating_system,
    deviceType: r.device_type,
    agentId: r.agent_id,
    connectionType: r.connection_type,
    internalIp: r.internal_ip,
    externalIp: r.external_ip,
  }));

  const filters = new Map<number, InventoryFilter>();
  for (const r of filterRows) {
    let filter = filters.get(r.id);
    if (!filter) {
      filter = {
        id: r.id,
        name: r.name,
        archived: Boolean(r.archived),
        criteriaMode: r.criteria_mode,
        siteMode: r.site_mode,
        basicCriteria: r.basic_criteria_json ?? null,
        advancedCriteria: r.advanced_criteria_json ?? null,
        siteIds: [],
      };
      filters.set(r.id, filter);
    }
    if (r.site_id !== null && r.site_id !== undefined && !filter.siteIds.includes(r.site_id)) filter.siteIds.push(r.site_id);
  }

  return buildInventorySnapshot({
    takenAt: options.now,
    devices,
    filters: [...filters.values()],
    siteIds: siteRows.map((r) => r.id),
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

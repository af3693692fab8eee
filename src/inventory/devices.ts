/** Devices and their hostname → site assignment, as the scheduler reads them. */
import type { Insertable, Selectable } from 'kysely';
import { lowerEq } from '../db/dialect.js';
import type { Store } from '../db/open.js';
import type { DevicesTable } from '../db/schema.js';

export type Device = Selectable<DevicesTable>;

/** A device as the inventory snapshot and the criteria language read it (camelCase, epoch ms). */
export interface InventoryDevice {
  guid: string;
  hostname: string;
  hostnameLower: string;
  /** From device_sites; null when the hostname has no site assignment. */
  siteId: number | null;
  status: string | null;
  /** Epoch ms; null when never seen. */
  lastSeen: number | null;
  operatingSystem: string | null;
  deviceType: string | null;
  agentId: string | null;
  connectionType: string | null;
  internalIp: string | null;
  externalIp: string | null;
}

export type NewDevice = Omit<Insertable<DevicesTable>, 'hostname_lower' | 'created_at'> & { created_at?: number };

/** Inserts or updates a device by guid; hostname_lower follows hostname. */
export async function upsertDevice(store: Store, device: NewDevice, now = Date.now()): Promise<Device> {
  const row = { ...device, hostname_lower: device.hostname.toLowerCase(), created_at: device.created_at ?? now };
  const { guid: _guid, created_at: _created, ...changes } = row;
  return store.db
    .insertInto('devices')
    .values(row)
    .onConflict((oc) => oc.column('guid').doUpdateSet(changes))
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function findDeviceByHostname(store: Store, hostname: string): Promise<Device | undefined> {
  return store.db
    .selectFrom('devices')
    .selectAll()
    .where((eb) => lowerEq(eb, 'hostname_lower', hostname))
    .executeTakeFirst();
}

/** Assigns a hostname to a site (one site per hostname; a new assignment replaces the old). */
export async function assignDeviceToSite(store: Store, hostname: string, siteId: number, now = Date.now()): Promise<void> {
  await store.db
    .insertInto('device_sites')
    .values({ device_hostname: hostname, site_id: siteId, assigned_at: now })
    .onConflict((oc) => oc.column('device_hostname').doUpdateSet({ site_id: siteId, assigned_at: now }))
    .execute();
}

/**
 * Every device with its site assignment, ordered by hostname_lower then guid. device_sites is
 * joined on the exact hostname: the mapping is keyed by hostname, with no foreign key to devices,
 * so a mapping without a device is never read and a device without one has siteId null.
 */
export async function listInventoryDevices(store: Store): Promise<InventoryDevice[]> {
  const rows = await store.db
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
  return rows.map((r) => ({
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
}

/**
 * Devices as operators manage them (CLI and API): add, update, remove, show, list and search.
 * Input is checked by device-fields.ts before any database work; every write runs in one short
 * transaction with its audit row. Online/offline is the scheduler's own rule (presence.ts).
 *
 * device_sites is keyed by hostname (no foreign key to devices), so this module keeps the two in
 * step: a renamed device takes its site assignment along, a removed device drops it.
 */
import { randomUUID } from 'node:crypto';
import { sql } from '../db/kysely.js';
import type { Kysely } from 'kysely';
import { recordAudit, type Actor } from '../audit/audit-log.js';
import { lowerEq } from '../db/dialect.js';
import type { Store } from '../db/open.js';
import type { Database } from '../db/schema.js';
import { ConflictError, NotFoundError, ValidationError } from '../errors.js';
import { decodeCursor, pageLimit, toPage, type Page } from '../pagination.js';
import { checkDeviceFields, type DeviceChanges } from './device-fields.js';
import type { Device } from './devices.js';
import { deviceState, onlineSince, type DeviceState } from './presence.js';
import { resolveSite } from './site-admin.js';
import { conflictOnDuplicate } from './unique.js';

/** A device as operators see it. */
export interface DeviceView {
  guid: string;
  hostname: string;
  site_id: number | null;
  site_name: string | null;
  /** Online/offline exactly as the scheduler judges it when it freezes targets. */
  state: DeviceState;
  last_seen: number | null;
  status: string | null;
  operating_system: string | null;
  device_type: string | null;
  agent_id: string | null;
  connection_type: string | null;
  connection_endpoint: string | null;
  internal_ip: string | null;
  external_ip: string | null;
  created_at: number;
}

/** When a device counts as offline (OFFLINE_AFTER_SECONDS), and the clock. */
export interface PresenceClock {
  now: number;
  offlineAfterMs: number;
}

export interface DeviceQuery {
  /** Hostname contains this text (case-insensitive). */
  hostname?: string;
  /** A site id or name; null for devices without a site. */
  site?: number | string | null;
  state?: DeviceState;
  limit?: number;
  cursor?: string;
}

export async function addDevice(store: Store, raw: Record<string, unknown>, options: { actor: Actor } & PresenceClock): Promise<DeviceView> {
  const { changes, problems } = checkDeviceFields(raw, { requireHostname: true });
  if (problems.length > 0) throw new ValidationError(problems);
  const guid = await conflictOnDuplicate(store, 'hostname', () => store.db.transaction().execute(async (trx) => {
    const siteId = changes.site === undefined ? undefined : changes.site === null ? null : (await resolveSite(trx, changes.site)).id;
    const written = await writeDevice(trx, undefined, changes, siteId, options.now);
    await recordAudit(trx, { actor: options.actor, action: 'device.create', objectType: 'device', objectId: written.guid, summary: auditSummary(written.hostname, changes, siteId), at: options.now });
    return written.guid;
  }));
  return getDevice(store, guid, options);
}

export async function updateDevice(
  store: Store,
  ref: string,
  raw: Record<string, unknown>,
  options: { actor: Actor } & PresenceClock,
): Promise<DeviceView> {
  const { changes, problems } = checkDeviceFields(raw, { requireHostname: false });
  if (changes.guid !== undefined) problems.push('guid: cannot be changed; remove the device and add it again');
  if (problems.length > 0) throw new ValidationError(problems);
  const guid = await conflictOnDuplicate(store, 'hostname', () => store.db.transaction().execute(async (trx) => {
    const existing = await findDevice(trx, ref);
    const siteId = changes.site === undefined ? undefined : changes.site === null ? null : (await resolveSite(trx, changes.site)).id;
    const written = await writeDevice(trx, existing, changes, siteId, options.now);
    await recordAudit(trx, {
      actor: options.actor,
      action: 'device.update',
      objectType: 'device',
      objectId: written.guid,
      summary: { ...auditSummary(written.hostname, changes, siteId), ...(written.hostname !== existing.hostname ? { renamed_from: existing.hostname } : {}) },
      at: options.now,
    });
    return written.guid;
  }));
  return getDevice(store, guid, options);
}

export async function removeDevice(store: Store, ref: string, options: { actor: Actor; now?: number }): Promise<{ guid: string; hostname: string }> {
  return store.db.transaction().execute(async (trx) => {
    const device = await findDevice(trx, ref);
    await trx.deleteFrom('devices').where('guid', '=', device.guid).execute();
    await trx.deleteFrom('device_sites').where('device_hostname', '=', device.hostname).execute();
    await recordAudit(trx, { actor: options.actor, action: 'device.delete', objectType: 'device', objectId: device.guid, summary: { hostname: device.hostname }, at: options.now ?? Date.now() });
    return { guid: device.guid, hostname: device.hostname };
  });
}

/** One device by guid or hostname (case-insensitive); NotFoundError otherwise. */
export async function getDevice(store: Store, ref: string, clock: PresenceClock): Promise<DeviceView> {
  const device = await findDevice(store.db, ref);
  const row = await selectViews(store.db).where('d.guid', '=', device.guid).executeTakeFirstOrThrow();
  return toView(row, clock);
}

/** Devices by hostname (case-insensitive) then guid, filtered, one page at a time. */
export async function listDevicePage(store: Store, query: DeviceQuery, clock: PresenceClock): Promise<Page<DeviceView>> {
  const limit = pageLimit(query.limit);
  let q = selectViews(store.db).orderBy('d.hostname_lower').orderBy('d.guid').limit(limit + 1);
  if (query.hostname !== undefined && query.hostname !== '') {
    const pattern = `%${query.hostname.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    q = q.where(sql<boolean>`d.hostname_lower like ${pattern} escape '\\'`);
  }
  if (query.site === null) q = q.where('ds.site_id', 'is', null);
  else if (query.site !== undefined) {
    const site = await resolveSite(store.db, query.site);
    q = q.where('ds.site_id', '=', site.id);
  }
  const since = onlineSince(clock.now, clock.offlineAfterMs);
  if (query.state === 'online') q = q.where('d.last_seen', '>=', since);
  if (query.state === 'offline') q = q.where((eb) => eb.or([eb('d.last_seen', 'is', null), eb('d.last_seen', '<', since)]));
  if (query.cursor !== undefined) {
    const [host, guid] = decodeCursor(query.cursor, isHostKey);
    q = q.where((eb) => eb.or([eb('d.hostname_lower', '>', host), eb.and([eb('d.hostname_lower', '=', host), eb('d.guid', '>', guid)])]));
  }
  const rows = await q.execute();
  const page = toPage(rows, limit, (r) => [r.hostname_lower, r.guid]);
  return { next_cursor: page.next_cursor, items: page.items.map((r) => toView(r, clock)) };
}

// ---------------------------------------------------------------------------------------------
// Shared with the import (device-import.ts): find a device, write one.

/** A device by exact guid, else by hostname (an exact-case match wins over another case). */
export async function findDevice(db: Kysely<Database>, ref: string): Promise<Device> {
  const byGuid = await db.selectFrom('devices').selectAll().where('guid', '=', ref).executeTakeFirst();
  if (byGuid) return byGuid;
  const byName = await db.selectFrom('devices').selectAll().where((eb) => lowerEq(eb, 'hostname_lower', ref)).execute();
  const device = byName.find((d) => d.hostname === ref) ?? byName[0];
  if (!device) throw new NotFoundError(`device: no device with hostname or guid ${JSON.stringify(ref)}`);
  return device;
}

/**
 * Inserts (no `existing`) or updates a device and, when `siteId` is given, its site assignment
 * (null unassigns). Refuses a hostname or guid another device holds (hostnames regardless of case).
 */
export async function writeDevice(
  trx: Kysely<Database>,
  existing: Device | undefined,
  changes: DeviceChanges,
  siteId: number | null | undefined,
  now: number,
): Promise<Device> {
  const hostname = changes.hostname ?? existing!.hostname;
  if (changes.hostname !== undefined) {
    const clash = await trx.selectFrom('devices').select(['guid', 'hostname']).where((eb) => lowerEq(eb, 'hostname_lower', hostname)).execute();
    const other = clash.find((d) => d.guid !== existing?.guid);
    if (other) throw new ConflictError(`hostname: a device named ${JSON.stringify(other.hostname)} already exists (guid ${other.guid})`);
  }
  const values = { ...changes.fields, ...(changes.last_seen !== undefined ? { last_seen: changes.last_seen } : {}) };
  let row: Device;
  if (!existing) {
    const guid = changes.guid ?? randomUUID();
    const taken = await trx.selectFrom('devices').select('hostname').where('guid', '=', guid).executeTakeFirst();
    if (taken) throw new ConflictError(`guid: device ${JSON.stringify(taken.hostname)} already has guid ${guid}`);
    row = await trx
      .insertInto('devices')
      .values({ guid, hostname, hostname_lower: hostname.toLowerCase(), created_at: now, ...values })
      .returningAll()
      .executeTakeFirstOrThrow();
  } else {
    row = await trx
      .updateTable('devices')
      .set({ hostname, hostname_lower: hostname.toLowerCase(), ...values })
      .where('guid', '=', existing.guid)
      .returningAll()
      .executeTakeFirstOrThrow();
    if (hostname !== existing.hostname) {
      // The assignment follows the device; a stale mapping left under the new name gives way.
      await trx.deleteFrom('device_sites').where('device_hostname', '=', hostname).execute();
      await trx.updateTable('device_sites').set({ device_hostname: hostname }).where('device_hostname', '=', existing.hostname).execute();
    }
  }
  if (siteId === null) await trx.deleteFrom('device_sites').where('device_hostname', '=', hostname).execute();
  else if (siteId !== undefined) {
    await trx
      .insertInto('device_sites')
      .values({ device_hostname: hostname, site_id: siteId, assigned_at: now })
      .onConflict((oc) => oc.column('device_hostname').doUpdateSet({ site_id: siteId, assigned_at: now }))
      .execute();
  }
  return row;
}

/** What an audit row says about a device write: the fields set (no secrets live on devices). */
export function auditSummary(hostname: string, changes: DeviceChanges, siteId: number | null | undefined): Record<string, unknown> {
  return {
    hostname,
    ...changes.fields,
    ...(changes.last_seen !== undefined ? { last_seen: changes.last_seen } : {}),
    ...(siteId !== undefined ? { site_id: siteId } : {}),
  };
}

// ---------------------------------------------------------------------------------------------

function selectViews(db: Kysely<Database>) {
  return db
    .selectFrom('devices as d')
    .leftJoin('device_sites as ds', 'ds.device_hostname', 'd.hostname')
    .leftJoin('sites as s', 's.id', 'ds.site_id')
    .select([
      'd.guid',
      'd.hostname',
      'd.hostname_lower',
      's.id as site_id',
      's.name as site_name',
      'd.last_seen',
      'd.status',
      'd.operating_system',
      'd.device_type',
      'd.agent_id',
      'd.connection_type',
      'd.connection_endpoint',
      'd.internal_ip',
      'd.external_ip',
      'd.created_at',
    ]);
}

type ViewRow = Awaited<ReturnType<ReturnType<typeof selectViews>['executeTakeFirstOrThrow']>>;

function toView(r: ViewRow, clock: PresenceClock): DeviceView {
  const lastSeen = r.last_seen === null ? null : Number(r.last_seen);
  return {
    guid: r.guid,
    hostname: r.hostname,
    site_id: r.site_id ?? null,
    site_name: r.site_name ?? null,
    state: deviceState(lastSeen, clock.now, clock.offlineAfterMs),
    last_seen: lastSeen,
    status: r.status,
    operating_system: r.operating_system,
    device_type: r.device_type,
    agent_id: r.agent_id,
    connection_type: r.connection_type,
    connection_endpoint: r.connection_endpoint,
    internal_ip: r.internal_ip,
    external_ip: r.external_ip,
    created_at: Number(r.created_at),
  };
}

const isHostKey = (v: unknown): v is [string, string] => Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'string';

/**
 * Inventory and credential reads for the dashboard. Credentials: only descriptive columns are
 * selected; the encrypted secret columns are never read here, so they cannot reach a page.
 */
import type { Store } from '../../../db/open.js';
import { countCapped } from './counts.js';

const PAGE = 200;

/** Credentials are read only for admins (as the API's credential routes). */
export async function readInventory(store: Store, now: number, offlineAfterMs: number, options: { credentials: boolean }) {
  const { db } = store;
  const sites = await db.selectFrom('sites').select(['id', 'name', 'description', 'created_at']).orderBy('id').limit(PAGE).execute();
  const devices = await db
    .selectFrom('devices as d')
    .leftJoin('device_sites as ds', 'ds.device_hostname', 'd.hostname')
    .select(['d.hostname', 'd.status', 'd.last_seen', 'd.operating_system', 'd.connection_type', 'ds.site_id'])
    .orderBy('d.hostname_lower')
    .limit(PAGE)
    .execute();
  const deviceCount = await countCapped(db, db.selectFrom('devices'));
  const filters = await db.selectFrom('device_filters').select(['id', 'name', 'description', 'criteria_mode', 'site_mode', 'archived']).orderBy('id').limit(PAGE).execute();
  const credentials = !options.credentials
    ? null
    : await db
    .selectFrom('credentials')
    .select(['id', 'name', 'description', 'site_id', 'credential_type', 'connection_type', 'username', 'updated_at'])
    .orderBy('id')
    .limit(PAGE)
    .execute();
  return {
    sites,
    devices: devices.map((d) => ({ ...d, online: d.last_seen !== null && now - d.last_seen <= offlineAfterMs })),
    deviceCount,
    filters,
    credentials,
  };
}

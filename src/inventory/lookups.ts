/**
 * Existence checks over the inventory for callers that validate references (a job definition's
 * sites, filters and hostnames): one query per 500 ids, answers as sets and maps.
 */
import type { Store } from '../db/open.js';

/** Ids per IN list: far inside both backends' bound-parameter limits. */
const CHUNK = 500;

function chunks<T>(values: readonly T[]): T[][] {
  const unique = [...new Set(values)];
  const out: T[][] = [];
  for (let i = 0; i < unique.length; i += CHUNK) out.push(unique.slice(i, i + CHUNK));
  return out;
}

/** Which of these site ids exist. */
export async function existingSiteIds(store: Store, ids: readonly number[]): Promise<Set<number>> {
  const found = new Set<number>();
  for (const part of chunks(ids)) for (const r of await store.db.selectFrom('sites').select('id').where('id', 'in', part).execute()) found.add(r.id);
  return found;
}

/** Which of these device filter ids exist (archived ones included: they are still filters). */
export async function existingFilterIds(store: Store, ids: readonly number[]): Promise<Set<number>> {
  const found = new Set<number>();
  for (const part of chunks(ids)) {
    for (const r of await store.db.selectFrom('device_filters').select('id').where('id', 'in', part).execute()) found.add(r.id);
  }
  return found;
}

/** The lowercased hostnames among these that name a known device (hostnames match case-insensitively). */
export async function knownHostnames(store: Store, hostnames: readonly string[]): Promise<Set<string>> {
  const known = new Set<string>();
  for (const part of chunks(hostnames.map((h) => h.toLowerCase()))) {
    for (const r of await store.db.selectFrom('devices').select('hostname_lower').where('hostname_lower', 'in', part).execute()) known.add(r.hostname_lower);
  }
  return known;
}

/** Hostname → the site it is assigned to, for those of these hostnames that have one. */
export async function sitesOfHostnames(store: Store, hostnames: readonly string[]): Promise<Map<string, number>> {
  const sites = new Map<string, number>();
  for (const part of chunks(hostnames)) {
    const rows = await store.db.selectFrom('device_sites').select(['device_hostname', 'site_id']).where('device_hostname', 'in', part).execute();
    for (const r of rows) sites.set(r.device_hostname, r.site_id);
  }
  return sites;
}

/** The sites these filters are scoped to (a filter without a site scope adds none). */
export async function sitesOfFilters(store: Store, filterIds: readonly number[]): Promise<Set<number>> {
  const sites = new Set<number>();
  for (const part of chunks(filterIds)) {
    for (const r of await store.db.selectFrom('device_filter_sites').select('site_id').where('filter_id', 'in', part).execute()) sites.add(r.site_id);
  }
  return sites;
}

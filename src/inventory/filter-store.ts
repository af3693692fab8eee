/**
 * Saved device filters in the database: device_filters and their device_filter_sites (I/O).
 * What a filter's columns mean, and how it matches devices, is filters.ts.
 *
 * device_filters has no deleted flag (rows are removed outright), so every row is a saved filter;
 * archived ones are read too, so callers can say why they match nothing.
 */
import type { Store } from '../db/open.js';
import type { InventoryFilter } from './filters.js';

/** Every saved filter, archived ones included, ordered by id; each with its site ids ascending. */
export async function listFilters(store: Store): Promise<InventoryFilter[]> {
  const rows = await store.db
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

  // One row per (filter, site): fold them into one filter each.
  const filters = new Map<number, InventoryFilter>();
  for (const r of rows) {
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
  return [...filters.values()];
}

/** In-memory inventory values for the pure tests of filters and target resolution. */
import type { InventoryFilter } from '../../src/inventory/filters.js';

/** A saved filter as the snapshot holds it: not archived, no criteria (matches every device), no site scope. */
export function inventoryFilter(fields: Partial<InventoryFilter> & { id: number }): InventoryFilter {
  return {
    name: `filter ${fields.id}`,
    archived: false,
    criteriaMode: null,
    siteMode: null,
    basicCriteria: { match: 'all', rules: [] },
    advancedCriteria: null,
    siteIds: [],
    ...fields,
  };
}

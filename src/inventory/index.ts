/** The inventory: sites, devices and their site links, saved device filters, the snapshot. */
export { createSite, findSiteById, findSiteByName, listSiteIds, listSites, renameSite, type NewSite, type Site } from './sites.js';
export {
  assignDeviceToSite,
  findDeviceByHostname,
  listInventoryDevices,
  upsertDevice,
  type Device,
  type InventoryDevice,
  type NewDevice,
} from './devices.js';
export * from './criteria.js';
export { formatProblems, parseCriteria, validateCriteria, type CriteriaProblem, type ParsedCriteria } from './criteria-parse.js';
export { matchesCriteria } from './criteria-match.js';
export {
  SITE_MODES,
  compileFilter,
  describeFilter,
  filterMatches,
  validateFilter,
  type CompiledFilter,
  type FilterDefinition,
  type InventoryFilter,
  type SiteMode,
} from './filters.js';
export { listFilters } from './filter-store.js';
export { buildInventorySnapshot, loadInventory, type InventorySnapshot } from './snapshot.js';
export { DEVICE_STATES, deviceState, isOffline, onlineSince, type DeviceState } from './presence.js';
export { existingFilterIds, existingSiteIds, knownHostnames, sitesOfFilters, sitesOfHostnames } from './lookups.js';

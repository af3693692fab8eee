/**
 * What uses a site or a device filter, asked of each table's owner. The inventory cannot import
 * these owners (they sit above it), so the CLI and the API pass these lists to deleteSite,
 * getSiteDetail and deleteFilter, and both adapters refuse a delete for the same reasons.
 */
import type { SiteReferenceCheck } from '../inventory/site-admin.js';
import type { FilterReferenceCheck } from '../inventory/filter-admin.js';
import { filtersReferencingSite } from '../inventory/filter-admin.js';
import { countUnfinishedItemsOfSite } from '../queue/site-usage.js';
import { countLiveWorkersOfSite } from '../fleet/worker-rows.js';
import { jobsReferencing } from '../schedule/job-usage.js';
import { credentialsOfSite } from '../credentials/credential-usage.js';

export const SITE_REFERENCES: readonly SiteReferenceCheck[] = [
  async (db, siteId) => ({ what: 'unfinished work items', count: await countUnfinishedItemsOfSite(db, siteId) }),
  async (db, siteId) => ({ what: 'live workers', count: await countLiveWorkersOfSite(db, siteId) }),
  async (db, siteId) => ids('scheduled jobs', await jobsReferencing(db, { siteId })),
  async (db, siteId) => ids('device filters', await filtersReferencingSite(db, siteId)),
  async (db, siteId) => ids('credentials', await credentialsOfSite(db, siteId)),
];

export const FILTER_REFERENCES: readonly FilterReferenceCheck[] = [async (db, filterId) => ids('scheduled jobs', await jobsReferencing(db, { filterId }))];

function ids(what: string, list: number[]): { what: string; count: number; ids: number[] } {
  return { what, count: list.length, ids: list };
}

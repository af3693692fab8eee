/**
 * Saved device filters as operators manage them (CLI and API): create and update from a
 * definition (filter-definition.ts), list, show, delete, and test (which devices match now, and
 * why: filter-explain.ts). Writes run in one short transaction with their audit row; update
 * replaces the whole definition, as the file holds it.
 *
 * A delete is refused while scheduled jobs name the filter; the schedule, which owns the jobs,
 * answers that through the `FilterReferenceCheck`s the caller passes in.
 */
import type { Kysely } from 'kysely';
import { recordAudit, type Actor } from '../audit/audit-log.js';
import { toJson } from '../db/dialect.js';
import type { Store } from '../db/open.js';
import type { Database } from '../db/schema.js';
import { ConflictError, NotFoundError, ValidationError } from '../errors.js';
import { decodeCursor, isIdKey, pageLimit, toPage, type Page } from '../pagination.js';
import { listInventoryDevices } from './devices.js';
import { checkFilterDefinition, type FilterInput } from './filter-definition.js';
import { explainFilter, type FilterExplanation } from './filter-explain.js';
import { listFilters } from './filter-store.js';
import { validateFilter, type InventoryFilter } from './filters.js';
import type { SiteUsage } from './site-admin.js';
import { conflictOnDuplicate } from './unique.js';

export interface FilterView extends FilterInput {
  id: number;
  /** Why a stored filter matches nothing (invalid criteria written by other means); empty when valid. */
  problems: string[];
  last_edited_by: string | null;
  created_at: number;
  updated_at: number;
}

/** Asks the owner of one kind of reference how much of it names the filter (inside the caller's transaction). */
export type FilterReferenceCheck = (db: Kysely<Database>, filterId: number) => Promise<SiteUsage>;

export async function createFilter(store: Store, raw: unknown, options: { actor: Actor; now: number }): Promise<FilterView> {
  const definition = checked(raw);
  const id = await conflictOnDuplicate(store, 'name', () => store.db.transaction().execute(async (trx) => {
    await checkNameAndSites(trx, definition, null);
    const row = await trx
      .insertInto('device_filters')
      .values({ ...columns(definition, options.actor), created_at: options.now, updated_at: options.now })
      .returning('id')
      .executeTakeFirstOrThrow();
    await writeSites(trx, row.id, definition.sites);
    await recordAudit(trx, { actor: options.actor, action: 'filter.create', objectType: 'filter', objectId: row.id, summary: { ...definition }, at: options.now });
    return row.id;
  }));
  return getFilter(store, id);
}

export async function updateFilter(store: Store, id: number, raw: unknown, options: { actor: Actor; now: number }): Promise<FilterView> {
  const definition = checked(raw);
  await conflictOnDuplicate(store, 'name', () => store.db.transaction().execute(async (trx) => {
    const before = await findFilterRow(trx, id);
    await checkNameAndSites(trx, definition, id);
    await trx.updateTable('device_filters').set({ ...columns(definition, options.actor), updated_at: options.now }).where('id', '=', id).execute();
    await trx.deleteFrom('device_filter_sites').where('filter_id', '=', id).execute();
    await writeSites(trx, id, definition.sites);
    await recordAudit(trx, { actor: options.actor, action: 'filter.update', objectType: 'filter', objectId: id, summary: { previous_name: before.name, ...definition }, at: options.now });
  }));
  return getFilter(store, id);
}

export async function deleteFilter(store: Store, id: number, options: { actor: Actor; references: readonly FilterReferenceCheck[]; now?: number }): Promise<{ id: number; name: string }> {
  return store.db.transaction().execute(async (trx) => {
    const filter = await findFilterRow(trx, id);
    const uses: SiteUsage[] = [];
    for (const check of options.references) {
      const usage = await check(trx, id);
      if (usage.count > 0) uses.push(usage);
    }
    if (uses.length > 0) {
      const list = uses.map((u) => `${u.count} ${u.what}${u.ids && u.ids.length > 0 ? ` (${u.ids.slice(0, 10).map((i) => `#${i}`).join(', ')})` : ''}`);
      throw new ConflictError(`filter ${id} (${JSON.stringify(filter.name)}) is still in use: ${list.join(', ')}; nothing was deleted`);
    }
    await trx.deleteFrom('device_filters').where('id', '=', id).execute(); // device_filter_sites cascade
    await recordAudit(trx, { actor: options.actor, action: 'filter.delete', objectType: 'filter', objectId: id, summary: { name: filter.name }, at: options.now ?? Date.now() });
    return { id, name: filter.name };
  });
}

export async function getFilter(store: Store, id: number): Promise<FilterView> {
  const filter = (await listFilters(store)).find((f) => f.id === id);
  if (!filter) throw new NotFoundError(`filter: no device filter with id ${id}`);
  const row = await findFilterRow(store.db, id);
  return toView(filter, row);
}

/** Filters by id, one page at a time. */
export async function listFilterPage(store: Store, query: { limit?: number; cursor?: string } = {}): Promise<Page<FilterView>> {
  const limit = pageLimit(query.limit);
  let q = store.db.selectFrom('device_filters').selectAll().orderBy('id').limit(limit + 1);
  if (query.cursor !== undefined) q = q.where('id', '>', decodeCursor(query.cursor, isIdKey));
  const page = toPage(await q.execute(), limit, (r) => r.id);
  const ids = page.items.map((r) => r.id);
  const sites = ids.length === 0 ? [] : await store.db.selectFrom('device_filter_sites').selectAll().where('filter_id', 'in', ids).orderBy('site_id').execute();
  return {
    next_cursor: page.next_cursor,
    items: page.items.map((row) => toView(inventoryFilter(row, sites.filter((s) => s.filter_id === row.id).map((s) => s.site_id)), row)),
  };
}

/** Which devices the filter matches now, and why (and the near misses). */
export async function testFilter(store: Store, id: number, clock: { now: number; offlineAfterMs: number }): Promise<FilterExplanation> {
  const filter = (await listFilters(store)).find((f) => f.id === id);
  if (!filter) throw new NotFoundError(`filter: no device filter with id ${id}`);
  return explainFilter(filter, await listInventoryDevices(store), clock);
}

/** Ids of the filters that name a site: in their site list, or in a site_id rule of their criteria. */
export async function filtersReferencingSite(db: Kysely<Database>, siteId: number): Promise<number[]> {
  const listed = await db.selectFrom('device_filter_sites').select('filter_id').where('site_id', '=', siteId).execute();
  const ids = new Set(listed.map((r) => r.filter_id));
  const rows = await db.selectFrom('device_filters').select(['id', 'basic_criteria_json', 'advanced_criteria_json']).execute();
  for (const r of rows) if (namesSite(r.basic_criteria_json, siteId) || namesSite(r.advanced_criteria_json, siteId)) ids.add(r.id);
  return [...ids].sort((a, b) => a - b);
}

// ---------------------------------------------------------------------------------------------

function checked(raw: unknown): FilterInput {
  const { definition, problems } = checkFilterDefinition(raw);
  if (!definition) throw new ValidationError(problems);
  return definition;
}

type FilterRow = Awaited<ReturnType<typeof findFilterRow>>;

async function findFilterRow(db: Kysely<Database>, id: number) {
  const row = await db.selectFrom('device_filters').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new NotFoundError(`filter: no device filter with id ${id}`);
  return row;
}

async function checkNameAndSites(trx: Kysely<Database>, d: FilterInput, exceptId: number | null): Promise<void> {
  // Names are unique regardless of case; device_filters has no lowered column, so compare here.
  const rows = await trx.selectFrom('device_filters').select(['id', 'name']).execute();
  const taken = rows.find((r) => r.id !== exceptId && r.name.toLowerCase() === d.name.toLowerCase());
  if (taken) throw new ConflictError(`name: a device filter named ${JSON.stringify(taken.name)} already exists (id ${taken.id})`);
  if (d.sites.length > 0) {
    const found = new Set((await trx.selectFrom('sites').select('id').where('id', 'in', d.sites).execute()).map((r) => r.id));
    const missing = d.sites.filter((s) => !found.has(s));
    if (missing.length > 0) throw new ValidationError(missing.map((s) => `sites: no site with id ${s}`));
  }
}

function columns(d: FilterInput, actor: Actor) {
  return {
    name: d.name,
    description: d.description,
    archived: d.archived,
    criteria_mode: d.criteria_mode,
    site_mode: d.site_mode,
    basic_criteria_json: d.criteria_mode === 'basic' ? toJson(d.criteria) : null,
    advanced_criteria_json: d.criteria_mode === 'advanced' ? toJson(d.criteria) : null,
    last_edited_by: actor,
  };
}

async function writeSites(trx: Kysely<Database>, filterId: number, sites: number[]): Promise<void> {
  if (sites.length > 0) await trx.insertInto('device_filter_sites').values(sites.map((site_id) => ({ filter_id: filterId, site_id }))).execute();
}

function inventoryFilter(row: FilterRow, siteIds: number[]): InventoryFilter {
  return {
    id: row.id,
    name: row.name,
    archived: Boolean(row.archived),
    criteriaMode: row.criteria_mode,
    siteMode: row.site_mode,
    basicCriteria: row.basic_criteria_json ?? null,
    advancedCriteria: row.advanced_criteria_json ?? null,
    siteIds,
  };
}

function toView(f: InventoryFilter, row: FilterRow): FilterView {
  const mode = f.criteriaMode === 'advanced' ? 'advanced' : 'basic';
  return {
    id: f.id,
    name: f.name,
    description: row.description,
    criteria_mode: mode,
    site_mode: f.siteMode === 'specific' ? 'specific' : 'all',
    sites: f.siteIds,
    criteria: mode === 'advanced' ? f.advancedCriteria : f.basicCriteria,
    archived: f.archived,
    problems: validateFilter(f),
    last_edited_by: row.last_edited_by,
    created_at: Number(row.created_at),
    updated_at: Number(row.updated_at),
  };
}

/** True when criteria (as stored) hold a site_id rule naming the site. */
function namesSite(node: unknown, siteId: number): boolean {
  if (node === null || typeof node !== 'object') return false;
  const n = node as Record<string, unknown>;
  if (Array.isArray(n.rules)) return n.rules.some((child) => namesSite(child, siteId));
  if (n.field !== 'site_id') return false;
  const values = Array.isArray(n.value) ? n.value : [n.value];
  return values.some((v) => String(v).trim() === String(siteId));
}

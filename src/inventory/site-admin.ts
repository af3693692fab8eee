/**
 * Sites as operators manage them (CLI and API): create, list, show, rename, delete. Every write
 * checks its input fully first, then runs in one short transaction together with its audit row.
 *
 * A delete is refused (ConflictError, nothing written) while anything still uses the site. What
 * counts as a use is asked of each table's owner through `SiteReferenceCheck`s the caller passes
 * in (src/operator/site-references.ts composes them), because the owners — the queue, the fleet,
 * the schedule — sit above the inventory. Devices assigned to the site block the delete too,
 * unless the caller asks to unassign them.
 */
import type { Kysely } from 'kysely';
import { recordAudit, type Actor } from '../audit/audit-log.js';
import { lowerEq } from '../db/dialect.js';
import type { Store } from '../db/open.js';
import type { Database } from '../db/schema.js';
import { ConflictError, NotFoundError, ValidationError } from '../errors.js';
import { decodeCursor, isIdKey, pageLimit, toPage, type Page } from '../pagination.js';
import type { Site } from './sites.js';
import { conflictOnDuplicate } from './unique.js';

export const MAX_SITE_NAME = 200;
export const MAX_DESCRIPTION = 2000;

/** A site as operators see it: its row and how many devices it holds. */
export interface SiteView {
  id: number;
  name: string;
  description: string | null;
  created_at: number;
  devices: number;
}

/** One kind of thing that uses a site: "unfinished work items", with how many and (optionally) which. */
export interface SiteUsage {
  what: string;
  count: number;
  ids?: Array<number | string>;
}

/** Asks one table's owner how much of it uses the site (runs inside the caller's transaction). */
export type SiteReferenceCheck = (db: Kysely<Database>, siteId: number) => Promise<SiteUsage>;

export interface SiteDetail extends SiteView {
  /** Everything that uses the site (every check, zero counts included). */
  usage: SiteUsage[];
}

/** Problems with a site name (pure): non-empty, at most MAX_SITE_NAME characters, no control characters. */
export function checkSiteName(name: unknown, field = 'name'): string[] {
  if (typeof name !== 'string' || name.trim() === '') return [`${field}: required; a non-empty site name`];
  if (name !== name.trim()) return [`${field}: must not start or end with whitespace`];
  if (name.length > MAX_SITE_NAME) return [`${field}: at most ${MAX_SITE_NAME} characters, got ${name.length}`];
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/.test(name)) return [`${field}: must not contain control characters`];
  return [];
}

function checkDescription(description: unknown): string[] {
  if (description === undefined || description === null) return [];
  if (typeof description !== 'string') return ['description: expected a string'];
  if (description.length > MAX_DESCRIPTION) return [`description: at most ${MAX_DESCRIPTION} characters, got ${description.length}`];
  return [];
}

export async function addSite(
  store: Store,
  input: { name: string; description?: string | null },
  options: { actor: Actor; now?: number },
): Promise<SiteView> {
  const problems = [...checkSiteName(input.name), ...checkDescription(input.description)];
  if (problems.length > 0) throw new ValidationError(problems);
  const now = options.now ?? Date.now();
  const site = await conflictOnDuplicate(store, 'name', () => store.db.transaction().execute(async (trx) => {
    await refuseTakenName(trx, input.name, null);
    const row = await trx
      .insertInto('sites')
      .values({ name: input.name, name_lower: input.name.toLowerCase(), description: input.description ?? null, created_at: now })
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordAudit(trx, {
      actor: options.actor,
      action: 'site.create',
      objectType: 'site',
      objectId: row.id,
      summary: { name: row.name, description: row.description },
      at: now,
    });
    return row;
  }));
  return { ...view(site), devices: 0 };
}

/** Sites by id, one page at a time. */
export async function listSitePage(store: Store, query: { limit?: number; cursor?: string } = {}): Promise<Page<SiteView>> {
  const limit = pageLimit(query.limit);
  let q = store.db
    .selectFrom('sites as s')
    .select(['s.id', 's.name', 's.description', 's.created_at'])
    .select((eb) => eb.selectFrom('device_sites as ds').select(eb.fn.countAll().as('n')).whereRef('ds.site_id', '=', 's.id').as('devices'))
    .orderBy('s.id')
    .limit(limit + 1);
  if (query.cursor !== undefined) q = q.where('s.id', '>', decodeCursor(query.cursor, isIdKey));
  const rows = await q.execute();
  const page = toPage(rows, limit, (r) => r.id);
  return { next_cursor: page.next_cursor, items: page.items.map((r) => ({ ...view(r), devices: Number(r.devices ?? 0) })) };
}

/**
 * Finds a site by id (a number, or digits) or by name (case-insensitive); NotFoundError naming
 * `field` otherwise.
 */
export async function resolveSite(db: Kysely<Database>, ref: number | string, field = 'site'): Promise<Site> {
  const byId = typeof ref === 'number' ? ref : /^\d+$/.test(ref.trim()) ? Number(ref.trim()) : null;
  let site: Site | undefined;
  if (byId !== null && Number.isSafeInteger(byId)) site = await db.selectFrom('sites').selectAll().where('id', '=', byId).executeTakeFirst();
  if (!site && typeof ref === 'string') site = await db.selectFrom('sites').selectAll().where((eb) => lowerEq(eb, 'name_lower', ref.trim())).executeTakeFirst();
  if (!site) throw new NotFoundError(`${field}: no site ${typeof ref === 'number' ? `with id ${ref}` : JSON.stringify(ref)}`);
  return site;
}

/** One site with its device count and everything that uses it. */
export async function getSiteDetail(store: Store, ref: number | string, references: readonly SiteReferenceCheck[]): Promise<SiteDetail> {
  const site = await resolveSite(store.db, ref);
  const devices = await countDevices(store.db, site.id);
  const usage: SiteUsage[] = [];
  for (const check of references) usage.push(await check(store.db, site.id));
  return { ...view(site), devices, usage };
}

export async function changeSiteName(
  store: Store,
  ref: number | string,
  name: string,
  options: { actor: Actor; now?: number },
): Promise<SiteView> {
  const problems = checkSiteName(name);
  if (problems.length > 0) throw new ValidationError(problems);
  return conflictOnDuplicate(store, 'name', () => store.db.transaction().execute(async (trx) => {
    const site = await resolveSite(trx, ref);
    await refuseTakenName(trx, name, site.id);
    const row = await trx
      .updateTable('sites')
      .set({ name, name_lower: name.toLowerCase() })
      .where('id', '=', site.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordAudit(trx, {
      actor: options.actor,
      action: 'site.rename',
      objectType: 'site',
      objectId: site.id,
      summary: { from: site.name, to: name },
      at: options.now ?? Date.now(),
    });
    return { ...view(row), devices: await countDevices(trx, site.id) };
  }));
}

export interface SiteDeleted {
  site: SiteView;
  /** Devices that were assigned to the site and are now unassigned (only with unassignDevices). */
  unassigned_devices: number;
}

/**
 * Deletes a site, or refuses (ConflictError naming every use and its count) while anything uses
 * it. The checks and the delete run in one transaction that first takes the site row's lock the
 * fleet takes when it launches a worker for the site (PostgreSQL), so no launch slips in between.
 */
export async function deleteSite(
  store: Store,
  ref: number | string,
  options: { actor: Actor; references: readonly SiteReferenceCheck[]; unassignDevices?: boolean; now?: number },
): Promise<SiteDeleted> {
  return store.db.transaction().execute(async (trx) => {
    const site = await resolveSite(trx, ref);
    const locked = await store.dialect.lockRowsSkipLocked(trx.selectFrom('sites').select('id').where('id', '=', site.id)).executeTakeFirst();
    if (!locked) throw new ConflictError(`site ${site.id} (${JSON.stringify(site.name)}) is busy: a worker launch is deciding for it; try again`);
    const devices = await countDevices(trx, site.id);
    const uses: SiteUsage[] = [];
    for (const check of options.references) {
      const usage = await check(trx, site.id);
      if (usage.count > 0) uses.push(usage);
    }
    if (devices > 0 && !options.unassignDevices) uses.push({ what: 'assigned devices (delete with --unassign-devices, or unassign_devices=true in the API, to unassign them)', count: devices });
    if (uses.length > 0) {
      const list = uses.map((u) => `${u.count} ${u.what}${u.ids && u.ids.length > 0 ? ` (${u.ids.slice(0, 10).map((i) => `#${i}`).join(', ')}${u.ids.length > 10 ? ', …' : ''})` : ''}`);
      throw new ConflictError(`site ${site.id} (${JSON.stringify(site.name)}) is still in use: ${list.join(', ')}; nothing was deleted`);
    }
    // device_sites and device_filter_sites rows go with the site (ON DELETE CASCADE).
    await trx.deleteFrom('sites').where('id', '=', site.id).execute();
    await recordAudit(trx, {
      actor: options.actor,
      action: 'site.delete',
      objectType: 'site',
      objectId: site.id,
      summary: { name: site.name, unassigned_devices: devices },
      at: options.now ?? Date.now(),
    });
    return { site: { ...view(site), devices }, unassigned_devices: devices };
  });
}

// ---------------------------------------------------------------------------------------------

/** Site names are unique regardless of case (the constraint alone only compares exact text). */
async function refuseTakenName(db: Kysely<Database>, name: string, exceptId: number | null): Promise<void> {
  let q = db.selectFrom('sites').select(['id', 'name']).where((eb) => lowerEq(eb, 'name_lower', name));
  if (exceptId !== null) q = q.where('id', '!=', exceptId);
  const taken = await q.executeTakeFirst();
  if (taken) throw new ConflictError(`name: a site named ${JSON.stringify(taken.name)} already exists (id ${taken.id})`);
}

async function countDevices(db: Kysely<Database>, siteId: number): Promise<number> {
  const row = await db.selectFrom('device_sites').select((eb) => eb.fn.countAll().as('n')).where('site_id', '=', siteId).executeTakeFirst();
  return Number(row?.n ?? 0);
}

function view(r: Pick<Site, 'id' | 'name' | 'description' | 'created_at'>): Omit<SiteView, 'devices'> {
  return { id: r.id, name: r.name, description: r.description, created_at: Number(r.created_at) };
}

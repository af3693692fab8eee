/** Sites: the unit work items, workers and credentials are scoped to. */
import type { Selectable } from 'kysely';
import { lowerEq } from '../db/dialect.js';
import type { Store } from '../db/open.js';
import type { SitesTable } from '../db/schema.js';

export type Site = Selectable<SitesTable>;

export interface NewSite {
  name: string;
  description?: string | null;
  enrollmentCode?: string | null;
}

export async function createSite(store: Store, site: NewSite, now = Date.now()): Promise<Site> {
  return store.db
    .insertInto('sites')
    .values({
      name: site.name,
      name_lower: site.name.toLowerCase(),
      description: site.description ?? null,
      enrollment_code: site.enrollmentCode ?? null,
      created_at: now,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Case-insensitive lookup through the pre-lowercased column. */
export async function findSiteByName(store: Store, name: string): Promise<Site | undefined> {
  return store.db
    .selectFrom('sites')
    .selectAll()
    .where((eb) => lowerEq(eb, 'name_lower', name))
    .executeTakeFirst();
}

export async function findSiteById(store: Store, id: number): Promise<Site | undefined> {
  return store.db.selectFrom('sites').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function listSites(store: Store): Promise<Site[]> {
  return store.db.selectFrom('sites').selectAll().orderBy('name_lower').execute();
}

/** Renames a site, keeping name_lower in step, in one short transaction. */
export async function renameSite(store: Store, id: number, name: string): Promise<Site | undefined> {
  return store.db.transaction().execute(async (trx) => {
    const current = await trx.selectFrom('sites').select('id').where('id', '=', id).executeTakeFirst();
    if (!current) return undefined;
    return trx
      .updateTable('sites')
      .set({ name, name_lower: name.toLowerCase() })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
  });
}

/** Ids of every site, in no particular order. */
export async function listSiteIds(store: Store): Promise<number[]> {
  const rows = await store.db.selectFrom('sites').select('id').execute();
  return rows.map((r) => r.id);
}

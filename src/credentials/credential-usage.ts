/**
 * Which credentials belong to a site, asked before the site is deleted: the column's foreign key
 * is ON DELETE SET NULL, and a credential without a site is usable by every site, so deleting
 * the site would silently widen the credential's reach.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

export async function credentialsOfSite(db: Kysely<Database>, siteId: number): Promise<number[]> {
  const rows = await db.selectFrom('credentials').select('id').where('site_id', '=', siteId).orderBy('id').execute();
  return rows.map((r) => r.id);
}

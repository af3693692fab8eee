/**
 * Two writers racing for the same name: the pre-checks (hostname, site or filter name, guid) both
 * pass, the database's unique constraint stops the second. That loser gets the same ConflictError
 * (exit 2 / HTTP 409) a pre-check would have given, not an internal error.
 */
import type { Store } from '../db/open.js';
import { ConflictError } from '../errors.js';

export async function conflictOnDuplicate<T>(store: Store, field: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (store.dialect.isUniqueViolation(err)) throw new ConflictError(`${field}: already taken (another write took it at the same moment); nothing was written`);
    throw err;
  }
}

/**
 * Cursor pagination, the one shape every list in the CLI and the API returns: a page of items and
 * an opaque cursor for the next page (null on the last). A cursor encodes the sort key of the last
 * row returned (keyset pagination), so a page costs an index range scan however deep it is, and
 * rows inserted meanwhile never shift later pages.
 */
import { ValidationError } from './errors.js';

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export const DEFAULT_PAGE_LIMIT = 50;
export const MAX_PAGE_LIMIT = 1000;

/** A cursor from a sort key (a number, a string, or a tuple of them). */
export function encodeCursor(key: unknown): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

/** The sort key a cursor holds; a ValidationError naming `cursor` when it is not one of ours. */
export function decodeCursor<T>(cursor: string, isKey: (value: unknown) => value is T): T {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    value = undefined;
  }
  if (!isKey(value)) throw new ValidationError(['cursor: not a cursor this list returned; pass the next_cursor of the previous page']);
  return value;
}

export const isIdKey = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) > 0;

/** Checks a page size: an integer from 1 to MAX_PAGE_LIMIT (default DEFAULT_PAGE_LIMIT). */
export function pageLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_PAGE_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT) {
    throw new ValidationError([`limit: must be an integer from 1 to ${MAX_PAGE_LIMIT}, got ${String(limit)}`]);
  }
  return limit;
}

/**
 * Builds a page from rows fetched with `limit + 1`: the extra row only says there is a next page,
 * and the cursor is the key of the last row kept.
 */
export function toPage<T>(rows: T[], limit: number, keyOf: (row: T) => unknown): Page<T> {
  if (rows.length <= limit) return { items: rows, next_cursor: null };
  const items = rows.slice(0, limit);
  return { items, next_cursor: encodeCursor(keyOf(items[items.length - 1]!)) };
}

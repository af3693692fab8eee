import { openDatabase, type Store } from '../db/open.js';
import { createLogger } from '../log.js';

/** Opens DATABASE_URL for one CLI command and always closes it. Logs go to stderr at warn. */
export async function withStore<T>(fn: (store: Store) => Promise<T>): Promise<T> {
  const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'warn' });
  const store = openDatabase(process.env.DATABASE_URL, { logger });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

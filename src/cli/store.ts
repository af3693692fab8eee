import { loadConfig } from '../config.js';
import { openDatabase, type Store } from '../db/open.js';
import { createLogger } from '../log.js';

/**
 * Opens DATABASE_URL for one CLI command and always closes it. The whole configuration is
 * validated first (a bad setting is one line, exit 2, before any connection). Logs go to stderr
 * at warn unless LOG_LEVEL says otherwise.
 */
export async function withStore<T>(fn: (store: Store) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const logger = createLogger({ level: process.env.LOG_LEVEL ? config.LOG_LEVEL : 'warn' });
  const store = openDatabase(config.DATABASE_URL, { logger });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** Retrying the runtime's durable writes through a database outage. */
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import { sleep } from '../sleep.js';

/**
 * Retries a database write with backoff (50 ms doubling to 5 s) until it succeeds, or throws
 * the last error after `maxTries`.
 */
export async function retryWrite<T>(logger: Logger, what: string, fn: () => Promise<T>, maxTries = Infinity): Promise<T> {
  let delay = 50;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= maxTries) throw err;
      logger.warn({ err: describeError(err), attempt }, `${what} failed; retrying`);
      await sleep(delay);
      delay = Math.min(delay * 2, 5_000);
    }
  }
}

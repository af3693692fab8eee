/**
 * Batches completions: while one UPDATE is in flight, finished items queue up and go out together
 * in the next one. A caller's promise resolves only after its row is committed (durable), and a
 * failed write (database restart) is retried with backoff until it succeeds.
 */
import type { Store } from '../db/open.js';
import type { Logger } from '../log.js';
import type { Lease } from './claim.js';
import { completeWorkItems, type CompletionOutcome } from './complete.js';
import { retryWrite } from './retry.js';

/** Rows per completion statement. */
const BATCH = 1000;

export class CompletionBatcher {
  #pending: Array<{ item: Lease; result: unknown; resolve: (o: CompletionOutcome) => void }> = [];
  #flushing: Promise<void> | undefined;

  constructor(
    private readonly store: Store,
    private readonly owner: string,
    private readonly logger: Logger,
  ) {}

  complete(item: Lease, result: unknown): Promise<CompletionOutcome> {
    return new Promise((resolve) => {
      this.#pending.push({ item, result, resolve });
      this.#flushing ??= this.#flush();
    });
  }

  /** Resolves once every completion handed in so far is written. */
  async idle(): Promise<void> {
    while (this.#flushing) await this.#flushing;
  }

  async #flush(): Promise<void> {
    // Let the handlers that finish in this turn of the event loop join the batch: a macrotask,
    // not a microtask, since a lane's short handlers finish one after another through promise
    // chains; after one microtask only a few had, and each of those small batches was its own
    // write transaction (SQLite: 26 items per statement on a 20,000-item drain at C = 10).
    await new Promise<void>((resolve) => setImmediate(resolve));
    while (this.#pending.length > 0) {
      const batch = this.#pending.splice(0, BATCH);
      const outcomes = await retryWrite(this.logger, 'complete', () =>
        completeWorkItems(
          this.store,
          this.owner,
          batch.map((c) => ({ item: c.item, result: c.result === undefined || c.result === null ? undefined : c.result })),
        ),
      );
      // Outcomes come back in input order: one batch may hold two claims of the same item.
      batch.forEach((c, i) => c.resolve(outcomes[i] ?? 'lease_lost'));
    }
    this.#flushing = undefined;
  }
}

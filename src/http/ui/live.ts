/**
 * Live updates: ONE snapshot computed per interval for every open page (never a query per
 * viewer), and only while someone watches. A queue wake-up (new work from any process, heard
 * through the queue's own notifications) shortens the wait; otherwise it is recomputed every
 * one to two intervals. Viewers get it as server-sent events.
 */
import type { Store } from '../../db/open.js';
import { describeError } from '../../errors.js';
import { silentLogger, type Logger } from '../../log.js';
import { acquireWakeups } from '../../queue/wakeup.js';
import { readOverview } from './overview-data.js';

type Listener = (json: string) => void;

export class LiveSnapshots {
  readonly #listeners = new Set<Listener>();
  #last: string | undefined;
  #loop: Promise<void> | undefined;
  /** How many snapshots were computed (tests check it does not grow with viewers). */
  computed = 0;

  constructor(
    private readonly store: Store,
    private readonly clock: () => number,
    private readonly intervalMs: number,
    private readonly logger: Logger = silentLogger,
  ) {}

  get viewers(): number {
    return this.#listeners.size;
  }

  /** Calls `listener` with every new snapshot (the latest one at once); returns the unsubscribe. */
  subscribe(listener: Listener): () => void {
    this.#listeners.add(listener);
    if (this.#last !== undefined) listener(this.#last);
    this.#loop ??= this.#run()
      .catch((err) => this.logger.warn({ err: describeError(err) }, 'dashboard live updates stopped'))
      .finally(() => {
        this.#loop = undefined;
      });
    return () => this.#listeners.delete(listener);
  }

  async #run(): Promise<void> {
    const wakeups = acquireWakeups(this.store, this.logger);
    try {
      while (this.#listeners.size > 0) {
        const ticket = wakeups.ticket(undefined);
        try {
          const snap = await readOverview(this.store, this.clock());
          this.computed++;
          const json = JSON.stringify({ at: this.clock(), ...snap });
          this.#last = json;
          for (const l of this.#listeners) l(json);
        } catch (err) {
          this.logger.warn({ err: describeError(err) }, 'dashboard live snapshot failed');
        }
        await new Promise((r) => setTimeout(r, this.intervalMs));
        try {
          await ticket.wait(this.intervalMs);
        } catch {
          // The store is closing (shutdown while a viewer's stream is still open) or lost its
          // connection: the next pass reads again, or ends once the last viewer has gone.
        } finally {
          ticket.dispose();
        }
      }
    } finally {
      wakeups.release();
      this.#last = undefined;
    }
  }

  /** Resolves once the loop has stopped (after the last viewer left). */
  async idle(): Promise<void> {
    await this.#loop;
  }
}

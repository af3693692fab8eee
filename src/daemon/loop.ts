/**
 * A periodic loop: run `fn`, wait `intervalMs`, repeat until stopped. An error is logged and
 * the loop keeps going (the daemon must survive a database restart); `stop()` waits for the
 * run in progress.
 */
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import { jittered } from './maintenance-lease.js';

export class PeriodicLoop {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;
  #pokedWhileRunning = false;
  /** Epoch ms when the last run finished without error. */
  lastSuccessAt: number | null = null;
  lastError: string | null = null;

  constructor(
    readonly name: string,
    private readonly intervalMs: number,
    private readonly fn: () => Promise<void>,
    private readonly logger: Logger,
    /** Each wait is the interval times a random factor in [1 − jitter, 1 + jitter), so replicas drift apart. */
    private readonly jitter = 0,
  ) {}

  start(): this {
    this.#schedule(0);
    return this;
  }

  /** Runs now instead of waiting for the interval; during a run, once more right after it. */
  poke(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#pokedWhileRunning = true;
      return;
    }
    if (this.#timer) clearTimeout(this.#timer);
    this.#schedule(0);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#running;
  }

  #schedule(delay: number): void {
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#pokedWhileRunning = false;
      this.#running = this.#runOnce().finally(() => {
        this.#running = undefined;
        if (!this.#stopped) this.#schedule(this.#pokedWhileRunning ? 0 : jittered(this.intervalMs, this.jitter));
      });
    }, delay);
  }

  async #runOnce(): Promise<void> {
    try {
      await this.fn();
      this.lastSuccessAt = Date.now();
      if (this.lastError) this.logger.info({ loop: this.name }, 'loop recovered');
      this.lastError = null;
    } catch (err) {
      const message = describeError(err);
      if (message !== this.lastError) this.logger.warn({ loop: this.name, err: message }, 'loop run failed; retrying');
      this.lastError = message;
    }
  }
}

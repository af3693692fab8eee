/**
 * What a handler sees and how its call becomes a verdict. A handler's return value becomes the
 * item's result; a throw fails it (retried unless it is a PermanentError); bad payloads and
 * unknown kinds fail without retry and never reach a handler.
 */
import { InvalidJson } from '../db/dialect.js';
import type { WorkItem } from '../db/schema.js';
import type { Logger } from '../log.js';
import type { CompletionOutcome } from './complete.js';
import type { FailOutcome } from './fail.js';

/** Thrown (or wrapped) by a handler for a failure a retry cannot fix. */
export class PermanentError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentError';
  }
}

export interface HandlerContext {
  item: WorkItem;
  payload: Record<string, unknown>;
  /** Aborted when the lease is lost or shutdown's grace period ends. */
  signal: AbortSignal;
  logger: Logger;
}

export type WorkHandler = (ctx: HandlerContext) => unknown;

/**
 * An AbortController made on first use of its signal: one per claimed item, and creating
 * AbortSignals was ≈ 5 % of a no-op drain's CPU while few handlers ever read theirs. An abort
 * before the signal exists is kept and applied when it is made.
 */
export class LazyAbort {
  #controller: AbortController | undefined;
  #aborted = false;
  #reason: unknown;

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
  }
}

export type ItemOutcome = CompletionOutcome | FailOutcome | 'released';

/** What to record for a handler call. */
export type HandlerVerdict =
  | { kind: 'complete'; result: unknown }
  | { kind: 'fail'; error: unknown; retryable: boolean };

/** Checks the payload, finds the handler and calls it; never throws. */
export async function callHandler(
  handlers: Record<string, WorkHandler>,
  item: WorkItem,
  abort: AbortSignal | { readonly signal: AbortSignal },
  logger: Logger,
  workerGuid: string | null,
): Promise<HandlerVerdict> {
  const payload = item.payload_json as unknown;
  if (payload instanceof InvalidJson) {
    return { kind: 'fail', error: `payload_json is not valid JSON: ${payload.toString()}`, retryable: false };
  }
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    const shown = JSON.stringify(payload)?.slice(0, 80);
    return { kind: 'fail', error: `payload_json must be a JSON object, got ${shown}`, retryable: false };
  }
  const handler = handlers[item.kind];
  if (!handler) return { kind: 'fail', error: `no executor for kind ${item.kind}`, retryable: false };
  let itemLogger: Logger | undefined;
  try {
    const result = await handler({
      item,
      payload: payload as Record<string, unknown>,
      get signal() {
        return abort instanceof AbortSignal ? abort : abort.signal;
      },
      // Built on first use: a child logger per item is measurable on a no-op hot path.
      get logger() {
        itemLogger ??= logger.child({ itemId: item.id, kind: item.kind, siteId: item.site_id, workerGuid });
        return itemLogger;
      },
    });
    return { kind: 'complete', result };
  } catch (err) {
    return { kind: 'fail', error: err, retryable: !(err instanceof PermanentError) };
  }
}

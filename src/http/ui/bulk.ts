/**
 * Bulk actions on a selection or on everything matching a filter, run in the background as a
 * throttled batch: items are taken in keyset windows, acted on one by one (each its own short
 * transaction and audit row), with a pause between chunks so a "retry everything" cannot flood
 * the workers or starve the database. Progress and per-item conflicts are kept for the page.
 * Batches live in this process's memory (the audit log is the durable record).
 */
import { randomBytes } from 'node:crypto';
import type { Actor } from '../../audit/audit-log.js';
import type { Store } from '../../db/open.js';
import { applyItemAction, type ItemAction } from '../../queue/item-actions.js';
import { idsMatching, type ItemFilter } from '../../queue/work-item-list.js';

export interface BulkBatch {
  id: string;
  action: ItemAction;
  actor: Actor;
  /** What it applies to, in words. */
  scope: string;
  done: number;
  conflicts: Array<{ id: number; reason: string }>;
  finished: boolean;
  error?: string;
  startedAt: number;
  finishedAt?: number;
}

export interface BulkOptions {
  /** Items per chunk (default 100) and the pause after each (default 20 ms). */
  chunk?: number;
  pauseMs?: number;
  /** Most items one batch touches (default 100,000). */
  maxItems?: number;
  clock: () => number;
}

const KEEP = 50;
const MAX_CONFLICTS_KEPT = 200;

export class BulkRunner {
  readonly #batches = new Map<string, BulkBatch>();

  constructor(
    private readonly store: Store,
    private readonly options: BulkOptions,
  ) {}

  get(id: string): BulkBatch | undefined {
    return this.#batches.get(id);
  }

  /** Starts a batch and returns it at once; it runs in the background. */
  start(action: ItemAction, actor: Actor, target: { ids: number[] } | { filter: ItemFilter; description: string }): BulkBatch {
    const batch: BulkBatch = {
      id: randomBytes(9).toString('base64url'),
      action,
      actor,
      scope: 'ids' in target ? `${target.ids.length} selected item(s)` : `every item matching ${target.description}`,
      done: 0,
      conflicts: [],
      finished: false,
      startedAt: this.options.clock(),
    };
    this.#batches.set(batch.id, batch);
    if (this.#batches.size > KEEP) this.#batches.delete(this.#batches.keys().next().value!);
    void this.#run(batch, target).catch((err: unknown) => {
      batch.error = err instanceof Error ? err.message : String(err);
      batch.finished = true;
      batch.finishedAt = this.options.clock();
    });
    return batch;
  }

  async #run(batch: BulkBatch, target: { ids: number[] } | { filter: ItemFilter }): Promise<void> {
    const chunk = this.options.chunk ?? 100;
    const max = this.options.maxItems ?? 100_000;
    let seen = 0;
    const act = async (ids: number[]) => {
      for (const id of ids) {
        if (seen >= max) return;
        seen++;
        const outcome = await applyItemAction(this.store, id, batch.action, batch.actor, this.options.clock());
        if (outcome.ok) batch.done++;
        else if (batch.conflicts.length < MAX_CONFLICTS_KEPT) batch.conflicts.push({ id, reason: outcome.conflict });
      }
      await new Promise((r) => setTimeout(r, this.options.pauseMs ?? 20));
    };
    if ('ids' in target) {
      for (let i = 0; i < target.ids.length; i += chunk) await act(target.ids.slice(i, i + chunk));
    } else {
      // Collect the matching ids first (newest first), so items the batch itself changes
      // (a retried item stays in a "failed" filter's past) are never visited twice.
      const ids: number[] = [];
      let before: number | undefined;
      while (ids.length < max) {
        const page = await idsMatching(this.store, target.filter, { ...(before !== undefined ? { before } : {}), limit: 1000 });
        ids.push(...page.ids);
        if (page.last === null) break;
        before = page.last;
      }
      for (let i = 0; i < ids.length && i < max; i += chunk) await act(ids.slice(i, i + chunk));
    }
    batch.finished = true;
    batch.finishedAt = this.options.clock();
  }
}

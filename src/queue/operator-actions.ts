/**
 * Operator actions on work items — what `jobyard enqueue|items retry|items cancel` and the API's
 * POST routes call. Each records an audit row in the same transaction as its change. The
 * queue's own hot-path enqueue (the ticker, executors) goes through enqueue.ts and is not audited.
 */
import { recordAudit, type Actor } from '../audit/audit-log.js';
import type { Store } from '../db/open.js';
import type { WorkItem } from '../db/schema.js';
import { ConflictError, NotFoundError, ValidationError } from '../errors.js';
import { findSiteById } from '../inventory/sites.js';
import { checkServiceActionRequest } from '../services/service-key.js';
import { cancelWorkItem, getWorkItem, retryWorkItemNow } from './admin.js';
import { enqueueWorkItem, type EnqueueResult } from './enqueue.js';
import { WORK_KINDS } from './kinds.js';
import { findSecretKeys, serialisePayload } from './payload.js';
import { signalLocalWork } from './wakeup.js';

/** The kind whose items are site-less: the scheduler's service-action consumer claims them. */
export const SITE_LESS_KIND = 'service_action';
/** Largest payload accepted, as JSON (1 MiB). */
export const MAX_PAYLOAD_BYTES = 1024 * 1024;
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

export interface OperatorEnqueueRequest {
  kind: string;
  /** null only for service_action. */
  siteId: number | null;
  payload: Record<string, unknown>;
  dedupeKey?: string;
  priority?: number;
  lane?: string;
  /** Epoch ms. */
  availableAt?: number;
}

/** Every problem of an enqueue request that needs no database, each as `field: message` (API field names). */
export function checkOperatorEnqueue(r: OperatorEnqueueRequest): string[] {
  const problems: string[] = [];
  if (!(WORK_KINDS as readonly string[]).includes(r.kind)) problems.push(`kind: must be one of ${WORK_KINDS.join(', ')}`);
  else if (r.kind === SITE_LESS_KIND && r.siteId !== null) problems.push(`site_id: ${SITE_LESS_KIND} items are site-less (the scheduler runs them); pass null`);
  else if (r.kind !== SITE_LESS_KIND && r.siteId === null) problems.push(`site_id: ${r.kind} items run on a site's worker; pass a site id (only ${SITE_LESS_KIND} takes null)`);
  const secrets = findSecretKeys(r.payload);
  if (secrets.length > 0) problems.push(`payload: secrets never enter payload_json; remove ${secrets.join(', ')} and pass a credential id instead`);
  else {
    try {
      const text = serialisePayload(r.payload, 'payload');
      if (text.includes('\\u0000')) problems.push('payload: contains a NUL character (\\u0000), which cannot be stored');
      if (Buffer.byteLength(text) > MAX_PAYLOAD_BYTES) problems.push(`payload: ${Buffer.byteLength(text)} bytes as JSON; the limit is ${MAX_PAYLOAD_BYTES} (1 MiB)`);
    } catch (err) {
      problems.push(err instanceof Error ? err.message : String(err));
    }
    if (r.kind === SITE_LESS_KIND) {
      const check = checkServiceActionRequest(r.payload);
      if (!check.ok) problems.push(`payload: ${check.error}`);
    }
  }
  for (const [field, value] of [['dedupe_key', r.dedupeKey], ['lane', r.lane]] as const) {
    if (value === undefined) continue;
    if (value.trim() === '') problems.push(`${field}: must not be empty`);
    else if (CONTROL.test(value)) problems.push(`${field}: must not contain control characters`);
  }
  return problems;
}

/**
 * Enqueues one item for an operator; audited as `work_item.enqueue` when created. A dedupe key
 * already held returns that item with `created: false` and writes nothing.
 */
export async function enqueueAsOperator(store: Store, request: OperatorEnqueueRequest, actor: Actor, options: { now?: number } = {}): Promise<EnqueueResult> {
  const problems = checkOperatorEnqueue(request);
  if (problems.length > 0) throw new ValidationError(problems);
  if (request.siteId !== null && !(await findSiteById(store, request.siteId))) throw new ValidationError([`site_id: no site with id ${request.siteId}`]);
  const now = options.now ?? Date.now();
  const result = await store.db.transaction().execute(async (trx) => {
    const r = await enqueueWorkItem(
      store,
      {
        kind: request.kind,
        siteId: request.siteId,
        payload: request.payload,
        ...(request.lane !== undefined ? { lane: request.lane } : {}),
        ...(request.priority !== undefined ? { priority: request.priority } : {}),
        ...(request.availableAt !== undefined ? { availableAt: request.availableAt } : {}),
        ...(request.dedupeKey !== undefined ? { dedupeKey: request.dedupeKey } : {}),
      },
      { now, trx },
    );
    if (r.created) {
      await recordAudit(trx, {
        actor,
        action: 'work_item.enqueue',
        objectType: 'work_item',
        objectId: r.item.id,
        summary: { kind: r.item.kind, site_id: r.item.site_id, lane: r.item.lane, priority: r.item.priority, dedupe_key: r.item.dedupe_key, available_at: Number(r.item.available_at) },
        at: now,
      });
    }
    return r;
  });
  if (result.created && Number(result.item.available_at) <= now) signalLocalWork(store, [result.item.site_id]);
  return result;
}

/** Makes an item claimable now (see retryWorkItemNow); audited as `work_item.retry`. */
export async function retryAsOperator(store: Store, id: number, actor: Actor, options: { now?: number } = {}): Promise<WorkItem> {
  const now = options.now ?? Date.now();
  const item = await retryWorkItemNow(store, id, {
    now,
    beforeCommit: (trx, row) =>
      recordAudit(trx, { actor, action: 'work_item.retry', objectType: 'work_item', objectId: id, summary: { kind: row.kind, max_attempts: row.max_attempts, attempt_count: row.attempt_count }, at: now }),
  });
  if (item) return item;
  const current = await existing(store, id);
  throw new ConflictError(`work item ${id} is ${current.status}; only an item that is not running can be retried (cancel it first)`);
}

/** Cancels a queued or running item (see cancelWorkItem); audited as `work_item.cancel`. */
export async function cancelAsOperator(store: Store, id: number, actor: Actor, options: { now?: number } = {}): Promise<WorkItem> {
  const now = options.now ?? Date.now();
  const item = await cancelWorkItem(store, id, {
    now,
    beforeCommit: (trx, row) => recordAudit(trx, { actor, action: 'work_item.cancel', objectType: 'work_item', objectId: id, summary: { kind: row.kind }, at: now }),
  });
  if (item) return item;
  const current = await existing(store, id);
  throw new ConflictError(`work item ${id} is already ${current.status}; only queued or running items can be cancelled`);
}

async function existing(store: Store, id: number): Promise<WorkItem> {
  const item = await getWorkItem(store, id);
  if (!item) throw new NotFoundError(`no work item with id ${id}`);
  return item;
}

/**
 * Enqueueing a service action (what `jobyard services restart|stop|start` calls). The request is
 * validated here, so a bad one never reaches the queue; the allow-list
 * is checked by the consumer, which runs where SERVICE_ACTION_ALLOW is configured.
 */
import { recordAudit, type Actor } from '../audit/audit-log.js';
import type { Store } from '../db/open.js';
import type { WorkItem } from '../db/schema.js';
import { UserError, ValidationError } from '../errors.js';
import { signalLocalWork } from '../queue/wakeup.js';
import { refusalReason } from './allow-list.js';
import { enqueueWorkItem } from '../queue/enqueue.js';
import { checkServiceActionRequest, SERVICE_ACTION_KIND, type ServiceAction, type ServiceActionRequest } from './service-key.js';

export interface ServiceActionInput {
  action: ServiceAction | string;
  /** `<project>/<service>`. */
  service: string;
}

/** Validates an action request; throws a UserError naming the field and what it accepts. */
export function validateServiceAction(input: ServiceActionInput): ServiceActionRequest {
  const check = checkServiceActionRequest(input);
  if (!check.ok) throw new UserError(check.error);
  return check.request;
}

/** Enqueues one `service_action` item (site-less, so only the scheduler's consumer claims it). */
export async function enqueueServiceAction(
  store: Store,
  input: ServiceActionInput,
  options: { now?: number } = {},
): Promise<WorkItem> {
  const request = validateServiceAction(input);
  const { item } = await enqueueWorkItem(
    store,
    { kind: SERVICE_ACTION_KIND, siteId: null, payload: { action: request.action, service: request.service } },
    options.now !== undefined ? { now: options.now } : {},
  );
  return item;
}

/**
 * Enqueues a service action for an operator (the CLI and POST /api/services/{name}/actions);
 * audited as `service.<action>` in the same transaction. With `allow` (the server's
 * SERVICE_ACTION_ALLOW), a service not on it is refused up front; the consumer checks it anyway.
 */
export async function enqueueServiceActionAsOperator(
  store: Store,
  input: ServiceActionInput,
  actor: Actor,
  options: { now?: number; allow?: ReadonlySet<string> } = {},
): Promise<WorkItem> {
  const check = checkServiceActionRequest(input);
  if (!check.ok) throw new ValidationError([check.error]);
  const request = check.request;
  const refused = options.allow ? refusalReason(options.allow, request.service) : undefined;
  if (refused !== undefined) throw new ValidationError([`service: ${refused}`]);
  const now = options.now ?? Date.now();
  const item = await store.db.transaction().execute(async (trx) => {
    const { item } = await enqueueWorkItem(store, { kind: SERVICE_ACTION_KIND, siteId: null, payload: { action: request.action, service: request.service } }, { now, trx });
    await recordAudit(trx, { actor, action: `service.${request.action}`, objectType: 'service', objectId: request.service, summary: { work_item_id: item.id }, at: now });
    return item;
  });
  signalLocalWork(store, [null]);
  return item;
}

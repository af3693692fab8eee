/**
 * Enqueueing a service action (what `jobyard services restart|stop|start` calls). The request is
 * validated here, so a bad one never reaches the queue; the allow-list
 * is checked by the consumer, which runs where SERVICE_ACTION_ALLOW is configured.
 */
import type { Store } from '../db/open.js';
import type { WorkItem } from '../db/schema.js';
import { UserError } from '../errors.js';
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

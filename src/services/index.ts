/** Compose service actions and snapshots. */
export { SERVICE_ACTION_KIND, SERVICE_ACTIONS, checkServiceActionRequest, isServiceAction, parseServiceKey, type ServiceAction, type ServiceActionRequest, type ServiceKey } from './service-key.js';
export { ALLOW_ENV, parseServiceAllowList, refusalReason } from './allow-list.js';
export { LABEL_COMPOSE_PROJECT, LABEL_COMPOSE_SERVICE, ServiceEngineError } from './engine.js';
export { performServiceAction, serviceActionHandlers, type ContainerActionOutcome, type ServiceActionResult, type ServiceActionHandlerOptions } from './actions.js';
export { startServiceActionConsumer, type ServiceActionConsumerOptions } from './consumer.js';
export { createServiceSnapshotter, snapshotServices, type ServiceSnapshot, type ContainerSnapshot, type SnapshotResult, type ServiceSnapshotter, type SnapshotOptions } from './snapshots.js';
export { enqueueServiceAction, validateServiceAction, type ServiceActionInput } from './enqueue.js';

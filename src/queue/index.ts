/** The work-item queue: one operation per file, re-exported here. */
export { enqueueWorkItem, enqueueWorkItems, type EnqueueRequest, type EnqueueResult } from './enqueue.js';
export { claimWorkItems, type ClaimOptions } from './claim.js';
export { heartbeatWorkItems, type HeartbeatResult } from './heartbeat.js';
export { completeWorkItem, completeWorkItems, type Completion, type CompletionOutcome } from './complete.js';
export { failWorkItem, type FailOptions, type FailOutcome } from './fail.js';
export { hasExpiredLeases, reclaimExpiredLeases, releaseOwner, releaseWorkItems, type ReclaimResult, type ReclaimScope } from './reclaim.js';
export { cancelWorkItem, retryWorkItemNow, pruneFinishedWorkItems, DEFAULT_RETENTION_MS } from './admin.js';
export { acquireWakeups, signalLocalWork } from './wakeup.js';
export { runQueue, PermanentError, ANY_LANE, type QueueRuntime, type RunQueueOptions, type WorkHandler, type HandlerContext, type ItemOutcome } from './runtime.js';
export * from './kinds.js';
export { retryDelayMs } from './backoff.js';
export { serialisePayload, findSecretKeys, isSecretKey } from './payload.js';

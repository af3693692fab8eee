/**
 * The executors a site worker runs, by work kind. `service_action` is not here: it runs in the
 * scheduler process, which owns the Docker socket.
 */
import type { WorkHandler } from '../queue/runtime.js';
import type { Store } from '../db/open.js';
import { executeAgentMaintenanceRun } from './agent-maintenance-run.js';
import { executeOnboardingRun } from './onboarding/index.js';
import { executeScheduledRun } from './scheduled-run.js';
import type { CredentialProvider, Executor, ExecutorConfig } from './types.js';

export const EXECUTORS: Record<string, Executor> = {
  scheduled_run: executeScheduledRun,
  agent_maintenance_run: executeAgentMaintenanceRun,
  onboarding_run: executeOnboardingRun,
};

export const DEFAULT_OUTPUT_CAP_BYTES = 64 * 1024;
export const DEFAULT_COMPONENT_TIMEOUT_MS = 300_000;

export function defaultExecutorConfig(): ExecutorConfig {
  return { plugins: {}, outputCapBytes: DEFAULT_OUTPUT_CAP_BYTES, defaultTimeoutMs: DEFAULT_COMPONENT_TIMEOUT_MS };
}

export interface ExecutorDeps {
  store: Store;
  credentials: CredentialProvider;
  config?: ExecutorConfig;
  workerGuid: string;
  now?: () => number;
  executors?: Record<string, Executor>;
}

/**
 * Queue-runtime handlers (kind → handler) that run the executors with their dependencies: what a
 * site worker passes as `handlers` to runQueue/runSiteWorker.
 */
export function executorHandlers(deps: ExecutorDeps): Record<string, WorkHandler> {
  const config = deps.config ?? defaultExecutorConfig();
  const now = deps.now ?? Date.now;
  const handlers: Record<string, WorkHandler> = {};
  for (const [kind, executor] of Object.entries(deps.executors ?? EXECUTORS)) {
    handlers[kind] = (h) =>
      executor({ ...h, store: deps.store, credentials: deps.credentials, config, workerGuid: deps.workerGuid, now });
  }
  return handlers;
}

export { executeScheduledRun, createScheduledRunExecutor, type ScheduledRunResult } from './scheduled-run.js';
export { executeAgentMaintenanceRun } from './agent-maintenance-run.js';
export { executeOnboardingRun, type OnboardingRunResult } from './onboarding/index.js';
export { createDatabaseCredentialProvider } from './credentials.js';
export type { CredentialProvider, Credential, Executor, ExecutorConfig, ExecutorContext } from './types.js';

/** The onboarding executor's settings, constants and shared types. */
import type { Logger } from '../../log.js';
import { PermanentError } from '../../queue/handler.js';
import type { OnboardingScope } from '../onboarding-scope.js';
import { jobComponents, positiveInt, type CredentialMaterial, type ItemRefs, type JobRow, type RunRow } from '../run-context.js';
import type { ExecutorContext } from '../types.js';

export const DEFAULT_ONBOARDING_CONCURRENCY = 4;
export const MAX_ONBOARDING_CONCURRENCY = 64;
export const DEFAULT_APPROVAL_TIMEOUT_SECONDS = 600;
export const APPROVAL_POLL_MS = 250;
export const DEFAULT_PROBE_TIMEOUT_MS = 2000;

/** Statuses after which an onboarding row is not worked on again. */
export const FINAL_ONBOARDING_STATUSES: ReadonlySet<string> = new Set([
  'invalid',
  'excluded',
  'skipped',
  'unreachable',
  'install_failed',
  'enrolled',
  'denied',
  'approval_expired',
  'approval_timeout',
]);

export interface OnboardingRunResult {
  targets: number;
  counts: Record<string, number>;
}

export interface OnboardingSettings {
  concurrency: number;
  approvalTimeoutMs: number;
  probeTimeoutMs: number;
  install: Record<string, unknown>;
}

/** An onboarding row as the executor works with it. */
export interface Row {
  id: number;
  target_input: string | null;
  target_address: string | null;
  status: string;
  approval_reference: string | null;
}

/** Everything the steps of one onboarding run share. */
export interface Env {
  ctx: ExecutorContext;
  refs: ItemRefs;
  job: JobRow;
  run: RunRow;
  scope: OnboardingScope;
  settings: OnboardingSettings;
  credential: CredentialMaterial;
  logger: Logger;
}

/** The job's device_onboarding component; a PermanentError if it has none. */
export function onboardingComponent(job: JobRow): Record<string, unknown> {
  const component = jobComponents(job).find(
    (c): c is Record<string, unknown> => typeof c === 'object' && c !== null && (c as { kind?: unknown }).kind === 'device_onboarding',
  );
  if (!component) throw new PermanentError(`job ${job.id}: an onboarding job needs a device_onboarding component`);
  return component;
}

export function onboardingSettings(job: JobRow, component: Record<string, unknown>): OnboardingSettings {
  const install = component.install;
  if (typeof install !== 'object' || install === null || Array.isArray(install)) {
    throw new PermanentError(`job ${job.id}: the device_onboarding component needs an install component ({ argv: [...] })`);
  }
  const approvalSeconds = component.approval_timeout_seconds;
  const probeSeconds = component.probe_timeout_seconds;
  return {
    concurrency: positiveInt(component.concurrency, DEFAULT_ONBOARDING_CONCURRENCY, MAX_ONBOARDING_CONCURRENCY),
    approvalTimeoutMs: typeof approvalSeconds === 'number' && approvalSeconds > 0 ? approvalSeconds * 1000 : DEFAULT_APPROVAL_TIMEOUT_SECONDS * 1000,
    probeTimeoutMs: typeof probeSeconds === 'number' && probeSeconds > 0 ? probeSeconds * 1000 : DEFAULT_PROBE_TIMEOUT_MS,
    install: { kind: 'command', ...(install as Record<string, unknown>) },
  };
}

/**
 * An executor runs one kind of work item inside a site worker. It returns what is stored as the
 * item's result_json; it throws to fail the item (a PermanentError for failures a retry cannot
 * fix, anything else is retried with backoff). It records its own domain rows (activity,
 * per-target status, onboarding timelines) as it goes, each write a short statement of its own:
 * no transaction is held across a command, an HTTP call or a probe.
 */
import type { Store } from '../db/open.js';
import type { WorkItem } from '../db/schema.js';
import type { Logger } from '../log.js';
import type { CommandIsolation } from './components/command-isolation.js';
import type { SshSettings } from './ssh/settings.js';
import type { CredentialProvider } from '../credentials/types.js';

export type { Credential, CredentialProvider } from '../credentials/types.js';

export interface ExecutorConfig {
  /** Plug-in component kinds: kind → module path exporting `run(component, context)`. */
  plugins: Record<string, string>;
  /** Cap on captured stdout/stderr/HTTP body, in bytes (default 64 KiB). */
  outputCapBytes: number;
  /** Default component timeout (default 300 s). */
  defaultTimeoutMs: number;
  /** Who runs command components and what they inherit (a site worker sets it). */
  commandIsolation?: CommandIsolation;
  /** Remote execution over SSH (jobs whose execution_context is `ssh`); defaults in ssh/settings.ts. */
  ssh?: Partial<SshSettings>;
}

export interface ExecutorContext {
  store: Store;
  item: WorkItem;
  payload: Record<string, unknown>;
  signal: AbortSignal;
  logger: Logger;
  credentials: CredentialProvider;
  config: ExecutorConfig;
  workerGuid: string;
  now: () => number;
}

export type Executor = (ctx: ExecutorContext) => Promise<unknown>;

/**
 * How site workers are started, listed and stopped. Two launchers implement it:
 * `docker-launcher.ts` (containers through the Docker Engine API) and `process-launcher.ts`
 * (child processes, the embedded default when no engine answers). The fleet manager and the
 * reconciliation loop only ever talk to this interface.
 */

/** Everything a launcher needs to start one worker. */
export interface WorkerSpec {
  workerGuid: string;
  /** `site-worker-<uuid>`; the container name (docker) or the process title (process). */
  containerName: string;
  siteId: number;
  /** Lanes to claim from; null for every lane. */
  lanes: string[] | null;
  /** Environment for the worker (DATABASE_URL, WORKER_GUID, CONTAINER_NAME, WORKER_* settings, LOG_LEVEL). */
  env: Record<string, string>;
}

/** What a launcher observes about one of its workers. */
export interface ObservedWorker {
  workerGuid: string;
  containerName: string;
  siteId: number | null;
  /** True while the container/process runs. */
  running: boolean;
  /** The engine's own word for the state (docker: created/running/exited/dead/...; process: running/exited). */
  state: string;
  /** Set once it has exited. */
  exitCode: number | null;
  /** The child's pid (process launcher only; operators and tests use it). */
  pid?: number;
}

export interface WorkerLauncher {
  readonly kind: 'docker' | 'process';
  /** Starts the worker; resolves once it was created and started (not when it is ready). */
  launch(spec: WorkerSpec): Promise<void>;
  /** Every worker this launcher can see: labelled containers (docker) or its own children (process). */
  list(): Promise<ObservedWorker[]>;
  /** Asks a worker to stop (SIGTERM), killing it after `graceMs`. */
  stop(workerGuid: string, options?: { graceMs?: number }): Promise<void>;
  /** Forgets an exited worker: removes its container (docker) once its exit code was recorded. */
  remove(workerGuid: string): Promise<void>;
  /** Releases the launcher's own resources (not the workers). */
  close(): Promise<void>;
}

/** Labels every jobyard worker container carries. */
export const LABEL_WORKER_GUID = 'jobyard.worker_guid';
export const LABEL_SITE_ID = 'jobyard.site_id';
/**
 * Which jobyard deployment a worker belongs to (WORKER_FLEET; by default derived from the
 * database), so two deployments sharing one engine never reconcile each other's workers.
 */
export const LABEL_FLEET = 'jobyard.fleet';

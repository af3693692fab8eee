/**
 * Site workers as Docker containers, through the Docker Engine API (dockerode). Each worker is
 * one container named `spec.containerName`, created from the jobyard image with the labels
 * `jobyard.worker_guid` / `jobyard.site_id`, and started as `jobyard worker --site N [--lanes ..]`
 * (the image's ENTRYPOINT is `node /app/bin/jobyard.js`). The launcher keeps no state of its own:
 * `list()` asks the engine for every labelled container, so a restarted scheduler (or another
 * replica) sees the same workers. Exited containers stay until `remove()`, so the reconciliation
 * loop can record their exit code.
 *
 * Secrets (DATABASE_URL, tokens) are not in the container's Env (`docker inspect`,
 * /proc/1/environ) nor its Cmd: the container is created with a one-shot stdin
 * (OpenStdin + StdinOnce), the launcher attaches before starting it and writes them as JSON
 * (worker-secrets.ts). Commands die with their worker: the container ends when the worker does
 * (Init forwards its exit), and every process in it goes with it.
 *
 * With `spares`, the launcher keeps that many worker containers started ahead (docker-spares.ts):
 * a launch renames a waiting one `site-worker-<guid>` and writes it its assignment (arguments,
 * environment and secrets, one JSON object) on the same stdin, and a replacement starts.
 *
 * The engine is found like the docker CLI finds it: DOCKER_HOST, else the default socket.
 */
import type { Duplex } from 'node:stream';
import Dockerode from 'dockerode';
import { containerName, engineMessage, statusOf, wrapEngineError } from '../docker/errors.js';
import { silentLogger, type Logger } from '../log.js';
import { LABEL_FLEET, LABEL_SITE_ID, LABEL_WORKER_GUID, type ObservedWorker, type WorkerLauncher, type WorkerSpec } from './launcher.js';
import { createSparePool, isWaitingSpare, LABEL_SPARE, spareBornWorkerGuid, type SparePool, type WaitingSpare } from './docker-spares.js';
import { assignmentJson, WORKER_SPARE_VAR } from './spare-worker.js';
import { splitSecrets, WORKER_SECRETS_VAR } from './worker-secrets.js';

export interface DockerLauncherOptions {
  /** The jobyard image (WORKER_IMAGE); its ENTRYPOINT must run `node /app/bin/jobyard.js`. */
  image: string;
  /**
   * The `jobyard.fleet` label of this deployment's workers: list/stop/remove only ever see
   * containers carrying it. Unset: every labelled worker container on the engine.
   */
  fleet?: string;
  /** An engine client; default `new Dockerode()` (DOCKER_HOST or the default socket). */
  docker?: Dockerode;
  /**
   * Docker network mode (WORKER_NETWORK). Default 'host': the container shares the host's
   * network, so a PostgreSQL bound to 127.0.0.1 is reachable with an unchanged DATABASE_URL.
   * Under compose, the compose network's name, so the `postgres` service name resolves.
   */
  networkMode?: string;
  /** Memory limit in bytes (WORKER_MEMORY_MB × 2^20); unset for none. */
  memoryBytes?: number;
  /** CPU limit in units of 1e-9 CPUs (WORKER_CPUS × 1e9); unset for none. */
  nanoCpus?: number;
  /**
   * The folder of a SQLite database (`sqlite:/abs/dir/x.db`): mounted into every worker at the
   * same path, so the same DATABASE_URL works inside. Null/unset for PostgreSQL. It must be
   * writable by the container's user (uid 1000 `node` in the jobyard images, see `user`).
   */
  sqliteDataDir?: string | null;
  /**
   * What is mounted at `sqliteDataDir`: a host path (absolute; default `sqliteDataDir` itself)
   * or the name of a Docker volume (compose: the scheduler's data volume, e.g. `jobyard-data`).
   */
  sqliteDataSource?: string;
  /** The container user (`uid[:gid]` or a name); default the image's USER (`node`, uid 1000). */
  user?: string;
  logger?: Logger;
  /**
   * Test/ops hook: the container's Cmd for a spec. Default
   * `['worker', '--site', String(siteId), ...(lanes ? ['--lanes', lanes.join(',')] : [])]`.
   */
  command?: (spec: WorkerSpec) => string[];
  /** Test/ops hook: overrides the image's ENTRYPOINT (e.g. `['node']` with a `-e` command). */
  entrypoint?: string[];
  /**
   * Worker containers to keep started ahead, waiting for a site (WORKER_SPARES; default 0). A
   * spare runs `worker` with no arguments and takes the default command's arguments on assignment.
   */
  spares?: number;
}

export interface DockerLauncher extends WorkerLauncher {
  /** The names of the spare containers waiting for an assignment (for status and tests). */
  spareNames(): string[];
}

/** Engine errors of the launcher (one readable line naming the container). */
export { DockerEngineError as DockerLauncherError } from '../docker/errors.js';

/** The default worker command for a spec (without the entrypoint). */
export function workerCommand(spec: WorkerSpec): string[] {
  return ['worker', '--site', String(spec.siteId), ...(spec.lanes ? ['--lanes', spec.lanes.join(',')] : [])];
}

/** Docker's container states that mean "not exited yet": `created` is between create and start. */
const ALIVE_STATES = new Set(['created', 'running', 'paused', 'restarting']);

/** True when the engine answers a ping within `timeoutMs` (default 2 s). Never throws. */
export async function dockerAvailable(docker?: Dockerode, timeoutMs = 2_000): Promise<boolean> {
  let client: Dockerode;
  try {
    client = docker ?? new Dockerode({ timeout: timeoutMs });
  } catch {
    return false; // a malformed DOCKER_HOST
  }
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  try {
    const ping = (client as unknown as { ping(opts: { abortSignal: AbortSignal }): Promise<unknown> }).ping({ abortSignal: abort.signal });
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    await Promise.race([ping, timeout]);
    return true;
  } catch {
    return false;
  } finally {
    if (timer) clearTimeout(timer);
    abort.abort();
  }
}

/** `Exited (3) 2 seconds ago` → 3. */
function exitCodeFromStatus(status: string | undefined): number | null {
  const m = /^Exited \((-?\d+)\)/.exec(status ?? '');
  return m ? Number(m[1]) : null;
}

/**
 * Writes `text`, ends the stream (the worker reads its stdin to the end) and closes our side of
 * the attach connection: the engine does not always close a hijacked connection itself, and one
 * left open per launch leaks a socket and keeps the scheduler's process from exiting. The data
 * has reached the kernel when end's callback runs, so closing the socket then still delivers it.
 */
function writeAndEnd(stream: Duplex, text: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    stream.once('error', reject);
    stream.end(text, () => {
      stream.destroy();
      resolve();
    });
  });
}

function parseSiteId(value: string | undefined): number | null {
  if (value === undefined || value === '') return null;
  const n = Number(value);
  return Number.isInteger(n) ? n : null;
}

export function createDockerLauncher(options: DockerLauncherOptions): DockerLauncher {
  const docker = options.docker ?? new Dockerode();
  const logger = options.logger ?? silentLogger;
  const networkMode = options.networkMode ?? 'host';
  const fleetFilter = options.fleet !== undefined ? [`${LABEL_FLEET}=${options.fleet}`] : [];

  /** Every container of one worker guid (normally zero or one): labelled with it, or a spare renamed for it. */
  async function find(workerGuid: string): Promise<Dockerode.ContainerInfo[]> {
    try {
      const [labelled, spareBorn] = await Promise.all([
        docker.listContainers({ all: true, filters: { label: [`${LABEL_WORKER_GUID}=${workerGuid}`, ...fleetFilter] } }),
        docker.listContainers({ all: true, filters: { label: [LABEL_SPARE, ...fleetFilter], name: [`site-worker-${workerGuid}`] } }),
      ]);
      return [...labelled, ...spareBorn.filter((info) => spareBornWorkerGuid(info) === workerGuid)];
    } catch (err) {
      throw wrapEngineError(`look up the container of worker ${workerGuid}`, err);
    }
  }

  /** Every worker container: labelled at create, or born from a spare. Exited unassigned spares are removed. */
  async function workerContainers(): Promise<{ info: Dockerode.ContainerInfo; workerGuid: string; siteId: number | null }[]> {
    let labelled: Dockerode.ContainerInfo[];
    let spareLabelled: Dockerode.ContainerInfo[];
    try {
      [labelled, spareLabelled] = await Promise.all([
        docker.listContainers({ all: true, filters: { label: [LABEL_WORKER_GUID, ...fleetFilter] } }),
        docker.listContainers({ all: true, filters: { label: [LABEL_SPARE, ...fleetFilter] } }),
      ]);
    } catch (err) {
      throw wrapEngineError('list worker containers', err);
    }
    const workers = labelled.map((info) => ({ info, workerGuid: info.Labels?.[LABEL_WORKER_GUID] ?? '', siteId: parseSiteId(info.Labels?.[LABEL_SITE_ID]) }));
    for (const info of spareLabelled) {
      const workerGuid = spareBornWorkerGuid(info);
      // The site is in the worker's row; a spare's labels were set before it had one.
      if (workerGuid) workers.push({ info, workerGuid, siteId: null });
      else if (isWaitingSpare(info) && !ALIVE_STATES.has(info.State ?? '')) {
        // A spare whose scheduler went away exited on its closed stdin: nothing to record.
        void docker.getContainer(info.Id).remove({ force: true, v: true }).catch(() => {});
      }
    }
    return workers;
  }

  const mounts: Dockerode.MountSettings[] = [];
  if (options.sqliteDataDir) {
    const source = options.sqliteDataSource ?? options.sqliteDataDir;
    mounts.push({ Type: source.startsWith('/') ? 'bind' : 'volume', Source: source, Target: options.sqliteDataDir, ReadOnly: false });
  }
  const hostConfig: Dockerode.HostConfig = {
    Init: true,
    NetworkMode: networkMode,
    ...(options.memoryBytes !== undefined ? { Memory: Math.round(options.memoryBytes) } : {}),
    ...(options.nanoCpus !== undefined ? { NanoCpus: Math.round(options.nanoCpus) } : {}),
    ...(mounts.length > 0 ? { Mounts: mounts } : {}),
  };

  /**
   * Creates a worker container, attaches its one-shot stdin and starts it; the stdin stays open
   * for the caller to write. Attached before the start, so the worker's stdin is ours from its
   * first read. A container that never started would look alive (`created`) forever: it is dropped.
   */
  async function startAttached(name: string, labels: Record<string, string>, env: Record<string, string>, cmd: string[]): Promise<WaitingSpare> {
    const createOptions: Dockerode.ContainerCreateOptions = {
      name,
      Image: options.image,
      Labels: { ...labels, ...(options.fleet !== undefined ? { [LABEL_FLEET]: options.fleet } : {}) },
      Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
      Cmd: cmd,
      ...(options.entrypoint ? { Entrypoint: options.entrypoint } : {}),
      ...(options.user ? { User: options.user } : {}),
      AttachStdin: true,
      OpenStdin: true,
      StdinOnce: true,
      AttachStdout: false,
      AttachStderr: false,
      Tty: false,
      HostConfig: hostConfig,
    };
    let container: Dockerode.Container;
    try {
      container = await docker.createContainer(createOptions);
    } catch (err) {
      throw wrapEngineError(`create container ${name} from image ${options.image}`, err);
    }
    let stdin: Duplex | undefined;
    try {
      stdin = (await container.attach({ stream: true, stdin: true, hijack: true })) as Duplex;
      stdin.on('error', () => {}); // a write that fails is reported by writeAndEnd
      await container.start();
      return { name, container, stdin };
    } catch (err) {
      stdin?.destroy();
      await container.remove({ force: true, v: true }).catch(() => {});
      throw wrapEngineError(`start container ${name}`, err);
    }
  }

  const spares: SparePool | undefined = options.spares
    ? createSparePool({
        wanted: options.spares,
        logger,
        boot: (name) => startAttached(name, { [LABEL_SPARE]: 'true' }, { [WORKER_SPARE_VAR]: 'stdin' }, ['worker']),
      })
    : undefined;

  /** Hands a waiting spare the worker of `spec`; false (the spare removed) when the engine refuses. */
  async function assign(spare: WaitingSpare, spec: WorkerSpec, env: Record<string, string>, secrets: Record<string, string>): Promise<boolean> {
    try {
      await spare.container.rename({ name: spec.containerName });
      await writeAndEnd(spare.stdin, assignmentJson(workerCommand(spec).slice(1), env, secrets));
      logger.debug({ workerGuid: spec.workerGuid, containerName: spec.containerName, spare: spare.name, containerId: spare.container.id }, 'worker container assigned from a spare');
      return true;
    } catch (err) {
      spare.stdin.destroy();
      await spare.container.remove({ force: true, v: true }).catch(() => {});
      logger.warn({ workerGuid: spec.workerGuid, spare: spare.name, err: engineMessage(err) }, 'cannot assign a spare worker container; starting a new one');
      return false;
    }
  }

  return {
    kind: 'docker',

    spareNames: () => spares?.waitingNames() ?? [],

    async launch(spec) {
      const { env, secrets } = splitSecrets(spec.env);
      const spare = spares?.take();
      if (spare && (await assign(spare, spec, env, secrets))) return;
      const labels = { [LABEL_WORKER_GUID]: spec.workerGuid, [LABEL_SITE_ID]: String(spec.siteId) };
      const started = await startAttached(spec.containerName, labels, { ...env, [WORKER_SECRETS_VAR]: 'stdin' }, (options.command ?? workerCommand)(spec));
      try {
        await writeAndEnd(started.stdin, JSON.stringify(secrets));
      } catch (err) {
        started.stdin.destroy();
        await started.container.remove({ force: true, v: true }).catch(() => {});
        throw wrapEngineError(`start container ${spec.containerName}`, err);
      }
      logger.debug({ workerGuid: spec.workerGuid, containerName: spec.containerName, containerId: started.container.id, image: options.image, networkMode }, 'worker container started');
    },

    async list(): Promise<ObservedWorker[]> {
      return Promise.all(
        (await workerContainers()).map(async ({ info, workerGuid, siteId }): Promise<ObservedWorker> => {
          const state = info.State ?? 'unknown';
          const running = ALIVE_STATES.has(state);
          let exitCode = running ? null : exitCodeFromStatus(info.Status);
          if (!running && exitCode === null && state !== 'removing') {
            // `dead` and other states carry no code in Status: ask the container itself.
            exitCode = await docker
              .getContainer(info.Id)
              .inspect()
              .then((i) => (typeof i.State?.ExitCode === 'number' ? i.State.ExitCode : null))
              .catch(() => null);
          }
          return { workerGuid, containerName: containerName(info), siteId, running, state, exitCode };
        }),
      );
    },

    async stop(workerGuid, stopOptions = {}) {
      const graceMs = stopOptions.graceMs ?? 10_000;
      for (const info of await find(workerGuid)) {
        try {
          await docker.getContainer(info.Id).stop({ t: Math.max(0, Math.ceil(graceMs / 1000)) });
        } catch (err) {
          const status = statusOf(err);
          if (status === 304 || status === 404) continue; // not running / already gone
          throw wrapEngineError(`stop container ${containerName(info)}`, err);
        }
      }
    },

    async remove(workerGuid) {
      for (const info of await find(workerGuid)) {
        try {
          // v: anonymous volumes (the production image declares VOLUME /data) go with it.
          await docker.getContainer(info.Id).remove({ force: true, v: true });
        } catch (err) {
          const status = statusOf(err);
          if (status === 404) continue; // already gone
          if (status === 409 && /already in progress/i.test(engineMessage(err))) continue;
          throw wrapEngineError(`remove container ${containerName(info)}`, err);
        }
      }
    },

    /** Removes the waiting spares (dockerode opens a connection per request: nothing else to release). */
    async close() {
      await spares?.close();
    },
  };
}

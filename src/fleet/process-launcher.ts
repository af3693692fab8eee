/**
 * Site workers as child processes of the scheduler: the embedded default when no Docker Engine
 * answers. Each worker runs the same entrypoint a container would (`jobyard worker --site N`).
 * The launcher sees only its own children; exited children are kept until `remove` so the
 * reconciliation loop can record their exit code.
 *
 * Secrets (DATABASE_URL, tokens) never enter a worker's environment or argv: they are written as
 * JSON to its stdin (worker-secrets.ts), and secret-named variables of the scheduler's own
 * environment are not inherited at all. Each worker also holds the write end of a liveness
 * socket (fd 3, WORKER_LIVENESS_FD) that its commands inherit: a worker counts as exited only
 * once that socket reaches end-of-file — the worker and every process of its commands are gone
 * (the commands' lifeline kills them when the worker dies) — or `commandsGoneTimeoutMs` passed.
 * So the fleet never releases a dead worker's items while one of its commands still runs.
 *
 * With `spares`, the launcher keeps that many workers booted ahead (spare-worker.ts): a launch
 * hands one its assignment on stdin instead of starting a process, and a new spare is started.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import type { Readable } from 'node:stream';
import type { ObservedWorker, WorkerLauncher, WorkerSpec } from './launcher.js';
import { assignmentJson, WORKER_SPARE_VAR } from './spare-worker.js';
import { splitSecrets, withoutSecrets, WORKER_LIVENESS_FD_VAR, WORKER_SECRETS_VAR } from './worker-secrets.js';

/**
 * A young generation of 2 × 1 MB instead of up to 2 × 8 MB: an idle worker's RSS drops by ~5 MB
 * (measured), and a worker that mostly waits on the database and its commands does not miss it.
 * (A container's memory is counted by its cgroup, where this hardly shows; the image is left as is.)
 */
export const WORKER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1'];

export interface ProcessLauncherOptions {
  /** The jobyard CLI script (bin/jobyard.js). */
  entrypoint: string;
  nodePath?: string;
  /** What the children inherit besides spec.env, secrets left out (default: this process's environment). */
  baseEnv?: NodeJS.ProcessEnv;
  /** How long an exited worker's commands may take to die before it is reported exited anyway (10 s). */
  commandsGoneTimeoutMs?: number;
  /** Worker output: inherited (the default, so their JSON logs join the scheduler's) or dropped. */
  stdio?: 'inherit' | 'ignore';
  /** Workers kept booted and waiting for an assignment (default 0: each launch starts a process). */
  spares?: number;
}

/** A started worker process, before and after it has a spec. */
interface Started {
  process: ChildProcess;
  exitCode: number | null;
  exited: Promise<void>;
  /** Resolves when the liveness socket closes: the worker and all its commands are gone. */
  livenessClosed: Promise<void>;
  liveness: Readable;
  /** Resolves once the process runs; rejects if it could not be started. */
  spawned: Promise<void>;
}

interface Child {
  spec: WorkerSpec;
  started: Started;
  /** True once the worker exited and its commands are gone (or the wait for them timed out). */
  gone: boolean;
  allGone: Promise<void>;
}

export interface ProcessLauncher extends WorkerLauncher {
  /** The process ids of the spares waiting for an assignment (for status and tests). */
  sparePids(): number[];
}

export function createProcessLauncher(options: ProcessLauncherOptions): ProcessLauncher {
  const children = new Map<string, Child>();
  const spares = new Set<Started>();
  const wantedSpares = options.spares ?? 0;
  let closed = false;

  const start = (args: string[], env: Record<string, string>): Started => {
    const child = spawn(options.nodePath ?? process.execPath, [...WORKER_NODE_FLAGS, options.entrypoint, 'worker', ...args], {
      env: { ...withoutSecrets(options.baseEnv ?? process.env), ...env, [WORKER_LIVENESS_FD_VAR]: '3' },
      stdio: ['pipe', options.stdio ?? 'inherit', options.stdio ?? 'inherit', 'pipe'],
    });
    const liveness = child.stdio[3] as Readable;
    const started: Started = {
      process: child,
      exitCode: null,
      liveness,
      livenessClosed: new Promise<void>((resolve) => {
        liveness.on('data', () => {}); // nothing is expected; a command writing to it is ignored
        liveness.once('close', resolve);
        liveness.once('error', () => resolve());
      }),
      exited: new Promise((resolve) => {
        child.once('exit', (code, signal) => {
          // A signal death is reported like a shell would: 128 + signal number (SIGKILL → 137).
          started.exitCode = code ?? (signal ? 128 + (constants.signals[signal] ?? 0) : null);
          resolve();
        });
      }),
      spawned: new Promise<void>((resolve, reject) => {
        child.once('spawn', () => resolve());
        child.once('error', reject);
      }),
    };
    started.spawned.catch(() => {}); // awaited where it matters
    child.stdin!.on('error', () => {}); // a worker that died at once: its exit is what counts
    return started;
  };

  const startSpare = () => {
    const spare = start([], { [WORKER_SPARE_VAR]: 'stdin' });
    spares.add(spare);
    // A spare that dies unused is replaced, a second later (so one that cannot boot does not spin).
    void spare.exited.then(() => {
      if (!spares.delete(spare)) return; // it had been assigned
      spare.liveness.destroy();
      if (!closed) setTimeout(refill, 1000).unref();
    });
  };
  const refill = () => {
    while (!closed && spares.size < wantedSpares) startSpare();
  };
  /** A spare that is still running, taken out of the pool. */
  const takeSpare = (): Started | undefined => {
    for (const spare of spares) {
      spares.delete(spare);
      if (spare.process.exitCode === null && spare.process.signalCode === null) return spare;
    }
    return undefined;
  };
  refill();

  return {
    kind: 'process',

    sparePids: () => [...spares].flatMap((spare) => (spare.process.pid !== undefined ? [spare.process.pid] : [])),

    async launch(spec) {
      const args = ['--site', String(spec.siteId), ...(spec.lanes ? ['--lanes', spec.lanes.join(',')] : [])];
      const { env, secrets } = splitSecrets(spec.env);
      const spare = takeSpare();
      const started = spare ?? start(args, { ...env, [WORKER_SECRETS_VAR]: 'stdin' });
      const entry: Child = { spec, started, gone: false, allGone: Promise.resolve() };
      entry.allGone = started.exited.then(async () => {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, options.commandsGoneTimeoutMs ?? 10_000)));
        await Promise.race([started.livenessClosed, timeout]);
        clearTimeout(timer);
        started.liveness.destroy();
        entry.gone = true;
      });
      children.set(spec.workerGuid, entry);
      // A spare gets its whole assignment on stdin; a new process only its secrets.
      started.process.stdin!.end(spare ? assignmentJson(args, env, secrets) : JSON.stringify(secrets));
      refill();
      try {
        await started.spawned;
      } catch (err) {
        children.delete(spec.workerGuid); // never started: nothing to wait for or stop
        throw new Error(`cannot start ${spec.containerName}: ${(err as Error).message}`);
      }
    },

    async list(): Promise<ObservedWorker[]> {
      return [...children.values()].map((c) => {
        // An exited worker whose commands still die counts as running, so nothing is released yet.
        const running = !c.gone;
        return {
          workerGuid: c.spec.workerGuid,
          containerName: c.spec.containerName,
          siteId: c.spec.siteId,
          running,
          state: running ? 'running' : 'exited',
          exitCode: running ? null : c.started.exitCode,
          ...(c.started.process.pid !== undefined ? { pid: c.started.process.pid } : {}),
        };
      });
    },

    async stop(workerGuid, stopOptions = {}) {
      const c = children.get(workerGuid);
      if (!c) return;
      const child = c.started.process;
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const grace = stopOptions.graceMs ?? 10_000;
        const timer = setTimeout(() => child.kill('SIGKILL'), grace);
        await c.started.exited;
        clearTimeout(timer);
      }
      await c.allGone;
    },

    async remove(workerGuid) {
      const c = children.get(workerGuid);
      if (c?.gone) children.delete(workerGuid);
    },

    /** Stops the spares (an unused spare exits when its stdin closes empty); site workers run on. */
    async close() {
      closed = true;
      const unused = [...spares];
      spares.clear();
      for (const spare of unused) spare.process.stdin!.end();
      await Promise.all(unused.map(async (spare) => {
        const timer = setTimeout(() => spare.process.kill('SIGKILL'), 5_000);
        await spare.exited;
        clearTimeout(timer);
        spare.liveness.destroy();
      }));
    },
  };
}

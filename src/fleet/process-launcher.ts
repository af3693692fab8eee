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
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import type { Readable } from 'node:stream';
import type { ObservedWorker, WorkerLauncher, WorkerSpec } from './launcher.js';
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
}

interface Child {
  spec: WorkerSpec;
  process: ChildProcess;
  exitCode: number | null;
  exited: Promise<void>;
  /** True once the worker exited and its commands are gone (or the wait for them timed out). */
  gone: boolean;
  allGone: Promise<void>;
}

export function createProcessLauncher(options: ProcessLauncherOptions): WorkerLauncher {
  const children = new Map<string, Child>();

  return {
    kind: 'process',

    async launch(spec) {
      const args = [...WORKER_NODE_FLAGS, options.entrypoint, 'worker', '--site', String(spec.siteId)];
      if (spec.lanes) args.push('--lanes', spec.lanes.join(','));
      const { env, secrets } = splitSecrets(spec.env);
      const child = spawn(options.nodePath ?? process.execPath, args, {
        env: { ...withoutSecrets(options.baseEnv ?? process.env), ...env, [WORKER_SECRETS_VAR]: 'stdin', [WORKER_LIVENESS_FD_VAR]: '3' },
        stdio: ['pipe', options.stdio ?? 'inherit', options.stdio ?? 'inherit', 'pipe'],
      });
      const liveness = child.stdio[3] as Readable;
      const livenessClosed = new Promise<void>((resolve) => {
        liveness.on('data', () => {}); // nothing is expected; a command writing to it is ignored
        liveness.once('close', resolve);
        liveness.once('error', () => resolve());
      });
      const entry: Child = {
        spec,
        process: child,
        exitCode: null,
        gone: false,
        exited: new Promise((resolve) => {
          child.once('exit', (code, signal) => {
            // A signal death is reported like a shell would: 128 + signal number (SIGKILL → 137).
            entry.exitCode = code ?? (signal ? 128 + (constants.signals[signal] ?? 0) : null);
            resolve();
          });
        }),
        allGone: Promise.resolve(),
      };
      entry.allGone = entry.exited.then(async () => {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, options.commandsGoneTimeoutMs ?? 10_000)));
        await Promise.race([livenessClosed, timeout]);
        clearTimeout(timer);
        liveness.destroy();
        entry.gone = true;
      });
      children.set(spec.workerGuid, entry);
      child.stdin!.on('error', () => {}); // a worker that died at once: its exit is what counts
      child.stdin!.end(JSON.stringify(secrets));
      await new Promise<void>((resolve, reject) => {
        child.once('spawn', () => resolve());
        child.once('error', (err) => {
          children.delete(spec.workerGuid); // never started: nothing to wait for or stop
          reject(new Error(`cannot start ${spec.containerName}: ${err.message}`));
        });
      });
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
          exitCode: running ? null : c.exitCode,
          ...(c.process.pid !== undefined ? { pid: c.process.pid } : {}),
        };
      });
    },

    async stop(workerGuid, stopOptions = {}) {
      const c = children.get(workerGuid);
      if (!c) return;
      if (c.process.exitCode === null && c.process.signalCode === null) {
        c.process.kill('SIGTERM');
        const grace = stopOptions.graceMs ?? 10_000;
        const timer = setTimeout(() => c.process.kill('SIGKILL'), grace);
        await c.exited;
        clearTimeout(timer);
      }
      await c.allGone;
    },

    async remove(workerGuid) {
      const c = children.get(workerGuid);
      if (c?.gone) children.delete(workerGuid);
    },

    async close() {},
  };
}

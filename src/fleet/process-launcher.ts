/**
 * Site workers as child processes of the scheduler: the embedded default when no Docker Engine
 * answers. Each worker runs the same entrypoint a container would (`jobyard worker --site N`).
 * The launcher sees only its own children; exited children are kept until `remove` so the
 * reconciliation loop can record their exit code.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import type { ObservedWorker, WorkerLauncher, WorkerSpec } from './launcher.js';

export interface ProcessLauncherOptions {
  /** The jobyard CLI script (bin/jobyard.js). */
  entrypoint: string;
  nodePath?: string;
  /** What the children inherit besides spec.env (default: this process's environment). */
  baseEnv?: NodeJS.ProcessEnv;
  /** Worker output: inherited (the default, so their JSON logs join the scheduler's) or dropped. */
  stdio?: 'inherit' | 'ignore';
}

interface Child {
  spec: WorkerSpec;
  process: ChildProcess;
  exitCode: number | null;
  exited: Promise<void>;
}

export function createProcessLauncher(options: ProcessLauncherOptions): WorkerLauncher {
  const children = new Map<string, Child>();

  return {
    kind: 'process',

    async launch(spec) {
      const args = [options.entrypoint, 'worker', '--site', String(spec.siteId)];
      if (spec.lanes) args.push('--lanes', spec.lanes.join(','));
      const child = spawn(options.nodePath ?? process.execPath, args, {
        env: { ...(options.baseEnv ?? process.env), ...spec.env },
        stdio: ['ignore', options.stdio ?? 'inherit', options.stdio ?? 'inherit'],
      });
      const entry: Child = {
        spec,
        process: child,
        exitCode: null,
        exited: new Promise((resolve) => {
          child.once('exit', (code, signal) => {
            // A signal death is reported like a shell would: 128 + signal number (SIGKILL → 137).
            entry.exitCode = code ?? (signal ? 128 + (constants.signals[signal] ?? 0) : null);
            resolve();
          });
        }),
      };
      children.set(spec.workerGuid, entry);
      await new Promise<void>((resolve, reject) => {
        child.once('spawn', () => resolve());
        child.once('error', (err) => reject(new Error(`cannot start ${spec.containerName}: ${err.message}`)));
      });
    },

    async list(): Promise<ObservedWorker[]> {
      return [...children.values()].map((c) => {
        const running = c.process.exitCode === null && c.process.signalCode === null;
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
      if (!c || c.process.exitCode !== null || c.process.signalCode !== null) return;
      c.process.kill('SIGTERM');
      const grace = stopOptions.graceMs ?? 10_000;
      const timer = setTimeout(() => c.process.kill('SIGKILL'), grace);
      await c.exited;
      clearTimeout(timer);
    },

    async remove(workerGuid) {
      const c = children.get(workerGuid);
      if (c && (c.process.exitCode !== null || c.process.signalCode !== null)) children.delete(workerGuid);
    },

    async close() {},
  };
}

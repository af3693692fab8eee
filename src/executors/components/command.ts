/**
 * The `command` component: one process, no shell unless the component asks for one.
 *
 * - `spawn(argv[0], argv.slice(1), { cwd, env, shell: component.shell === true })`; stdin is
 *   closed. The environment is a safe subset of this process's (PATH, HOME, locale, temp dirs…;
 *   never DATABASE_URL or anything else of the worker's), then the component's `env`, then the
 *   caller's (target) variables, which win.
 * - POSIX: the child leads a process group of its own, so a timeout or an abort kills the whole
 *   group (a shell and what it started): SIGTERM, then SIGKILL after `killGraceMs` (2 s) if the
 *   group is still there. Windows: the child alone is killed.
 * - POSIX: the child runs under the lifeline wrapper (command-isolation.ts): if the worker dies,
 *   the group is killed; with `isolation.user` it runs as that user.
 * - stdout and stderr are each captured up to `outputCapBytes` (cut on a UTF-8 boundary); the
 *   rest is read and counted (so the child never blocks on a full pipe) and reported in
 *   `stdoutDroppedBytes` / `stderrDroppedBytes`.
 * - Success is exit code 0 without timeout or abort.
 */
import { spawn, type StdioOptions } from 'node:child_process';
import type { Writable } from 'node:stream';
import { LIFELINE_WRAPPER, missingExecutable, type CommandIsolation } from './command-isolation.js';

export interface CommandComponent {
  kind?: string;
  name?: string;
  argv: string[];
  cwd?: string;
  env?: Record<string, string>;
  timeout_seconds?: number;
  shell?: boolean;
}

export interface CommandOptions {
  /** Variables added last (target, run and credential variables). */
  env?: Record<string, string>;
  signal?: AbortSignal;
  outputCapBytes: number;
  /** Used when the component has no `timeout_seconds`. */
  defaultTimeoutMs: number;
  /** SIGTERM → SIGKILL delay (default 2000 ms). */
  killGraceMs?: number;
  /** The environment the safe subset is taken from (default process.env). */
  baseEnv?: NodeJS.ProcessEnv;
  /** Who runs the command and what it inherits from the worker (POSIX). */
  isolation?: CommandIsolation;
}

export interface CommandResult {
  ok: boolean;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Captured output, at most outputCapBytes each. */
  stdout: string;
  stderr: string;
  /** Bytes read beyond the cap and not kept (0 when the output is complete). */
  stdoutDroppedBytes: number;
  stderrDroppedBytes: number;
  durationMs: number;
  timedOut: boolean;
  /** The caller's signal stopped the command. */
  aborted: boolean;
  /** Why the command could not run or was stopped (spawn error, timeout, abort). */
  error?: string;
}

export const KILL_GRACE_MS = 2000;
const MAX_TIMER_MS = 2_147_483_647;

/** Variables passed through from the worker's environment; nothing else of it reaches a command. */
const SAFE_ENV = new Set([
  'PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'LANG', 'LANGUAGE', 'TZ', 'TERM', 'TMPDIR', 'TMP', 'TEMP', 'HOSTNAME',
  // Windows essentials
  'SYSTEMROOT', 'WINDIR', 'COMSPEC', 'PATHEXT', 'SYSTEMDRIVE', 'USERPROFILE', 'APPDATA', 'LOCALAPPDATA',
  'PROGRAMDATA', 'PROGRAMFILES', 'PROGRAMFILES(X86)', 'NUMBER_OF_PROCESSORS', 'PROCESSOR_ARCHITECTURE',
]);

export function safeEnvironment(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) continue;
    const upper = key.toUpperCase();
    if (SAFE_ENV.has(upper) || upper.startsWith('LC_')) out[key] = value;
  }
  return out;
}

/** Problems with a command component's shape, or an empty list. */
export function commandProblems(component: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const argv = component.argv;
  if (!Array.isArray(argv) || argv.length === 0 || !argv.every((a) => typeof a === 'string') || (argv[0] as string).length === 0) {
    problems.push('argv must be a non-empty array of strings');
  }
  if (component.cwd !== undefined && typeof component.cwd !== 'string') problems.push('cwd must be a string');
  if (component.env !== undefined && !isStringRecord(component.env)) problems.push('env must be an object of strings');
  if (component.timeout_seconds !== undefined && !(typeof component.timeout_seconds === 'number' && component.timeout_seconds > 0)) {
    problems.push('timeout_seconds must be a positive number');
  }
  if (component.shell !== undefined && typeof component.shell !== 'boolean') problems.push('shell must be true or false');
  return problems;
}

function isStringRecord(value: unknown): value is Record<string, string> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((v) => typeof v === 'string');
}

/** Runs the command to its end (or its timeout/abort); never throws for the command's own failures. */
export function runCommand(component: CommandComponent, options: CommandOptions): Promise<CommandResult> {
  const started = performance.now();
  const cap = Math.max(0, options.outputCapBytes);
  // setTimeout fires at once beyond 2^31-1 ms (~24.8 days): clamp.
  const timeoutMs = Math.min(component.timeout_seconds !== undefined ? component.timeout_seconds * 1000 : options.defaultTimeoutMs, MAX_TIMER_MS);
  const grace = options.killGraceMs ?? KILL_GRACE_MS;
  const signal = options.signal;
  const result = (fields: Partial<CommandResult>): CommandResult => ({
    ok: false,
    exitCode: null,
    signal: null,
    stdout: '',
    stderr: '',
    stdoutDroppedBytes: 0,
    stderrDroppedBytes: 0,
    durationMs: Math.round(performance.now() - started),
    timedOut: false,
    aborted: false,
    ...fields,
  });
  if (signal?.aborted) return Promise.resolve(result({ aborted: true, error: 'aborted before start' }));

  const user = options.isolation?.user;
  const env = {
    ...safeEnvironment(options.baseEnv),
    ...(user ? { HOME: user.home, USER: user.name, LOGNAME: user.name } : {}),
    ...(component.env ?? {}),
    ...(options.env ?? {}),
  };
  const posix = process.platform !== 'win32';
  const [file, ...args] = component.argv;
  const missing = posix && component.shell !== true ? missingExecutable(file!, env, component.cwd) : undefined;
  if (missing) return Promise.resolve(result({ error: `could not start ${JSON.stringify(file)}: ${missing}` }));
  // POSIX: `sh -c LIFELINE_WRAPPER jobyard-command FILE ARGS…`, the lifeline on fd 3 and the
  // launcher's liveness fd (when there is one) on fd 4.
  const commandLine = component.shell === true ? ['/bin/sh', '-c', component.argv.join(' ')] : component.argv;
  const liveness = options.isolation?.livenessFd;
  const stdio: StdioOptions = posix
    ? ['ignore', 'pipe', 'pipe', 'pipe', ...(liveness !== undefined ? [liveness] : [])]
    : ['ignore', 'pipe', 'pipe'];

  return new Promise<CommandResult>((resolve) => {
    const out = new Capture(cap);
    const err = new Capture(cap);
    let timedOut = false;
    let aborted = false;
    let spawnError: string | undefined;
    let settled = false;
    let exitCode: number | null = null;
    let exitSignal: NodeJS.Signals | null = null;
    let killTimer: NodeJS.Timeout | undefined;
    let closeTimer: NodeJS.Timeout | undefined;

    let child: ReturnType<typeof spawn>;
    try {
      child = posix
        ? spawn('/bin/sh', ['-c', LIFELINE_WRAPPER, 'jobyard-command', ...commandLine], {
            cwd: component.cwd,
            env,
            stdio,
            detached: true, // own process group, so the group can be killed
            ...(user ? { uid: user.uid, gid: user.gid } : {}),
          })
        : spawn(file!, args, { cwd: component.cwd, env, shell: component.shell === true, stdio, windowsHide: true });
    } catch (e) {
      // Invalid arguments (a NUL byte, a bad cwd type) throw synchronously.
      resolve(result({ error: `could not start ${JSON.stringify(file)}: ${e instanceof Error ? e.message : String(e)}` }));
      return;
    }
    child.stdout!.on('data', (chunk: Buffer) => out.add(chunk));
    child.stderr!.on('data', (chunk: Buffer) => err.add(chunk));
    // The lifeline: "done" once the leader exited (what is left of the group may stay, as
    // without the wrapper); its end without "done" (this worker died) kills the group.
    const lifeline = posix ? (child.stdio[3] as Writable | null) : null;
    lifeline?.on('error', () => {}); // EPIPE: the group (and its watcher) is gone already
    const releaseLifeline = () => {
      if (lifeline && !lifeline.writableEnded) lifeline.end('done\n');
    };

    const killGroup = (sig: NodeJS.Signals) => {
      if (child.pid === undefined) return;
      try {
        if (posix) process.kill(-child.pid, sig);
        else child.kill(sig);
      } catch {
        // ESRCH: the group is gone already.
      }
    };
    const stop = () => {
      killGroup('SIGTERM');
      killTimer ??= setTimeout(() => killGroup('SIGKILL'), grace);
    };
    const timer = setTimeout(() => {
      timedOut = true;
      stop();
    }, timeoutMs);
    const onAbort = () => {
      aborted = true;
      stop();
    };
    signal?.addEventListener('abort', onAbort, { once: true });

    const finish = () => {
      if (settled) return;
      settled = true;
      releaseLifeline();
      lifeline?.destroy();
      clearTimeout(timer);
      clearTimeout(closeTimer);
      signal?.removeEventListener('abort', onAbort);
      // The leader is gone; if we had to stop it, make sure nothing of its group outlives it.
      if (killTimer) {
        clearTimeout(killTimer);
        killGroup('SIGKILL');
      }
      const error = spawnError
        ?? (timedOut ? `timed out after ${timeoutMs / 1000} s; process group killed` : undefined)
        ?? (aborted ? 'aborted; process group killed' : undefined);
      const stdout = out.finish();
      const stderr = err.finish();
      resolve(
        result({
          ok: exitCode === 0 && !timedOut && !aborted && spawnError === undefined,
          exitCode,
          signal: exitSignal,
          stdout: stdout.text,
          stderr: stderr.text,
          stdoutDroppedBytes: stdout.dropped,
          stderrDroppedBytes: stderr.dropped,
          timedOut,
          aborted,
          ...(error !== undefined ? { error } : {}),
        }),
      );
    };

    child.on('error', (e: NodeJS.ErrnoException) => {
      if (child.pid === undefined) {
        spawnError = `could not start ${JSON.stringify(file)}: ${e.message}`;
        finish();
      }
    });
    child.on('exit', (code, sig) => {
      exitCode = code;
      exitSignal = sig;
      releaseLifeline();
      // 'close' follows once the pipes drain; a background process that kept them open must not
      // hold the component forever.
      closeTimer = setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
        finish();
      }, grace);
    });
    child.on('close', (code, sig) => {
      if (exitCode === null && exitSignal === null) {
        exitCode = code;
        exitSignal = sig;
      }
      finish();
    });
  });
}

/** Keeps the first `cap` bytes, counts the rest. */
class Capture {
  #chunks: Buffer[] = [];
  #kept = 0;
  #cut = false;
  dropped = 0;

  constructor(readonly cap: number) {}

  add(chunk: Buffer): void {
    const room = this.cap - this.#kept;
    if (this.#cut || room <= 0) {
      this.#cut = true;
      this.dropped += chunk.length;
      return;
    }
    if (chunk.length <= room) {
      this.#chunks.push(chunk);
      this.#kept += chunk.length;
      return;
    }
    this.#chunks.push(chunk.subarray(0, room));
    this.#kept += room;
    this.dropped += chunk.length - room;
    this.#cut = true;
  }

  /** The kept text (never ending in half a character) and the bytes not kept. */
  finish(): { text: string; dropped: number } {
    const all = Buffer.concat(this.#chunks);
    const end = this.#cut ? completeLength(all) : all.length;
    return { text: all.subarray(0, end).toString('utf8'), dropped: this.dropped + all.length - end };
  }
}

/** Length of `buf` without a trailing incomplete UTF-8 sequence. */
function completeLength(buf: Buffer): number {
  if (buf.length === 0) return 0;
  let i = buf.length - 1;
  while (i > 0 && (buf[i]! & 0xc0) === 0x80) i--;
  const lead = buf[i]!;
  const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return buf.length - i < need ? i : buf.length;
}

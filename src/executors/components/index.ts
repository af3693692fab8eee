/**
 * Runs one component of any kind for one target and returns what is stored about it: outputs
 * already masked and capped (sanitize.ts), a one-line `detail`, and the `path` shown as the
 * activity's script_path (argv joined, the URL, or a plug-in component's `path`).
 *
 * What lands in stdout/stderr per kind:
 * - command: the process's output; on failure stderr ends with a `[jobyard] …` line (exit code,
 *   signal, timeout, spawn error).
 * - http: `HTTP <status> <text>` then the (capped) body; a transport error or timeout in stderr.
 * - plug-in: `output` in stdout; a load/throw/missing-plug-in error in stderr.
 * A malformed built-in component (e.g. `command` without argv) fails with its problems listed.
 */
import type { Logger } from '../../log.js';
import type { ExecutorConfig } from '../types.js';
import { maskSecrets, sanitizeOutput, snippet } from '../sanitize.js';
import { commandProblems, runCommand, type CommandComponent } from './command.js';
import { httpProblems, runHttp, type HttpComponent } from './http.js';
import { runPlugin, type PluginTarget } from './plugin.js';

export interface ComponentOutcome {
  ok: boolean;
  kind: string;
  /** The component's `name`, or null. */
  name: string | null;
  /** argv joined / URL / plug-in `path`, masked; null when there is none. */
  path: string | null;
  stdout: string | null;
  stderr: string | null;
  /** One line: `exit code 0`, `HTTP 503 Service Unavailable`, `timed out after 5 s; …`. */
  detail: string;
  durationMs: number;
  /** A command's exit code; null for other kinds and for a command killed by a signal. */
  exitCode?: number | null;
  /** Stopped by the caller's signal: the outcome says nothing about the target. */
  aborted: boolean;
}

export interface RunComponentOptions {
  config: ExecutorConfig;
  /** JOBYARD_* variables for this target (credential variables included). */
  env: Record<string, string>;
  target: PluginTarget;
  signal: AbortSignal;
  logger: Logger;
  /** Values masked in everything stored. */
  secrets: readonly string[];
}

/** Longest script_path stored. */
const PATH_CAP = 2048;

export async function runComponent(component: unknown, options: RunComponentOptions): Promise<ComponentOutcome> {
  const { config, secrets } = options;
  const store = (text: string | null | undefined, extra: { droppedBytes?: number; truncated?: boolean } = {}) =>
    sanitizeOutput(text, { secrets, cap: config.outputCapBytes, ...extra });
  const outcome = (c: Partial<ComponentOutcome> & Pick<ComponentOutcome, 'ok' | 'kind' | 'detail'>): ComponentOutcome => ({
    name: null,
    path: null,
    stdout: null,
    stderr: null,
    durationMs: 0,
    aborted: false,
    ...c,
  });

  if (typeof component !== 'object' || component === null || Array.isArray(component) || typeof (component as { kind?: unknown }).kind !== 'string') {
    const detail = 'component is not an object with a string "kind"';
    return outcome({ ok: false, kind: 'unknown', detail, stderr: detail });
  }
  const c = component as Record<string, unknown> & { kind: string };
  const kind = c.kind;
  const name = typeof c.name === 'string' && c.name.length > 0 ? c.name : null;
  const displayPath = (raw: string | null) => (raw === null ? null : snippet(maskSecrets(raw, secrets), PATH_CAP));

  if (kind === 'script') {
    // Shell text; runs on the target for ssh jobs (ssh/remote-component.ts), here through /bin/sh -c.
    if (typeof c.script !== 'string' || c.script.trim() === '') {
      const detail = 'invalid script component: script must be non-empty shell text';
      return outcome({ ok: false, kind, name, detail, stderr: detail });
    }
    return { ...(await runComponent({ ...c, kind: 'command', argv: [c.script], shell: true }, options)), kind, name };
  }

  if (kind === 'command') {
    const path = Array.isArray(c.argv) ? displayPath(c.argv.map((a) => shellQuote(String(a))).join(' ')) : null;
    const problems = commandProblems(c);
    if (problems.length > 0) {
      const detail = `invalid command component: ${problems.join('; ')}`;
      return outcome({ ok: false, kind, name, path, detail, stderr: detail });
    }
    const r = await runCommand(c as unknown as CommandComponent, {
      env: options.env,
      signal: options.signal,
      outputCapBytes: config.outputCapBytes,
      defaultTimeoutMs: config.defaultTimeoutMs,
      ...(config.commandIsolation ? { isolation: config.commandIsolation } : {}),
    });
    const detail = r.error ?? (r.signal ? `killed by ${r.signal}` : `exit code ${r.exitCode}`);
    let stderr = store(r.stderr, { droppedBytes: r.stderrDroppedBytes }) ?? '';
    if (!r.ok) stderr = `${stderr}${stderr && !stderr.endsWith('\n') ? '\n' : ''}[jobyard] ${maskSecrets(detail, secrets)}`;
    return outcome({
      ok: r.ok,
      kind,
      name,
      path,
      detail: maskSecrets(detail, secrets),
      stdout: store(r.stdout, { droppedBytes: r.stdoutDroppedBytes }),
      stderr,
      durationMs: r.durationMs,
      exitCode: r.exitCode,
      aborted: r.aborted,
    });
  }

  if (kind === 'http') {
    const path = typeof c.url === 'string' ? displayPath(c.url) : null;
    const problems = httpProblems(c);
    if (problems.length > 0) {
      const detail = `invalid http component: ${problems.join('; ')}`;
      return outcome({ ok: false, kind, name, path, detail, stderr: detail });
    }
    const r = await runHttp(c as unknown as HttpComponent, {
      signal: options.signal,
      outputCapBytes: config.outputCapBytes,
      defaultTimeoutMs: config.defaultTimeoutMs,
    });
    const statusLine = r.status !== null ? `HTTP ${r.status}${r.statusText ? ` ${r.statusText}` : ''}` : null;
    const detail = maskSecrets(r.error ?? statusLine ?? 'no response', secrets);
    const body = store(r.body, { droppedBytes: r.bodyDroppedBytes, truncated: r.bodyTruncated });
    return outcome({
      ok: r.ok,
      kind,
      name,
      path,
      detail,
      stdout: statusLine !== null ? `${statusLine}\n${body ?? ''}` : null,
      stderr: r.ok ? null : detail,
      durationMs: r.durationMs,
      aborted: r.aborted,
    });
  }

  const path = typeof c.path === 'string' ? displayPath(c.path) : null;
  const r = await runPlugin(kind, c, { plugins: config.plugins, target: options.target, signal: options.signal, logger: options.logger });
  const detail = maskSecrets(r.error ?? (r.ok ? 'ok' : 'plug-in reported failure'), secrets);
  return outcome({
    ok: r.ok && r.error === undefined,
    kind,
    name,
    path,
    detail,
    stdout: store(r.output),
    stderr: r.error !== undefined ? detail : null,
    durationMs: r.durationMs,
    aborted: options.signal.aborted,
  });
}

/** An argument as a reader would type it: quoted only when it needs to be. */
function shellQuote(arg: string): string {
  return arg === '' || /[\s"'\\$`]/.test(arg) ? JSON.stringify(arg) : arg;
}

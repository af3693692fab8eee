/**
 * A `command` or `script` component run on a target over an open SSH connection, turned into the
 * same ComponentOutcome a local run gives (masked, capped output; a `[jobyard] …` line on failure).
 *
 * Component fields used remotely: argv (or `script`: shell text), shell, cwd, env (non-secret),
 * timeout_seconds, and `become: true` (sudo to root) or `become_user: "<user>"`.
 */
import type { Client as SshClient } from 'ssh2';
import { commandProblems } from '../components/command.js';
import type { ComponentOutcome } from '../components/index.js';
import { maskSecrets, sanitizeOutput, snippet } from '../sanitize.js';
import { execRemote, shQuote, type RemoteCommandSpec, type RemoteResult } from './remote-command.js';

export const REMOTE_KINDS: ReadonlySet<string> = new Set(['command', 'script']);

export interface RemoteComponentOptions {
  env: Record<string, string>;
  signal: AbortSignal;
  outputCapBytes: number;
  defaultTimeoutMs: number;
  killGraceMs: number;
  secrets: readonly string[];
  becomePassword?: string;
}

export interface RemoteOutcome extends ComponentOutcome {
  exitCode: number | null;
  /** The run was stopped (cancel, drain, lease lost): record it Cancelled. */
  cancelled: boolean;
}

/** Problems with a remote component's shape, or an empty list. Pure. */
export function remoteProblems(c: Record<string, unknown>): string[] {
  const problems: string[] = [];
  if (c.kind === 'script') {
    if (typeof c.script !== 'string' || c.script.trim() === '') problems.push('script must be non-empty shell text');
  } else {
    problems.push(...commandProblems(c));
  }
  if (c.become !== undefined && typeof c.become !== 'boolean') problems.push('become must be true or false');
  if (c.become_user !== undefined && (typeof c.become_user !== 'string' || !/^[a-z_][a-z0-9_.-]*\$?$/i.test(c.become_user))) {
    problems.push('become_user must be a user name');
  }
  return problems;
}

export function remoteSpec(c: Record<string, unknown>, env: Record<string, string>): RemoteCommandSpec {
  const script = c.kind === 'script';
  const becomeUser = typeof c.become_user === 'string' ? c.become_user : c.become === true ? 'root' : undefined;
  return {
    argv: script ? [String(c.script)] : (c.argv as string[]),
    shell: script || c.shell === true,
    ...(typeof c.cwd === 'string' ? { cwd: c.cwd } : {}),
    env: { ...((c.env as Record<string, string> | undefined) ?? {}), ...env },
    ...(becomeUser ? { become: { user: becomeUser } } : {}),
  };
}

export async function runRemoteComponent(client: SshClient, component: Record<string, unknown>, options: RemoteComponentOptions): Promise<RemoteOutcome> {
  const kind = String(component.kind);
  const name = typeof component.name === 'string' && component.name.length > 0 ? component.name : null;
  const { secrets } = options;
  const problems = remoteProblems(component);
  const rawPath = kind === 'script' ? (typeof component.script === 'string' ? component.script : null) : Array.isArray(component.argv) ? component.argv.map((a) => shQuote(String(a))).join(' ') : null;
  const path = rawPath === null ? null : snippet(maskSecrets(rawPath, secrets), 2048);
  const base = { kind, name, path, durationMs: 0, aborted: false, cancelled: false, exitCode: null, stdout: null };
  if (problems.length > 0) {
    const detail = `invalid ${kind} component: ${problems.join('; ')}`;
    return { ...base, ok: false, detail, stderr: detail };
  }
  const timeoutMs = typeof component.timeout_seconds === 'number' ? component.timeout_seconds * 1000 : options.defaultTimeoutMs;
  const r: RemoteResult = await execRemote(client, remoteSpec(component, options.env), {
    timeoutMs,
    signal: options.signal,
    outputCapBytes: options.outputCapBytes,
    killGraceMs: options.killGraceMs,
    ...(options.becomePassword !== undefined ? { becomePassword: options.becomePassword } : {}),
  });
  const detail = maskSecrets(r.error ?? (r.signal ? `killed by SIG${r.signal}` : r.exitCode === null ? 'connection lost before the command ended' : `exit code ${r.exitCode}`), secrets);
  const store = (text: string, dropped: number) => sanitizeOutput(text, { secrets, cap: options.outputCapBytes, droppedBytes: dropped });
  let stderr = store(r.stderr, r.stderrDroppedBytes) ?? '';
  if (!r.ok) stderr = `${stderr}${stderr && !stderr.endsWith('\n') ? '\n' : ''}[jobyard] ${detail}`;
  return {
    ok: r.ok,
    kind,
    name,
    path,
    detail,
    stdout: store(r.stdout, r.stdoutDroppedBytes),
    stderr,
    durationMs: r.durationMs,
    aborted: false,
    cancelled: r.aborted,
    exitCode: r.exitCode,
  };
}

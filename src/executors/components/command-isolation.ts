/**
 * What keeps a command away from its worker (POSIX only):
 *
 * - **Lifeline.** Every command runs under a small `/bin/sh` wrapper that leads the command's
 *   process group and starts a watcher in that group, blocked on a pipe (fd 3) whose other end
 *   only the worker holds. The worker writes `done` when the command's leader exits; if instead
 *   the pipe reaches end-of-file, the worker died (kill -9, OOM, a crash) and the watcher kills
 *   the whole group. So a worker's death ends its commands whoever supervises it, also after a
 *   scheduler restart. The wrapper closes fd 3 before it execs the command.
 * - **Liveness fd.** Under the process launcher the worker holds a socket (WORKER_LIVENESS_FD)
 *   whose reader is the launcher; every command inherits it, so the launcher sees end-of-file
 *   only once the worker and every process of its commands have exited.
 * - **Command user.** A worker running as root runs commands as COMMAND_USER (default `nobody`,
 *   65534:65534 when the system has no such user), so a command cannot read the worker's (or the
 *   scheduler's) /proc/<pid>/environ, mem or fds, where credentials live.
 */
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';

export interface CommandUser {
  uid: number;
  gid: number;
  name: string;
  home: string;
}

export interface CommandIsolation {
  /** Who runs commands; unset: the worker's own user. */
  user?: CommandUser;
  /** An fd of the worker that every command inherits (the launcher's liveness socket). */
  livenessFd?: number;
}

/**
 * The wrapper: `sh -c WRAPPER jobyard-command FILE ARGS…`. The watcher's output goes to
 * /dev/null so it never holds the command's stdout/stderr open.
 */
export const LIFELINE_WRAPPER = [
  '(if read -r line <&3; then exit 0; fi; kill -9 0) </dev/null >/dev/null 2>&1 &',
  'exec 3<&-',
  'exec "$@"',
].join('\n');

const NOBODY: CommandUser = { uid: 65534, gid: 65534, name: 'nobody', home: '/' };

/**
 * COMMAND_USER → a user: a name from /etc/passwd, or `uid[:gid]`. Unset: `nobody` when the
 * worker runs as root, else undefined (commands run as the worker's user). `root`/`0` keeps
 * commands as root, deliberately.
 */
export function resolveCommandUser(spec: string | undefined, currentUid: number | undefined = process.getuid?.()): CommandUser | undefined {
  if (spec === undefined || spec === '') {
    if (currentUid !== 0) return undefined;
    return lookupUser('nobody') ?? NOBODY;
  }
  const numeric = /^(\d+)(?::(\d+))?$/.exec(spec);
  if (numeric) {
    const uid = Number(numeric[1]);
    const known = lookupUser(uid);
    return { uid, gid: numeric[2] !== undefined ? Number(numeric[2]) : (known?.gid ?? uid), name: known?.name ?? String(uid), home: known?.home ?? '/' };
  }
  const user = lookupUser(spec);
  if (!user) throw new Error(`COMMAND_USER: no user "${spec}" in /etc/passwd; expected a user name or uid[:gid]`);
  return user;
}

function lookupUser(key: string | number): CommandUser | undefined {
  let passwd: string;
  try {
    passwd = readFileSync('/etc/passwd', 'utf8');
  } catch {
    return undefined;
  }
  for (const line of passwd.split('\n')) {
    const [name, , uid, gid, , home] = line.split(':');
    if (name === undefined || uid === undefined || gid === undefined) continue;
    if (name === key || Number(uid) === key) {
      // A home that does not exist (nobody's /nonexistent) would only confuse tools: use /.
      const usable = home && home !== '/nonexistent' ? home : '/';
      return { uid: Number(uid), gid: Number(gid), name, home: usable };
    }
  }
  return undefined;
}

/**
 * Why `file` cannot be started, or undefined. Checked before the wrapper starts, so a missing
 * program is still reported as a spawn error (ENOENT) rather than as the shell's exit code 127.
 */
export function missingExecutable(file: string, env: Record<string, string>, cwd: string | undefined): string | undefined {
  const candidates = file.includes('/')
    ? [isAbsolute(file) ? file : resolve(cwd ?? process.cwd(), file)]
    : (env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(delimiter).filter((d) => d !== '').map((d) => join(d, file));
  for (const path of candidates) {
    try {
      if (!statSync(path).isFile()) continue;
      accessSync(path, constants.X_OK);
      return undefined;
    } catch {
      // not here
    }
  }
  return `spawn ${file} ENOENT`;
}

/**
 * One ansible-playbook process: the run's files written into a 0700 temp dir (files 0600), the
 * process in its own group (a stop kills the group: ansible's ssh and sshpass children too,
 * TERM then KILL), output collected, the dir removed in `finally` whatever happened.
 *
 * A worker that dies (SIGKILL, OOM) runs no `finally`: through setpriv, the playbook's whole
 * process group is killed when its worker dies (no playbook goes on unattended beside the
 * retry), and each dir holds its worker's pid, so the next playbook run removes the dirs of dead
 * workers (their vars.json holds the credential).
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findSetpriv } from './tool.js';
import { ansibleEnvironment, inventoryJson, knownHostsText, varsJson, type InventoryHost } from './inventory.js';

export interface PlaybookOptions {
  username: string;
  password: string | undefined;
  privateKey: string | undefined;
  becomePassword: string | undefined;
  forks: number;
  connectTimeoutSeconds: number;
  timeoutMs: number;
  killGraceMs: number;
  signal: AbortSignal;
}

export interface PlaybookResult {
  output: string;
  exitCode: number | null;
  cancelled: boolean;
  /** Why no host could have a recap (timed out, could not start). */
  error?: string;
}

/** Writes the run's files into a 0700 temp dir, runs ansible-playbook in its own process group, removes the dir. */
export async function runPlaybook(binary: string, c: { playbook: string; become?: boolean }, hosts: readonly InventoryHost[], o: PlaybookOptions): Promise<PlaybookResult> {
  removeDeadWorkersDirs();
  const dir = mkdtempSync(join(tmpdir(), DIR_PREFIX));
  try {
    chmodSync(dir, 0o700);
    writeFileSync(join(dir, OWNER_FILE), String(process.pid), { mode: 0o600 });
    for (const sub of ['tmp', 'ansible-home']) mkdirSync(join(dir, sub), { mode: 0o700 });
    const write = (name: string, text: string) => writeFileSync(join(dir, name), text, { mode: 0o600 });
    write('ansible.cfg', '');
    write('inventory.json', inventoryJson(hosts));
    write('known_hosts', knownHostsText(hosts));
    write('playbook.yml', c.playbook);
    if (o.privateKey !== undefined) write('id_key', o.privateKey.endsWith('\n') ? o.privateKey : `${o.privateKey}\n`);
    write('vars.json', varsJson({
      username: o.username,
      ...(o.password !== undefined ? { password: o.password } : {}),
      ...(o.becomePassword !== undefined ? { becomePassword: o.becomePassword } : {}),
      ...(o.privateKey !== undefined ? { privateKeyFile: join(dir, 'id_key') } : {}),
    }));
    const env = ansibleEnvironment(dir, { path: process.env.PATH ?? '/usr/bin:/bin', forks: o.forks, connectTimeoutSeconds: o.connectTimeoutSeconds });
    const args = ['-i', join(dir, 'inventory.json'), '-e', `@${join(dir, 'vars.json')}`, ...(c.become ? ['--become'] : []), join(dir, 'playbook.yml')];
    return await new Promise<PlaybookResult>((resolve) => {
      let output = '';
      let cancelled = false;
      let error: string | undefined;
      const setpriv = findSetpriv();
      const [command, argv] = setpriv ? [setpriv, ['--pdeathsig', 'TERM', '--', '/bin/sh', '-c', GROUP_GUARD, 'jobyard-ansible', binary, ...args]] : [binary, args];
      const child = spawn(command, argv, { cwd: dir, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
      const collect = (d: Buffer) => {
        if (output.length < 4 * 1024 * 1024) output += d.toString();
      };
      child.stdout.on('data', collect);
      child.stderr.on('data', collect);
      let killTimer: NodeJS.Timeout | undefined;
      const stop = (why: 'cancel' | 'timeout') => {
        if (why === 'cancel') cancelled = true;
        else error = `timed out after ${Math.round(o.timeoutMs / 1000)} s`;
        const group = (sig: NodeJS.Signals) => {
          try {
            if (child.pid) process.kill(-child.pid, sig); // the whole group: ssh and sshpass children too
          } catch {
            // already gone
          }
        };
        group('SIGTERM');
        killTimer = setTimeout(() => group('SIGKILL'), o.killGraceMs);
      };
      const onAbort = () => stop('cancel');
      o.signal.addEventListener('abort', onAbort, { once: true });
      const timer = setTimeout(() => stop('timeout'), o.timeoutMs);
      child.once('error', (err) => {
        error = `ansible-playbook could not start: ${err.message}`;
      });
      child.once('close', (code) => {
        clearTimeout(timer);
        if (killTimer) clearTimeout(killTimer);
        o.signal.removeEventListener('abort', onAbort);
        const result = { output, exitCode: code, cancelled, ...(error !== undefined ? { error } : {}) };
        // A stopped playbook is reported once its whole group is gone: its leader can close its
        // pipes before a forked worker has died of the TERM.
        if ((cancelled || error !== undefined) && child.pid) void groupGone(child.pid).then(() => resolve(result));
        else resolve(result);
      });
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The group's leader when setpriv is there: a shell that the worker's death signals (TERM, as its
 * parent-death signal) and that then kills its whole group. ansible-playbook's forked workers
 * inherit no parent-death signal, so a signal to ansible-playbook alone would leave them running
 * the task; a stop (TERM to the group) ends the same way. The shell exits with ansible's status.
 */
const GROUP_GUARD = 'trap "kill -9 0" TERM; "$@" & wait $!';

/**
 * Kills what is left of a stopped playbook's process group and waits until none of it is left
 * (or 2 s, for members that died but nobody reaps).
 */
async function groupGone(pgid: number): Promise<void> {
  const deadline = Date.now() + 2_000;
  for (;;) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      return; // no process left in the group
    }
    if (Date.now() >= deadline) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

const DIR_PREFIX = 'jobyard-ansible-';
const OWNER_FILE = 'owner.pid';

/** Removes the run dirs whose worker is gone (it was killed before its `finally`). */
export function removeDeadWorkersDirs(root: string = tmpdir()): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(root).filter((n) => n.startsWith(DIR_PREFIX));
  } catch {
    return removed;
  }
  for (const name of names) {
    let pid: number;
    try {
      pid = Number(readFileSync(join(root, name, OWNER_FILE), 'utf8'));
    } catch {
      continue; // not ours to judge (or being created right now)
    }
    if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid || alive(pid)) continue;
    rmSync(join(root, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

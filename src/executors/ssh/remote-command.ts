/**
 * Runs one command on an open SSH connection and stops it for real when asked.
 *
 * The command line (buildRemoteCommand, pure) is what the target's login shell runs:
 *   exec </dev/null; echo "<pid marker>$$" >&2; export JOBYARD_…='…'; cd '…' && <command>
 * - stdin is /dev/null for the command, and the channel's own stdin is never ended: OpenSSH drops
 *   a signal request on a channel whose stdin was closed (measured).
 * - the first stderr line reports the session leader's pid (= its session id), stripped from the
 *   stored stderr; after a cancel a second exec checks that no process of that session is left.
 * - become: `sudo -S -k -p '<random prompt>' -u <user> -- sh -c '<trap>; <command> & wait $!'`.
 *   The become password is written to the channel once, only when the random prompt shows up on
 *   stderr (never on a command line, never in the environment); NOPASSWD sudo never sees it. The
 *   trap passes a TERM to the whole process group, because sudo relays a signal to its direct
 *   child only (measured).
 * No secret is ever part of the command line: credential variables are not exported remotely.
 *
 * Stop (timeout or abort): signal TERM, after killGraceMs signal KILL, then close the channel.
 */
import { randomBytes } from 'node:crypto';
import type { Client as SshClient, ClientChannel } from 'ssh2';

export interface RemoteCommandSpec {
  argv: string[];
  /** argv is joined as shell text instead of quoted words. */
  shell?: boolean;
  cwd?: string;
  /** Non-secret variables exported before the command. */
  env?: Record<string, string>;
  become?: { user: string };
}

export interface RemoteOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  outputCapBytes: number;
  killGraceMs: number;
  /** Written when sudo prompts; undefined: sudo must not need one. */
  becomePassword?: string;
}

export interface RemoteResult {
  ok: boolean;
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  stdoutDroppedBytes: number;
  stderrDroppedBytes: number;
  durationMs: number;
  timedOut: boolean;
  aborted: boolean;
  /** After a stop: were the remote processes confirmed gone? null when not stopped. */
  stopConfirmed: boolean | null;
  error?: string;
}

/** `'…'` quoting for a POSIX shell. Pure. */
export function shQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The command line sent to the target (see the module comment). Pure. */
export function buildRemoteCommand(spec: RemoteCommandSpec, markers: { pid: string; prompt: string }): string {
  const command = spec.shell === true ? spec.argv.join(' ') : spec.argv.map(shQuote).join(' ');
  const exports = Object.entries(spec.env ?? {})
    .filter(([k]) => ENV_NAME.test(k))
    .map(([k, v]) => `export ${k}=${shQuote(v)};`)
    .join(' ');
  const cd = spec.cwd !== undefined ? `cd ${shQuote(spec.cwd)} && ` : '';
  const body = `${exports}${exports ? ' ' : ''}${cd}${command}`;
  const pid = `echo "${markers.pid}$$" >&2;`;
  if (!spec.become) return `exec </dev/null; ${pid} ${body}`;
  // sudo reads the password from the channel; only the command behind it gets /dev/null.
  const inner = `trap 'trap - TERM; kill -TERM 0' TERM; exec </dev/null; (\n${body}\n) & wait $!`;
  return `${pid} exec sudo -S -k -p ${shQuote(markers.prompt)} -u ${shQuote(spec.become.user)} -- /bin/sh -c ${shQuote(inner)}`;
}

/** Lines sudo prints when the user may not become the other user. */
const SUDO_REFUSALS = /is not in the sudoers file|is not allowed to (?:execute|run sudo)|a password is required|incorrect password attempt|no password was provided|sudo: no tty present/i;

export function execRemote(client: SshClient, spec: RemoteCommandSpec, options: RemoteOptions): Promise<RemoteResult> {
  const started = performance.now();
  const markers = { pid: `JYPID${randomBytes(6).toString('hex')}:`, prompt: `[jobyard-sudo ${randomBytes(6).toString('hex')}]` };
  const result = (fields: Partial<RemoteResult>): RemoteResult => ({
    ok: false, exitCode: null, signal: null, stdout: '', stderr: '', stdoutDroppedBytes: 0, stderrDroppedBytes: 0,
    durationMs: Math.round(performance.now() - started), timedOut: false, aborted: false, stopConfirmed: null, ...fields,
  });
  if (options.signal?.aborted) return Promise.resolve(result({ aborted: true, error: 'cancelled before start' }));
  const line = buildRemoteCommand(spec, markers);

  return new Promise<RemoteResult>((resolve) => {
    client.exec(line, (err, stream: ClientChannel) => {
      if (err) return resolve(result({ error: `could not start the command: ${err.message}` }));
      const out = new Capture(options.outputCapBytes);
      const errOut = new Capture(options.outputCapBytes);
      let pending = ''; // stderr not yet passed on: may hold the pid line or (part of) the prompt
      let sessionPid: number | null = null;
      let prompts = 0;
      let exitCode: number | null = null;
      let exitSignal: string | null = null;
      let timedOut = false;
      let aborted = false;
      let stopping = false;
      let settled = false;
      let killTimer: NodeJS.Timeout | undefined;
      let closeTimer: NodeJS.Timeout | undefined;

      const drainStderr = (final: boolean) => {
        for (;;) {
          if (sessionPid === null) {
            const nl = pending.indexOf('\n');
            if (nl < 0) break;
            const first = pending.slice(0, nl);
            if (first.startsWith(markers.pid)) sessionPid = Number(first.slice(markers.pid.length)) || null;
            else sessionPid = 0; // no marker: pass everything through
            pending = first.startsWith(markers.pid) ? pending.slice(nl + 1) : pending;
            continue;
          }
          const at = pending.indexOf(markers.prompt);
          if (at >= 0) {
            errOut.add(Buffer.from(pending.slice(0, at)));
            pending = pending.slice(at + markers.prompt.length);
            prompts++;
            if (prompts === 1 && options.becomePassword !== undefined) stream.write(`${options.becomePassword}\n`);
            else stream.end(); // no password, or a wrong one: let sudo fail instead of waiting
            continue;
          }
          // Keep a tail that could be the start of the prompt.
          const keep = final ? 0 : Math.min(pending.length, markers.prompt.length - 1);
          errOut.add(Buffer.from(pending.slice(0, pending.length - keep)));
          pending = pending.slice(pending.length - keep);
          break;
        }
      };

      const finish = async () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        clearTimeout(killTimer);
        clearTimeout(closeTimer);
        options.signal?.removeEventListener('abort', onAbort);
        if (sessionPid === null) errOut.add(Buffer.from(pending));
        else drainStderr(true);
        const stopConfirmed = stopping ? await confirmGone(client, sessionPid) : null;
        const stdout = out.finish();
        const stderr = errOut.finish();
        let error: string | undefined;
        if (timedOut) error = `timed out after ${options.timeoutMs / 1000} s; remote command stopped`;
        else if (aborted) error = 'cancelled; remote command stopped';
        else if (spec.become && exitCode !== 0 && SUDO_REFUSALS.test(stderr.text)) {
          error = `become (sudo -u ${spec.become.user}) refused: ${SUDO_REFUSALS.exec(stderr.text)![0]}`;
        }
        if (stopping && stopConfirmed === false) error = `${error}; remote processes may still be running (not confirmed gone)`;
        resolve(result({
          ok: exitCode === 0 && !timedOut && !aborted,
          exitCode,
          signal: exitSignal,
          stdout: stdout.text,
          stderr: stderr.text,
          stdoutDroppedBytes: stdout.dropped,
          stderrDroppedBytes: stderr.dropped,
          timedOut,
          aborted,
          stopConfirmed,
          ...(error !== undefined ? { error } : {}),
        }));
      };

      const stop = () => {
        if (stopping) return;
        stopping = true;
        stream.signal('TERM');
        killTimer = setTimeout(() => {
          stream.signal('KILL');
          // The channel goes once the command is dead; a command that never dies still lets us go.
          closeTimer = setTimeout(() => {
            stream.close();
            void finish();
          }, options.killGraceMs);
        }, options.killGraceMs);
      };
      const timer = setTimeout(() => {
        timedOut = true;
        stop();
      }, Math.min(options.timeoutMs, 2_147_483_647));
      const onAbort = () => {
        aborted = true;
        stop();
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });

      stream.on('data', (chunk: Buffer) => out.add(chunk));
      stream.stderr.on('data', (chunk: Buffer) => {
        pending += chunk.toString('utf8');
        drainStderr(false);
      });
      stream.on('exit', (code: number | null, sig?: string) => {
        exitCode = typeof code === 'number' ? code : null;
        exitSignal = sig ?? null;
      });
      stream.on('close', () => void finish());
    });
  });
}

/** A second exec: is any process of the stopped command's session left? */
async function confirmGone(client: SshClient, sessionPid: number | null): Promise<boolean> {
  if (!sessionPid) return false;
  return new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 10_000);
    try {
      // Killed processes may take a moment to be reaped (longer on a loaded host, and under sudo,
      // whose children get the signal one hop later): look every 0.1 s for up to about 5 s.
      const check = `if ! command -v pgrep >/dev/null 2>&1; then echo unknown; exit; fi; i=0; while [ $i -lt 50 ]; do pgrep -s ${sessionPid} >/dev/null || { echo gone; exit; }; sleep 0.1; i=$((i+1)); done; echo alive`;
      client.exec(check, (err, stream) => {
        if (err) {
          clearTimeout(timer);
          return resolve(false);
        }
        let text = '';
        stream.on('data', (d: Buffer) => (text += d.toString()));
        stream.stderr.on('data', () => {});
        stream.on('close', () => {
          clearTimeout(timer);
          resolve(text.trim() === 'gone');
        });
      });
    } catch {
      clearTimeout(timer);
      resolve(false);
    }
  });
}

/** Keeps the first `cap` bytes, counts the rest. */
class Capture {
  #chunks: Buffer[] = [];
  #kept = 0;
  dropped = 0;
  constructor(readonly cap: number) {}
  add(chunk: Buffer): void {
    const room = Math.max(0, this.cap - this.#kept);
    const take = Math.min(room, chunk.length);
    if (take > 0) {
      this.#chunks.push(chunk.subarray(0, take));
      this.#kept += take;
    }
    this.dropped += chunk.length - take;
  }
  finish(): { text: string; dropped: number } {
    return { text: Buffer.concat(this.#chunks).toString('utf8'), dropped: this.dropped };
  }
}

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCommand, safeEnvironment } from '../../src/executors/components/command.js';

const node = process.execPath;

/** Waits until the process no longer runs; false if it still does after `timeoutMs`. */
async function gone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (alive(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((res) => setTimeout(res, 20));
  }
  return true;
}
const opts = { outputCapBytes: 64 * 1024, defaultTimeoutMs: 30_000 };

/** True while a process with this pid runs (a zombie — killed, not yet reaped by its new parent — does not). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // Linux: field 3 of /proc/<pid>/stat is the state; Z = zombie.
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return true;
  }
}

describe('command component', () => {
  it('captures stdout, stderr and the exit code; success is exit 0', async () => {
    const ok = await runCommand({ argv: [node, '-e', 'console.log("out"); console.error("err")'] }, opts);
    expect(ok).toMatchObject({ ok: true, exitCode: 0, signal: null, stdout: 'out\n', stderr: 'err\n', timedOut: false, aborted: false });
    expect(ok.durationMs).toBeGreaterThanOrEqual(0);
    const bad = await runCommand({ argv: [node, '-e', 'process.exit(3)'] }, opts);
    expect(bad).toMatchObject({ ok: false, exitCode: 3 });
  });

  it('runs without a shell unless asked', async () => {
    const literal = await runCommand({ argv: ['echo', '$HOME', '&&', 'echo', 'pwned'] }, opts);
    expect(literal.stdout).toBe('$HOME && echo pwned\n');
    const shell = await runCommand({ argv: ['echo', '$JY_X', '&&', 'echo', 'second'], shell: true, env: { JY_X: 'expanded' } }, opts);
    expect(shell.stdout).toBe('expanded\nsecond\n');
  });

  it('passes a safe subset of the environment, then the component env, then the caller env', async () => {
    const script = 'console.log(JSON.stringify({db: process.env.DATABASE_URL ?? null, path: !!process.env.PATH, a: process.env.A, b: process.env.B}))';
    const r = await runCommand(
      { argv: [node, '-e', script], env: { A: 'component', B: 'component' } },
      { ...opts, env: { B: 'target' }, baseEnv: { DATABASE_URL: 'postgres://u:p@h/db', PATH: process.env.PATH, NODE_OPTIONS: '--x' } },
    );
    expect(JSON.parse(r.stdout)).toEqual({ db: null, path: true, a: 'component', b: 'target' });
    expect(safeEnvironment({ PATH: '/bin', LC_ALL: 'C', SECRET_TOKEN: 'x', DATABASE_URL: 'y' })).toEqual({ PATH: '/bin', LC_ALL: 'C' });
  });

  it('caps each stream and counts what it dropped, without blocking the child', async () => {
    const r = await runCommand(
      { argv: [node, '-e', 'process.stdout.write("x".repeat(300000)); process.stderr.write("é".repeat(10))'] },
      { ...opts, outputCapBytes: 1001 },
    );
    expect(r.ok).toBe(true);
    expect(r.stdout).toBe('x'.repeat(1001));
    expect(r.stdoutDroppedBytes).toBe(300000 - 1001);
    expect(r.stderr).toBe('é'.repeat(10)); // 20 bytes, under the cap
    const cut = await runCommand({ argv: [node, '-e', 'process.stdout.write("é".repeat(10))'] }, { ...opts, outputCapBytes: 5 });
    expect(cut.stdout).toBe('éé'); // never half a character
    expect(cut.stdoutDroppedBytes).toBe(16);
  });

  it('kills the whole process group on timeout', async () => {
    // The child starts a grandchild that shares its stdout, prints the pid and waits.
    const script = `
      const c = require('child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'inherit' });
      console.log(c.pid);
      setInterval(() => {}, 1000);`;
    const started = Date.now();
    // 3 s: the child must have started its grandchild by then, even on a loaded machine.
    const r = await runCommand({ argv: [node, '-e', script], timeout_seconds: 3 }, opts);
    expect(r).toMatchObject({ ok: false, timedOut: true, signal: 'SIGTERM' });
    expect(r.error).toBe('timed out after 3 s; process group killed');
    expect(Date.now() - started).toBeLessThan(10_000);
    const grandchild = Number(r.stdout.trim());
    expect(grandchild).toBeGreaterThan(0);
    // The group got the signal; on a loaded machine the grandchild may take a moment to exit.
    expect(await gone(grandchild, 5_000)).toBe(true);
  });

  it('escalates to SIGKILL when SIGTERM is ignored', async () => {
    const script = 'process.on("SIGTERM", () => {}); console.log("ready"); setInterval(() => {}, 1000)';
    const started = Date.now();
    const r = await runCommand({ argv: [node, '-e', script], timeout_seconds: 0.5 }, { ...opts, killGraceMs: 500 });
    expect(r).toMatchObject({ ok: false, timedOut: true, signal: 'SIGKILL' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it('uses the default timeout when the component has none', async () => {
    const r = await runCommand({ argv: [node, '-e', 'setInterval(() => {}, 1000)'] }, { ...opts, defaultTimeoutMs: 300 });
    expect(r.timedOut).toBe(true);
  });

  it('stops when the signal aborts, and does not start when it already has', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 200);
    const r = await runCommand({ argv: [node, '-e', 'setInterval(() => {}, 1000)'] }, { ...opts, signal: ac.signal });
    expect(r).toMatchObject({ ok: false, aborted: true, timedOut: false, signal: 'SIGTERM' });
    const before = await runCommand({ argv: [node, '-e', 'console.log(1)'] }, { ...opts, signal: AbortSignal.abort() });
    expect(before).toMatchObject({ ok: false, aborted: true, stdout: '' });
  });

  it('reports a command that cannot start', async () => {
    const r = await runCommand({ argv: ['/nonexistent/jobyard-no-such-binary'] }, opts);
    expect(r.ok).toBe(false);
    expect(r.exitCode).toBeNull();
    expect(r.error).toMatch(/could not start "\/nonexistent\/jobyard-no-such-binary": .*ENOENT/);
    const nul = await runCommand({ argv: ['echo', 'a\u0000b'] }, opts);
    expect(nul).toMatchObject({ ok: false, exitCode: null });
    expect(nul.error).toMatch(/^could not start "echo": /);
  });
});

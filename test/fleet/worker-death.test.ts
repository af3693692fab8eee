/**
 * A worker's death ends its commands (process launcher, both backends). A command that writes
 * its side effect, starts a grandchild and then runs until stopped is left running while its
 * worker is killed with SIGKILL; its events go to a shared file (appends, so the file's order is
 * the order they happened in). The launcher reports the worker exited only once the command's
 * processes are gone, the fleet releases the item after that, and the next attempt finds none of
 * the first attempt's processes alive.
 */
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { toJson } from '../../src/db/dialect.js';
import { Fleet } from '../../src/fleet/fleet.js';
import { createProcessLauncher } from '../../src/fleet/process-launcher.js';
import { jobyardEntrypoint } from '../../src/fleet/select-launcher.js';
import { silentLogger } from '../../src/log.js';
import { tick } from '../../src/schedule/ticker.js';
import { siteWithDevices } from '../fixtures/executors/executor-helpers.js';
import { insertJob } from '../helpers/jobs.js';
import { describeBackends } from '../helpers/backends.js';
import { stopAndRemoveWorkers, until } from './scenarios.js';

/**
 * Each attempt: `effect`, then `start <pid> <grandchild pid>`, then `overlap <pid>` for every
 * process of an earlier attempt still alive. The first attempt then ticks until it is killed;
 * a later one ends (`end`).
 */
const COMMAND = String.raw`
const fs = require('fs');
const log = process.env.EVENTS;
const line = (s) => fs.appendFileSync(log, s + '\n');
const alive = (pid) => { try { return fs.readFileSync('/proc/' + pid + '/stat', 'utf8').split(') ')[1][0] !== 'Z'; } catch { return false; } };
const earlier = (fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '').split('\n').filter((l) => l.startsWith('start '));
line('effect ' + process.pid);
const child = require('child_process').spawn('sleep', ['600'], { stdio: 'ignore' });
line('start ' + process.pid + ' ' + child.pid);
for (const pid of earlier.flatMap((l) => l.split(' ').slice(1))) if (alive(pid)) line('overlap ' + pid);
if (earlier.length === 0) setInterval(() => line('tick ' + process.pid), 50);
else setTimeout(() => { child.kill(); line('end ' + process.pid); }, 100);
`;

function alive(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describeBackends('a worker\'s death ends its commands (process launcher)', (ctx) => {
  it('kill -9 of a worker mid-command: its command tree is gone before the item is released, and the retry never overlaps it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jobyard-death-'));
    dirs.push(dir);
    chmodSync(dir, 0o777); // commands run as nobody when the tests run as root
    const events = join(dir, 'events.log');
    const read = () => (existsSync(events) ? readFileSync(events, 'utf8').split('\n').filter((l) => l !== '') : []);

    const launcher = createProcessLauncher({ entrypoint: jobyardEntrypoint(), stdio: 'ignore' });
    const fleet = new Fleet({
      store: ctx.store,
      launcher,
      logger: silentLogger,
      workerEnv: { DATABASE_URL: ctx.url, WORKER_IDLE_SECONDS: '1', LOG_LEVEL: 'warn' },
    });
    try {
      const now = Date.now();
      const { site } = await siteWithDevices(ctx, 'mike', ['mike-1'], now);
      await insertJob(ctx.db, {
        at: now,
        name: 'long command',
        components_json: toJson([{ kind: 'command', name: 'long', argv: [process.execPath, '-e', COMMAND], env: { EVENTS: events }, timeout_seconds: 600 }]),
        targets_json: toJson({ sites: [site.id] }),
        schedule_type: 'immediately',
      });
      await tick(ctx.store, { now });
      expect(await fleet.launchNeeded()).toBe(1);

      const first = await until('the first attempt started', async () => read().find((l) => l.startsWith('start ')), 60_000);
      const [, commandPid, grandchildPid] = first.split(' ').map(Number);
      await until('the first attempt ticking', async () => read().some((l) => l.startsWith('tick ')));
      const worker = (await launcher.list())[0]!;
      process.kill(worker.pid!, 'SIGKILL');

      // The launcher reports the worker exited only once its command tree is gone.
      const exited = await until('the worker reported exited', async () => (await launcher.list()).find((w) => !w.running));
      expect(exited.exitCode).toBe(137);
      expect(alive(commandPid!)).toBe(false);
      expect(alive(grandchildPid!)).toBe(false);

      const r = await fleet.reconcile();
      expect(r.lost).toEqual([worker.workerGuid]);
      const released = await ctx.db.selectFrom('job_scheduler_work_items').selectAll().executeTakeFirstOrThrow();
      expect(released).toMatchObject({ status: 'queued', attempt_count: 1 });

      expect(await fleet.launchNeeded()).toBe(1);
      const done = await until(
        'the retry done',
        () => ctx.db.selectFrom('job_scheduler_work_items').selectAll().where('status', '=', 'succeeded').executeTakeFirst(),
        60_000,
      );
      expect(done.attempt_count).toBe(2);

      const log = read();
      const starts = log.filter((l) => l.startsWith('start '));
      expect(starts).toHaveLength(2);
      expect(log.filter((l) => l.startsWith('effect '))).toHaveLength(2); // at most twice: once per attempt
      expect(log.filter((l) => l.startsWith('overlap '))).toEqual([]);
      expect(log.filter((l) => l.startsWith('end '))).toHaveLength(1);
      // Nothing of the first attempt happened after the second began.
      const secondAt = log.indexOf(starts[1]!) - 1; // its `effect` line
      expect(log.slice(secondAt).filter((l) => l.endsWith(` ${commandPid}`))).toEqual([]);
    } finally {
      await stopAndRemoveWorkers(launcher);
      await ctx.truncateAll();
    }
  }, 150_000);
});

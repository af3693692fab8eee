/**
 * The README's "First ten minutes", command for command, on both backends: a scheduler process,
 * then only the CLI — a site, two devices reported seen, a job from a file — until the run has
 * succeeded on both devices; then `runs show`, an API token reading the run over HTTP, and the
 * audit log naming every write.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, expect, it } from 'vitest';
import { describeBackends } from '../helpers/backends.js';
import { JOBYARD_BIN, runJobyard } from '../helpers/cli.js';

/** Polls until `check` returns a value (not undefined), or fails naming `what`. */
async function until<T>(check: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});
const dir = mkdtempSync(join(tmpdir(), 'jobyard-first-ten-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeBackends(
  'first ten minutes (README)',
  (ctx) => {
    it('takes a new site from nothing to a job that ran on its two devices, using only the commands', async () => {
      const env = { DATABASE_URL: ctx.url, LOG_LEVEL: 'warn' };
      const jobyard = async (...args: string[]) => {
        const r = await runJobyard(args, env);
        // Only `tokens create` says something on stderr: that its token is shown once.
        if (args[0] !== 'tokens') expect(r.stderr, `jobyard ${args.join(' ')}`).toBe('');
        expect(r.code, `jobyard ${args.join(' ')}: ${r.stderr}`).toBe(0);
        return r.stdout;
      };
      const scheduler = spawn(process.execPath, [JOBYARD_BIN, 'scheduler'], {
        env: { ...process.env, ...env, LOG_LEVEL: 'info', HTTP_PORT: '0', TICK_INTERVAL_MS: '200' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(scheduler);
      let log = '';
      scheduler.stdout!.on('data', (d) => (log += d));
      scheduler.stderr!.on('data', (d) => (log += d));
      const apiUrl = await until(async () => /"url":"(http:[^"]+)"[^\n]*"msg":"http server listening"/.exec(log)?.[1], 30_000, 'the scheduler');

      expect(await jobyard('sites', 'create', 'lab')).toMatch(/^site 1 created: lab/);
      await jobyard('devices', 'add', 'web-1', '--site', 'lab', '--internal-ip', '10.0.0.11');
      await jobyard('devices', 'add', 'web-2', '--site', 'lab', '--internal-ip', '10.0.0.12');
      await jobyard('devices', 'seen', 'web-1');
      await jobyard('devices', 'seen', 'web-2');
      expect(await jobyard('devices', 'list', '--site', 'lab')).toMatch(/web-1 .* online[\s\S]*web-2 .* online/);

      const file = join(dir, `uptime-${ctx.backend}.json`);
      writeFileSync(
        file,
        JSON.stringify({
          name: 'uptime on lab',
          job_kind: 'automation',
          schedule_type: 'immediately',
          targets: { sites: [1] },
          components: [{ kind: 'command', name: 'uptime', argv: ['uptime'], timeout_seconds: 30 }],
        }),
      );
      const jobId = (await jobyard('jobs', 'create', '--file', file)).trim();
      expect(jobId).toBe('1');

      const run = await until(
        async () => {
          const page = JSON.parse(await jobyard('runs', 'list', '--job', jobId, '--json')) as { items: Array<{ id: number; status: string }> };
          const first = page.items[0];
          return first && first.status !== 'Pending' && first.status !== 'Running' ? first : undefined;
        },
        60_000,
        'the run to finish',
      );
      expect(run.status).toBe('Success');
      const shown = await jobyard('runs', 'show', String(run.id));
      expect(shown).toMatch(/web-1\s+resolved: site 1\s+Success\s+0/);
      expect(shown).toMatch(/web-2\s+resolved: site 1\s+Success\s+0/);
      expect(shown).toMatch(/load average/);

      const token = (await jobyard('tokens', 'create', '--role', 'viewer', '--name', 'first-look')).trim();
      const response = await fetch(`${apiUrl}/api/runs/${run.id}`, { headers: { authorization: `Bearer ${token}` } });
      expect(response.status).toBe(200);
      expect(JSON.stringify(await response.json())).toContain('"status":"Success"');
      const forbidden = await fetch(`${apiUrl}/api/sites`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'other' }),
      });
      expect(forbidden.status).toBe(403);

      const audit = JSON.parse(await jobyard('audit', 'list', '--json')) as { items: Array<{ action: string; actor: string }> };
      expect(audit.items.map((a) => a.action).reverse()).toEqual([
        'site.create',
        'device.create',
        'device.create',
        'device.seen',
        'device.seen',
        'job.create',
        'token.create',
      ]);
      expect(new Set(audit.items.map((a) => a.actor)).size).toBe(1);
      expect(audit.items[0]!.actor).toMatch(/^cli:/);
    });
  },
  { migrate: false },
);

/**
 * Human output is safe for a terminal and for pipes: control characters stored in rows are shown
 * escaped (never written raw, where they could drive the operator's terminal), and a reader that
 * goes away early (`| head -1`) ends the command quietly with exit 0 instead of an EPIPE trace.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { beforeEach, expect, it } from 'vitest';
import { checkJobDefinition } from '../../src/schedule/jobs.js';
import { enqueueWorkItems } from '../../src/queue/index.js';
import { describeBackends } from '../helpers/backends.js';
import { JOBYARD_BIN, runJobyard as jobyard } from '../helpers/cli.js';

const NOW = Date.UTC(2099, 0, 1);
const JOB = {
  name: 'plain',
  schedule_type: 'daily',
  start_ts: '2099-12-01T02:30:00Z',
  targets: { hostnames: ['ws-1'] },
  components: [{ kind: 'command', argv: ['true'] }],
};
// An OSC sequence retitles the terminal; CSI 2J clears it; U+202E reverses the text that follows.
const HOSTILE = 'evil\u001b]0;pwned\u0007\u001b[2J\u009b\u202etxt';

describeBackends('CLI output safety', (ctx) => {
  const env = () => ({ DATABASE_URL: ctx.url });
  beforeEach(() => ctx.truncateAll());

  it('escapes control characters of stored values in tables', async () => {
    await ctx.db.insertInto('scheduled_jobs').values({ ...checkJobDefinition(JOB, { now: NOW }), name: HOSTILE }).execute();
    const site = await ctx.db.insertInto('sites').values({ name: 'one', name_lower: 'one', created_at: NOW }).returning('id').executeTakeFirstOrThrow();
    const [enqueued] = await enqueueWorkItems(ctx.store, [{ kind: 'scheduled_run', siteId: site.id, payload: {} }], { now: NOW });
    const item = enqueued!.item;
    await ctx.db.updateTable('job_scheduler_work_items').set({ status: 'dead', error: HOSTILE }).where('id', '=', item.id).execute();

    for (const args of [['jobs', 'list'], ['items', 'list'], ['items', 'show', String(item.id)]]) {
      const r = await jobyard(args, env());
      expect(r).toMatchObject({ code: 0, stderr: '' });
      expect(r.stdout).toContain('evil\\u001b]0;pwned\\u0007\\u001b[2J\\u009b\\u202etxt');
      expect(r.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202e]/);
    }
    // JSON output stays JSON: the same value parses back unchanged.
    const json = await jobyard(['jobs', 'list', '--json'], env());
    expect(JSON.parse(json.stdout).items[0].name).toBe(HOSTILE);
  });

  it('ends quietly with exit 0 when the reader of its output goes away', async () => {
    // Far more than a pipe buffer (64 KiB) of output, so the command is still writing when the reader leaves.
    const row = checkJobDefinition(JOB, { now: NOW });
    for (let i = 0; i < 5; i++) await ctx.db.insertInto('scheduled_jobs').values(Array.from({ length: 500 }, () => row)).execute();
    const child = spawn(process.execPath, [JOBYARD_BIN, 'jobs', 'list', '--limit', '1000'], { env: { ...process.env, ...env() } });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const [first] = (await once(child.stdout, 'data')) as [Buffer];
    expect(first.toString()).toMatch(/^id\s+name/);
    child.stdout.destroy(); // what `head -1` does after its first line
    const [code] = (await once(child, 'exit')) as [number | null];
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  });
});

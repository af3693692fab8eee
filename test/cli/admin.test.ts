/**
 * The admin commands (`status`, `items`, `workers`, `enqueue`) in-process: a commander program
 * with only these commands registered, DATABASE_URL pointing at the test database, stdout
 * captured. Bad input must reject with a one-line UserError whose exitCode is 2 (src/cli/main.ts
 * prints it as `jobyard: <message>` and exits with that code).
 */
import { Command, CommanderError } from 'commander';
import { beforeEach, expect, it } from 'vitest';
import type { WorkItem, Worker } from '../../src/db/schema.js';
import { registerEnqueueCommand } from '../../src/cli/enqueue.js';
import { registerItemsCommand } from '../../src/cli/items.js';
import { registerStatusCommand, type QueueStatus } from '../../src/cli/status.js';
import { registerWorkersCommand } from '../../src/cli/workers.js';
import { toJson } from '../../src/db/dialect.js';
import { UserError } from '../../src/errors.js';
import { createSite } from '../../src/inventory/sites.js';
import { enqueueWorkItem } from '../../src/queue/index.js';
import { describeBackends } from '../helpers/backends.js';
import { cliRunner, useDatabaseUrl } from '../helpers/cli.js';
import { insertJob } from '../helpers/jobs.js';

const STATUSES = 'queued, running, succeeded, failed, dead, cancelled';
const KINDS = 'service_action, onboarding_run, agent_maintenance_run, scheduled_run, scheduled_workflow_run';

const ADMIN_COMMANDS = [registerStatusCommand, registerItemsCommand, registerWorkersCommand, registerEnqueueCommand];
const jobyard = cliRunner(ADMIN_COMMANDS);

/** Runs a command that must succeed; returns its stdout. */
async function ok(args: string[]): Promise<string> {
  const r = await jobyard(args);
  if (r.error) throw r.error;
  return r.stdout;
}

async function json<T>(args: string[]): Promise<T> {
  return JSON.parse(await ok(args)) as T;
}

/** A command that must fail with a one-line UserError, exit code 2, and print nothing. */
async function userError(args: string[]): Promise<string> {
  const r = await jobyard(args);
  expect(r.error).toBeInstanceOf(UserError);
  const err = r.error as UserError;
  expect(err.exitCode).toBe(2);
  expect(err.message).not.toContain('\n');
  expect(r.stdout).toBe('');
  return err.message;
}

describeBackends('jobyard status / items / workers / enqueue', (ctx) => {
  useDatabaseUrl(() => ctx.url);
  beforeEach(() => ctx.truncateAll());

  const items = () => ctx.db.selectFrom('job_scheduler_work_items').selectAll().orderBy('id').execute();
  const site = async (name: string) => (await createSite(ctx.store, { name: `${name}-${Date.now()}-${Math.random()}` })).id;
  const enqueue = async (kind: string, siteId: number | null, extra: Partial<Parameters<typeof enqueueWorkItem>[1]> = {}) =>
    (await enqueueWorkItem(ctx.store, { kind, siteId, payload: { n: 1 }, ...extra })).item;
  const setItem = (id: number, values: Partial<Omit<WorkItem, 'id' | 'payload_json' | 'result_json'>> & { result_json?: string }) =>
    ctx.db.updateTable('job_scheduler_work_items').set(values).where('id', '=', id).execute();
  const worker = (guid: string, siteId: number, status: string, now: number) =>
    ctx.db
      .insertInto('job_scheduler_workers')
      .values({
        worker_guid: guid,
        container_name: `site-worker-${guid}`,
        site_id: siteId,
        status,
        started_at: now - 10_000,
        last_seen_at: now - 1_000,
        current_lanes_json: toJson(['default']),
        stopped_at: status === 'stopped' || status === 'lost' ? now - 500 : null,
        exit_code: status === 'lost' ? 137 : null,
        created_at: now - 20_000,
        updated_at: now,
      })
      .execute();

  it('status --json on an empty database: zeros and nulls', async () => {
    const s = await json<QueueStatus>(['status', '--json']);
    expect(s.work_items).toEqual({
      by_status: { queued: 0, running: 0, succeeded: 0, failed: 0, dead: 0, cancelled: 0 },
      ready: 0,
      delayed: 0,
      by_site: [],
      oldest_queued: null,
      longest_ready_wait_ms: null,
    });
    expect(s.workers).toEqual({ live: 0, by_status: { starting: 0, running: 0, idle: 0 }, by_site: [] });
    expect(s.scheduler).toEqual({ last_run_created_at: null, last_run_age_ms: null, due_jobs: 0, oldest_due_at: null, oldest_due_age_ms: null });
    expect(Math.abs(s.now - Date.now())).toBeLessThan(10_000);
  });

  it('status reports depth by status and site, live workers, the last run, due jobs and the oldest queued item', async () => {
    const now = Date.now();
    const [s1, s2] = [await site('a'), await site('b')];
    const old = await enqueue('scheduled_run', s1);
    await setItem(old.id, { created_at: now - 60_000, available_at: now - 30_000 });
    await enqueue('scheduled_run', s1);
    await enqueue('onboarding_run', s2, { availableAt: now + 3_600_000 }); // delayed
    const running = await enqueue('scheduled_run', s2);
    await setItem(running.id, { status: 'running', lease_owner: 'w', lease_expires_at: now + 60_000 });
    await enqueue('service_action', null);
    for (const status of ['succeeded', 'dead']) {
      const i = await enqueue('scheduled_run', s1);
      await setItem(i.id, { status, finished_at: now });
    }
    await worker('w-run', s1, 'running', now);
    await worker('w-idle', s1, 'idle', now);
    await worker('w-start', s2, 'starting', now);
    await worker('w-stop', s2, 'stopped', now);
    await worker('w-lost', s2, 'lost', now);
    const job = await insertJob(ctx.db, { at: now, name: 'due', next_run_at: now - 120_000 });
    await insertJob(ctx.db, { at: now, name: 'future', next_run_at: now + 120_000 });
    await insertJob(ctx.db, { at: now, name: 'disabled', next_run_at: now - 500_000, enabled: false });
    await ctx.db.insertInto('scheduled_job_runs').values({ job_id: job.id, scheduled_ts: now - 300_000, status: 'Success', created_at: now - 300_000, updated_at: now }).execute();
    await ctx.db.insertInto('scheduled_job_runs').values({ job_id: job.id, scheduled_ts: now - 200_000, status: 'Success', created_at: now - 200_000, updated_at: now }).execute();

    const s = await json<QueueStatus>(['status', '--json']);
    expect(s.work_items.by_status).toEqual({ queued: 4, running: 1, succeeded: 1, failed: 0, dead: 1, cancelled: 0 });
    expect(s.work_items.ready).toBe(3);
    expect(s.work_items.delayed).toBe(1);
    expect(s.work_items.by_site).toEqual([
      { site_id: null, queued: 1, running: 0 },
      { site_id: s1, queued: 2, running: 0 },
      { site_id: s2, queued: 1, running: 1 },
    ]);
    expect(s.work_items.oldest_queued).toMatchObject({ id: old.id, site_id: s1, kind: 'scheduled_run', created_at: now - 60_000 });
    expect(s.work_items.oldest_queued!.age_ms).toBeGreaterThanOrEqual(60_000);
    expect(s.work_items.longest_ready_wait_ms).toBeGreaterThanOrEqual(30_000);
    expect(s.work_items.longest_ready_wait_ms).toBeLessThan(40_000);
    expect(s.workers).toEqual({ live: 3, by_status: { starting: 1, running: 1, idle: 1 }, by_site: [{ site_id: s1, live: 2 }, { site_id: s2, live: 1 }] });
    expect(s.scheduler).toMatchObject({ last_run_created_at: now - 200_000, due_jobs: 1, oldest_due_at: now - 120_000 });
    expect(s.scheduler.last_run_age_ms).toBeGreaterThanOrEqual(200_000);
    expect(s.scheduler.oldest_due_age_ms).toBeGreaterThanOrEqual(120_000);

    const table = await ok(['status']);
    expect(table).toMatch(/^queued\s+4 \(3 ready, 1 delayed\)$/m);
    expect(table).toMatch(/^dead\s+1$/m);
    expect(table).toMatch(/^site\s+queued\s+running$/m);
    expect(table).toMatch(/^none\s+1\s+0$/m);
    expect(table).toMatch(new RegExp(`^${s2}\\s+1\\s+1$`, 'm'));
    expect(table).toMatch(/^total\s+3$/m);
    expect(table).toMatch(new RegExp(`^last occurrence written\\s+${new Date(now - 200_000).toISOString()} \\(3m \\d+s ago\\)$`, 'm'));
    expect(table).toMatch(/^jobs due, not yet ticked\s+1 \(oldest due .* \(2m \d+s ago\)\)$/m);
    expect(table).toMatch(new RegExp(`^oldest queued item\\s+${old.id} \\(scheduled_run, site ${s1}\\), created `, 'm'));
  });

  it('items list filters by status, kind and site, limits, and prints a table', async () => {
    const [s1, s2] = [await site('a'), await site('b')];
    const a = await enqueue('scheduled_run', s1);
    const b = await enqueue('onboarding_run', s2);
    const c = await enqueue('scheduled_run', s2);
    const d = await enqueue('service_action', null);
    await setItem(c.id, { status: 'dead', error: 'boom\nsecond line', attempt_count: 3 });

    const ids = async (args: string[]) => (await json<WorkItem[]>(['items', 'list', ...args, '--json'])).map((i) => i.id);
    expect(await ids([])).toEqual([d.id, c.id, b.id, a.id]);
    expect(await ids(['--status', 'queued'])).toEqual([d.id, b.id, a.id]);
    expect(await ids(['--status', 'dead'])).toEqual([c.id]);
    expect(await ids(['--kind', 'scheduled_run'])).toEqual([c.id, a.id]);
    expect(await ids(['--site', String(s2)])).toEqual([c.id, b.id]);
    expect(await ids(['--site', 'none'])).toEqual([d.id]);
    expect(await ids(['--kind', 'scheduled_run', '--site', String(s2), '--status', 'dead'])).toEqual([c.id]);
    expect(await ids(['--limit', '2'])).toEqual([d.id, c.id]);
    const [row] = await json<WorkItem[]>(['items', 'list', '--site', 'none', '--json']);
    expect(row).toMatchObject({ kind: 'service_action', payload_json: { n: 1 }, status: 'queued', site_id: null });

    const table = (await ok(['items', 'list'])).trimEnd().split('\n');
    expect(table[0]).toMatch(/^id\s+kind\s+site\s+lane\s+status\s+attempts\s+priority\s+available\s+updated\s+error$/);
    expect(table[1]).toMatch(new RegExp(`^${d.id}\\s+service_action\\s+none\\s+default\\s+queued\\s+0/3\\s+100\\s+\\S+Z\\s+\\S+Z$`));
    expect(table[2]).toMatch(new RegExp(`^${c.id}\\s+scheduled_run\\s+${s2}\\s+default\\s+dead\\s+3/3\\s+40\\s+.*boom second line$`));
    expect(await ok(['items', 'list', '--status', 'failed'])).toBe('no work items\n');
  });

  it('items list refuses unknown statuses, kinds, sites and limits, naming the accepted values', async () => {
    expect(await userError(['items', 'list', '--status', 'done'])).toBe(`items list: --status: unknown value "done"; expected one of ${STATUSES}`);
    expect(await userError(['items', 'list', '--kind', 'backup'])).toBe(`items list: --kind: unknown value "backup"; expected one of ${KINDS}`);
    expect(await userError(['items', 'list', '--site', 'abc'])).toMatch(/^items list: --site \(a site id or "none"\): expected a positive integer/);
    expect(await userError(['items', 'list', '--limit', '0'])).toMatch(/^items list: --limit: expected a positive integer up to 1000, got "0"$/);
  });

  it('items show prints every column with payload and result parsed; unknown ids exit 2', async () => {
    const s1 = await site('a');
    const item = await enqueue('scheduled_run', s1, { payload: { nested: { a: [1, 2] }, run_id: 7 }, dedupeKey: 'k-1' });
    await setItem(item.id, { status: 'succeeded', result_json: toJson({ ok: true, count: 2 }), finished_at: 1_800_000_000_000 });
    const shown = await json<Record<string, unknown>>(['items', 'show', String(item.id), '--json']);
    const row = await ctx.db.selectFrom('job_scheduler_work_items').selectAll().where('id', '=', item.id).executeTakeFirstOrThrow();
    expect(Object.keys(shown).sort()).toEqual(Object.keys(row).sort());
    expect(shown).toMatchObject({
      id: item.id,
      dedupe_key: 'k-1',
      payload_json: { run_id: 7, nested: { a: [1, 2] } },
      result_json: { ok: true, count: 2 },
      status: 'succeeded',
      finished_at: 1_800_000_000_000,
    });

    const lines = (await ok(['items', 'show', String(item.id)])).trimEnd().split('\n');
    expect(lines[0]).toMatch(/^column\s+value$/);
    // (keys in an order both backends keep: PostgreSQL's JSONB sorts them by length, then bytes)
    expect(lines).toContainEqual(expect.stringMatching(/^payload_json\s+\{"nested":\{"a":\[1,2\]\},"run_id":7\}$/));
    expect(lines).toContainEqual(expect.stringMatching(/^result_json\s+\{"ok":true,"count":2\}$/));
    expect(lines).toContainEqual(expect.stringMatching(/^finished_at\s+2027-01-15T08:00:00\.000Z \(1800000000000\)$/));
    expect(lines).toContainEqual(expect.stringMatching(/^lease_owner\s+-$/));
    expect(lines).toHaveLength(Object.keys(row).length + 1);

    expect(await userError(['items', 'show', '999999'])).toBe('items show: no work item with id 999999');
    expect(await userError(['items', 'show', 'abc'])).toMatch(/^items show: id: expected a positive integer/);
  });

  it('items retry requeues a finished item with one more attempt, refuses a running one and unknown ids', async () => {
    const s1 = await site('a');
    const dead = await enqueue('scheduled_run', s1);
    await setItem(dead.id, { status: 'dead', attempt_count: 3, finished_at: Date.now(), available_at: Date.now() + 3_600_000 });
    const before = Date.now();
    const retried = await json<WorkItem>(['items', 'retry', String(dead.id), '--json']);
    expect(retried).toMatchObject({ id: dead.id, status: 'queued', attempt_count: 3, max_attempts: 4, finished_at: null });
    expect(retried.available_at).toBeGreaterThanOrEqual(before);
    expect(retried.available_at).toBeLessThanOrEqual(Date.now());
    expect(await ok(['items', 'retry', String(dead.id)])).toBe(`work item ${dead.id} queued, claimable now (attempts used 3 of 4)\n`);

    const running = await enqueue('scheduled_run', s1);
    await setItem(running.id, { status: 'running', lease_owner: 'w', lease_expires_at: Date.now() + 60_000 });
    expect(await userError(['items', 'retry', String(running.id)])).toBe(
      `items retry: work item ${running.id} is running; only an item that is not running can be retried (cancel it first)`,
    );
    expect((await items()).find((i) => i.id === running.id)?.status).toBe('running');
    expect(await userError(['items', 'retry', '999999'])).toBe('items retry: no work item with id 999999');
  });

  it('items cancel cancels queued and running items, refuses finished ones and unknown ids', async () => {
    const s1 = await site('a');
    const queued = await enqueue('scheduled_run', s1);
    const running = await enqueue('scheduled_run', s1);
    await setItem(running.id, { status: 'running', lease_owner: 'w', lease_expires_at: Date.now() + 60_000 });
    expect(await ok(['items', 'cancel', String(queued.id)])).toBe(`work item ${queued.id} cancelled\n`);
    expect(await json<WorkItem>(['items', 'cancel', String(running.id), '--json'])).toMatchObject({
      id: running.id,
      status: 'cancelled',
      lease_owner: null,
      error: 'cancelled by operator',
    });
    expect((await items()).map((i) => i.status)).toEqual(['cancelled', 'cancelled']);
    expect(await userError(['items', 'cancel', String(queued.id)])).toBe(
      `items cancel: work item ${queued.id} is already cancelled; only queued or running items can be cancelled`,
    );
    expect(await userError(['items', 'cancel', '999999'])).toBe('items cancel: no work item with id 999999');
  });

  it('workers list shows live workers; --all adds stopped and lost ones', async () => {
    const now = Date.now();
    const [s1, s2] = [await site('a'), await site('b')];
    await worker('w-run', s1, 'running', now);
    await worker('w-idle', s2, 'idle', now);
    await worker('w-start', s2, 'starting', now + 1);
    await worker('w-stop', s1, 'stopped', now);
    await worker('w-lost', s2, 'lost', now + 2);
    const live = await json<Worker[]>(['workers', 'list', '--json']);
    expect(live.map((w) => [w.worker_guid, w.status])).toEqual([
      ['w-run', 'running'],
      ['w-idle', 'idle'],
      ['w-start', 'starting'],
    ]);
    expect(live[0]).toMatchObject({ site_id: s1, current_lanes_json: ['default'], container_name: 'site-worker-w-run' });
    const all = await json<Worker[]>(['workers', 'list', '--all', '--json']);
    expect(all.map((w) => w.worker_guid).sort()).toEqual(['w-idle', 'w-lost', 'w-run', 'w-start', 'w-stop']);
    expect(all.find((w) => w.worker_guid === 'w-lost')).toMatchObject({ status: 'lost', exit_code: 137 });

    const table = (await ok(['workers', 'list'])).trimEnd().split('\n');
    expect(table[0]).toMatch(/^worker\s+site\s+status\s+lanes\s+claimed\s+started\s+last seen\s+idle since$/);
    expect(table[1]).toMatch(new RegExp(`^w-run\\s+${s1}\\s+running\\s+default\\s+0\\s+\\S+Z\\s+\\S+Z\\s+-$`));
    expect(table).toHaveLength(4);
    const allTable = (await ok(['workers', 'list', '--all'])).trimEnd().split('\n');
    expect(allTable[0]).toMatch(/idle since\s+stopped\s+exit\s+docker state$/);
    expect(allTable).toContainEqual(expect.stringMatching(/^w-lost\s+.*\s+lost\s+.*\s+137\s+-$/));
    await ctx.db.deleteFrom('job_scheduler_workers').execute();
    expect(await ok(['workers', 'list'])).toBe('no live workers\n');
  });

  it('enqueue creates an item with the kind\'s defaults, then deduplicates a repeated key', async () => {
    const s1 = await site('a');
    const before = Date.now();
    const first = await json<{ id: number; created: boolean; item: WorkItem }>([
      'enqueue', '--kind', 'scheduled_run', '--site', String(s1), '--payload', '{"run_id": 5, "note": "x"}', '--dedupe-key', 'manual:1', '--json',
    ]);
    expect(first.created).toBe(true);
    expect(first.item).toMatchObject({ id: first.id, kind: 'scheduled_run', site_id: s1, lane: 'default', priority: 40, max_attempts: 3, status: 'queued', dedupe_key: 'manual:1', payload_json: { run_id: 5, note: 'x' } });
    expect(first.item.available_at).toBeGreaterThanOrEqual(before);

    const again = await ok(['enqueue', '--kind', 'scheduled_run', '--site', String(s1), '--payload', '{"other": true}', '--dedupe-key', 'manual:1']);
    expect(again).toBe(`${first.id} deduplicated: dedupe key "manual:1" already held by this queued scheduled_run item; nothing created\n`);
    expect(await items()).toHaveLength(1);

    const second = await ok(['enqueue', '--kind', 'onboarding_run', '--site', String(s1), '--payload', '{}', '--priority', '-5', '--lane', 'slow', '--available-at', '2030-01-02T03:04:05+01:00']);
    expect(second).toMatch(/^\d+ created\n$/);
    const row = (await items()).find((i) => i.id === Number(second.split(' ')[0]))!;
    expect(row).toMatchObject({ kind: 'onboarding_run', priority: -5, lane: 'slow', available_at: Date.UTC(2030, 0, 2, 2, 4, 5), payload_json: {} });

    const third = await json<{ item: WorkItem }>(['enqueue', '--kind', 'scheduled_run', '--site', String(s1), '--payload', '{}', '--available-at', '1900000000000', '--json']);
    expect(third.item.available_at).toBe(1_900_000_000_000);
    const service = await json<{ created: boolean; item: WorkItem }>(['enqueue', '--kind', 'service_action', '--site', 'none', '--payload', '{"action":"restart","service":"p/s"}', '--json']);
    expect(service).toMatchObject({ created: true, item: { site_id: null, priority: 100 } });
  });

  it('enqueue refuses bad input with one line, exit 2, and writes nothing', async () => {
    const s1 = await site('a');
    const base = (over: Record<string, string>) => {
      const o: Record<string, string> = { '--kind': 'scheduled_run', '--site': String(s1), '--payload': '{}', ...over };
      return ['enqueue', ...Object.entries(o).flat()];
    };
    expect(await userError(base({ '--kind': 'backup' }))).toBe(`enqueue: --kind: unknown value "backup"; expected one of ${KINDS}`);
    expect(await userError(base({ '--payload': '[1,2]' }))).toBe('enqueue: --payload: must be a JSON object, got an array');
    expect(await userError(base({ '--payload': '"text"' }))).toBe('enqueue: --payload: must be a JSON object, got string');
    const broken = await userError(base({ '--payload': '{"api_key": s3cr3t}' }));
    expect(broken).toMatch(/^enqueue: --payload: not valid JSON/);
    expect(broken).not.toContain('s3cr3t');
    expect(await userError(base({ '--payload': '{"db": {"password": "hunter2"}, "apiKey": "x"}' }))).toBe(
      'enqueue: --payload: secrets never enter payload_json; remove db.password, apiKey and pass a credential id instead',
    );
    expect(await userError(base({ '--priority': 'high' }))).toBe('enqueue: --priority: expected an integer from -2147483648 to 2147483647, got "high"');
    expect(await userError(base({ '--priority': '1.5' }))).toBe('enqueue: --priority: expected an integer from -2147483648 to 2147483647, got "1.5"');
    for (const bad of ['tomorrow', '2026-02-30T00:00:00Z', '2026-12-01T02:30:00', '-5', '1e12']) {
      expect(await userError(base({ '--available-at': bad }))).toMatch(/^enqueue: --available-at: expected epoch milliseconds or an ISO-8601 date-time/);
    }
    expect(await userError(base({ '--site': '999999' }))).toBe('enqueue: --site: no site with id 999999');
    expect(await userError(base({ '--site': 'x' }))).toMatch(/^enqueue: --site \(a site id or "none"\): expected a positive integer/);
    expect(await userError(base({ '--site': 'none' }))).toBe('enqueue: --site: scheduled_run items run on a site\'s worker; pass a site id (only service_action takes "none")');
    expect(await userError(base({ '--kind': 'service_action' }))).toBe('enqueue: --site: service_action items are site-less (the scheduler runs them); pass --site none');
    expect(await userError(base({ '--dedupe-key': ' ' }))).toBe('enqueue: --dedupe-key: must not be empty');
    expect(await userError(base({ '--lane': '' }))).toBe('enqueue: --lane: must not be empty');

    const missing = await jobyard(['enqueue', '--kind', 'scheduled_run', '--site', String(s1)]);
    expect(missing.error).toBeInstanceOf(CommanderError); // main.ts turns it into exit 2
    expect((missing.error as CommanderError).message).toContain("required option '--payload <json>' not specified");
    expect(await items()).toEqual([]);
  });
});

it('every subcommand\'s --help lists every option, each naming its default (or that it is required)', async () => {
  const program = new Command('jobyard');
  for (const register of ADMIN_COMMANDS) register(program);
  const leaves: Command[] = [];
  const walk = (c: Command) => (c.commands.length === 0 ? leaves.push(c) : c.commands.forEach(walk));
  walk(program);
  expect(leaves.map((c) => `${c.parent?.name() === 'jobyard' ? '' : `${c.parent?.name()} `}${c.name()}`).sort()).toEqual(
    ['enqueue', 'items cancel', 'items list', 'items retry', 'items show', 'status', 'workers list'],
  );
  for (const cmd of leaves) {
    const path = cmd.parent?.name() === 'jobyard' ? [cmd.name()] : [cmd.parent!.name(), cmd.name()];
    const { stdout, error } = await jobyard([...path, '--help']);
    expect((error as CommanderError).exitCode).toBe(0);
    for (const option of cmd.options) expect(stdout).toContain(option.flags);
    const optionLines = stdout.split('\n').filter((l) => /^\s+-/.test(l) && !l.includes('--help'));
    expect(optionLines).toHaveLength(cmd.options.length);
    for (const line of optionLines) expect(line, `${path.join(' ')}: ${line}`).toMatch(/\(default: |\(required\)/);
  }
});

/**
 * `jobyard sites|devices|filters` in-process on both backends: every command, its JSON output,
 * its audit row, and its bad inputs (one-line UserError, exit code 2, nothing written — the
 * tables and the audit log are compared before and after).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { afterAll, beforeEach, expect, it } from 'vitest';
import { registerDevicesCommand } from '../../src/cli/devices.js';
import { registerFiltersCommand } from '../../src/cli/filters.js';
import { registerSitesCommand } from '../../src/cli/sites.js';
import { toJson } from '../../src/db/dialect.js';
import { ConflictError, UserError } from '../../src/errors.js';
import { conflictOnDuplicate } from '../../src/inventory/unique.js';
import { enqueueWorkItem } from '../../src/queue/index.js';
import { describeBackends } from '../helpers/backends.js';
import { cliRunner, useDatabaseUrl } from '../helpers/cli.js';

const jobyard = cliRunner([registerSitesCommand, registerDevicesCommand, registerFiltersCommand]);
const dir = mkdtempSync(join(tmpdir(), 'jobyard-inventory-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
function file(name: string, content: unknown): string {
  const path = join(dir, `${++files}-${name}`);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

async function ok(args: string[]): Promise<string> {
  const r = await jobyard(args);
  if (r.error) throw r.error;
  return r.stdout;
}
const json = async <T = any>(args: string[]): Promise<T> => JSON.parse(await ok(args)) as T;

/** Must fail with a one-line UserError (exit 2); returns its message. */
async function refused(args: string[]): Promise<{ message: string; stdout: string }> {
  const r = await jobyard(args);
  expect(r.error).toBeInstanceOf(UserError);
  const err = r.error as UserError;
  expect(err.exitCode).toBe(2);
  expect(err.message).not.toContain('\n');
  return { message: err.message, stdout: r.stdout };
}

describeBackends('jobyard sites / devices / filters', (ctx) => {
  useDatabaseUrl(() => ctx.url);
  beforeEach(() => ctx.truncateAll());

  /** Every inventory row and audit row, to prove a refused command wrote nothing. */
  const state = async () => ({
    sites: await ctx.db.selectFrom('sites').selectAll().orderBy('id').execute(),
    devices: await ctx.db.selectFrom('devices').selectAll().orderBy('guid').execute(),
    device_sites: await ctx.db.selectFrom('device_sites').selectAll().orderBy('device_hostname').execute(),
    filters: await ctx.db.selectFrom('device_filters').selectAll().orderBy('id').execute(),
    filter_sites: await ctx.db.selectFrom('device_filter_sites').selectAll().orderBy('filter_id').execute(),
    audit: await ctx.db.selectFrom('audit_log').selectAll().orderBy('id').execute(),
  });
  async function writesNothing(args: string[]): Promise<string> {
    const before = await state();
    const { message } = await refused(args);
    expect(await state()).toEqual(before);
    return message;
  }
  const audit = () => ctx.db.selectFrom('audit_log').select(['actor', 'action', 'object_type', 'object_id', 'summary_json']).orderBy('id').execute();

  it('sites: create, list, show, rename — each write audited with the CLI actor', async () => {
    const paris = await json(['sites', 'create', 'paris', '--description', 'HQ', '--json']);
    expect(paris).toMatchObject({ name: 'paris', description: 'HQ', devices: 0 });
    expect(await ok(['sites', 'create', 'lyon'])).toMatch(/^site \d+ created: lyon\n$/);
    const page = await json(['sites', 'list', '--limit', '1', '--json']);
    expect(page.items.map((s: any) => s.name)).toEqual(['paris']);
    expect((await json(['sites', 'list', '--cursor', page.next_cursor, '--json'])).items.map((s: any) => s.name)).toEqual(['lyon']);
    expect(await ok(['sites', 'list'])).toMatch(/paris\s+0/);
    expect(await json(['sites', 'show', 'PARIS', '--json'])).toMatchObject({ id: paris.id, devices: 0, usage: expect.arrayContaining([{ what: 'live workers', count: 0 }]) });
    expect(await ok(['sites', 'rename', String(paris.id), 'Paris-HQ'])).toBe(`site ${paris.id} renamed: Paris-HQ\n`);
    const rows = await audit();
    expect(rows.map((r) => r.action)).toEqual(['site.create', 'site.create', 'site.rename']);
    expect(rows[0]!.actor).toMatch(/^cli:/);
    expect(rows[2]).toMatchObject({ object_type: 'site', object_id: String(paris.id), summary_json: { from: 'paris', to: 'Paris-HQ' } });
  });

  it('a writer that loses a race for a unique name gets the same conflict as a pre-check would give', async () => {
    const insert = () => ctx.db.insertInto('sites').values({ name: 'twin', name_lower: 'twin', created_at: 1 }).execute();
    await insert();
    await expect(conflictOnDuplicate(ctx.store, 'name', insert)).rejects.toThrow(new ConflictError('name: already taken (another write took it at the same moment); nothing was written'));
  });

  it('sites: bad input is one line naming the field, and writes nothing', async () => {
    await ok(['sites', 'create', 'paris']);
    expect(await writesNothing(['sites', 'create', 'PARIS'])).toMatch(/^name: a site named "paris" already exists \(id \d+\)$/);
    expect(await writesNothing(['sites', 'create', ' '])).toBe('name: required; a non-empty site name');
    expect(await writesNothing(['sites', 'rename', 'nowhere', 'x'])).toBe('site: no site "nowhere"');
    expect(await writesNothing(['sites', 'rename', 'paris', 'a\u0007b'])).toBe('name: must not contain control characters');
    expect(await writesNothing(['sites', 'list', '--limit', '0'])).toMatch(/^sites list: --limit: expected a positive integer/);
    expect(await writesNothing(['sites', 'list', '--cursor', 'nope'])).toMatch(/^cursor: not a cursor this list returned/);
    expect(await writesNothing(['sites', 'delete', '999'])).toBe('site: no site "999"');
  });

  it('sites delete is refused with the counts while work items, live workers, jobs, filters, credentials or devices use the site', async () => {
    const site = await json(['sites', 'create', 'busy', '--json']);
    const now = Date.now();
    await enqueueWorkItem(ctx.store, { kind: 'scheduled_run', siteId: site.id, payload: { n: 1 } });
    const done = await enqueueWorkItem(ctx.store, { kind: 'scheduled_run', siteId: site.id, payload: { n: 2 } });
    await ctx.db.updateTable('job_scheduler_work_items').set({ status: 'succeeded', finished_at: now }).where('id', '=', done.item.id).execute();
    await ctx.db.insertInto('job_scheduler_workers').values({ worker_guid: 'w1', site_id: site.id, status: 'running', current_lanes_json: toJson(null), created_at: now, updated_at: now }).execute();
    await ctx.db.insertInto('job_scheduler_workers').values({ worker_guid: 'w2', site_id: site.id, status: 'stopped', current_lanes_json: toJson(null), created_at: now, updated_at: now }).execute();
    const job = await ctx.db
      .insertInto('scheduled_jobs')
      .values({ name: 'j', components_json: toJson([]), targets_json: toJson({ sites: [site.id] }), schedule_type: 'daily', created_at: now, updated_at: now })
      .returning('id')
      .executeTakeFirstOrThrow();
    const filter = await json(['filters', 'create', '--file', file('f.json', { name: 'f', site_mode: 'specific', sites: [site.id], criteria: { rules: [] } }), '--json']);
    await ctx.db.insertInto('credentials').values({ name: 'c', site_id: site.id, created_at: now, updated_at: now }).execute();
    await ok(['devices', 'add', 'ws-1', '--site', 'busy']);

    expect(await writesNothing(['sites', 'delete', 'busy'])).toBe(
      `site ${site.id} ("busy") is still in use: 1 unfinished work items, 1 live workers, 1 scheduled jobs (#${job.id}), 1 device filters (#${filter.id}), 1 credentials (#1), ` +
        '1 assigned devices (delete with --unassign-devices, or unassign_devices=true in the API, to unassign them); nothing was deleted',
    );
    const shown = await json(['sites', 'show', 'busy', '--json']);
    expect(shown.usage.map((u: any) => [u.what, u.count])).toEqual([
      ['unfinished work items', 1],
      ['live workers', 1],
      ['scheduled jobs', 1],
      ['device filters', 1],
      ['credentials', 1],
    ]);
  });

  it('sites delete: a site nothing uses goes; --unassign-devices unassigns its devices', async () => {
    const empty = await json(['sites', 'create', 'empty', '--json']);
    expect(await ok(['sites', 'delete', 'empty'])).toBe(`site ${empty.id} deleted: empty\n`);
    await ok(['sites', 'create', 'withdevices']);
    await ok(['devices', 'add', 'ws-1', '--site', 'withdevices']);
    expect(await json(['sites', 'delete', 'withdevices', '--unassign-devices', '--json'])).toMatchObject({ unassigned_devices: 1 });
    expect(await json(['devices', 'show', 'ws-1', '--json'])).toMatchObject({ site_id: null, site_name: null });
    expect((await audit()).filter((r) => r.action === 'site.delete').map((r) => r.summary_json)).toEqual([
      { name: 'empty', unassigned_devices: 0 },
      { name: 'withdevices', unassigned_devices: 1 },
    ]);
  });

  it('devices: add, show, update (rename keeps the site), list and search, remove — audited', async () => {
    const paris = await json(['sites', 'create', 'paris', '--json']);
    await ok(['sites', 'create', 'lyon']);
    const added = await json(['devices', 'add', 'ws-1', '--site', 'paris', '--internal-ip', '10.0.0.1', '--operating-system', 'Ubuntu', '--guid', 'g-1', '--json']);
    expect(added).toMatchObject({ guid: 'g-1', hostname: 'ws-1', site_id: paris.id, site_name: 'paris', state: 'offline', last_seen: null, internal_ip: '10.0.0.1' });
    await ok(['devices', 'add', 'db-1', '--site', 'lyon']);
    await ok(['devices', 'add', 'spare']);
    await ok(['devices', 'seen', 'ws-1']);

    expect((await json(['devices', 'show', 'WS-1', '--json'])).state).toBe('online');
    expect((await json(['devices', 'list', '--state', 'online', '--json'])).items.map((d: any) => d.hostname)).toEqual(['ws-1']);
    expect((await json(['devices', 'list', '--state', 'offline', '--json'])).items.map((d: any) => d.hostname)).toEqual(['db-1', 'spare']);
    expect((await json(['devices', 'list', '--hostname', 'S-', '--json'])).items.map((d: any) => d.hostname)).toEqual(['ws-1']);
    expect((await json(['devices', 'list', '--hostname', '%', '--json'])).items).toEqual([]);
    expect((await json(['devices', 'list', '--site', 'lyon', '--json'])).items.map((d: any) => d.hostname)).toEqual(['db-1']);
    expect((await json(['devices', 'list', '--site', 'none', '--json'])).items.map((d: any) => d.hostname)).toEqual(['spare']);
    const first = await json(['devices', 'list', '--limit', '2', '--json']);
    expect(first.items.map((d: any) => d.hostname)).toEqual(['db-1', 'spare']);
    expect((await json(['devices', 'list', '--cursor', first.next_cursor, '--json'])).items.map((d: any) => d.hostname)).toEqual(['ws-1']);
    expect(await ok(['devices', 'list', '--hostname', 'ws'])).toMatch(/ws-1\s+paris \(\d+\)\s+online/);

    const renamed = await json(['devices', 'update', 'ws-1', '--hostname', 'ws-01', '--operating-system', '', '--external-ip', '2001:db8::1', '--json']);
    expect(renamed).toMatchObject({ hostname: 'ws-01', site_name: 'paris', operating_system: null, external_ip: '2001:db8::1' });
    expect(await json(['devices', 'update', 'g-1', '--site', 'none', '--json'])).toMatchObject({ site_id: null });
    expect(await ok(['devices', 'remove', 'ws-01'])).toBe('device ws-01 removed\n');
    expect(await ctx.db.selectFrom('device_sites').select('device_hostname').orderBy('device_hostname').execute()).toEqual([{ device_hostname: 'db-1' }]);
    expect((await audit()).map((r) => r.action).filter((a) => a.startsWith('device.'))).toEqual([
      'device.create',
      'device.create',
      'device.create',
      'device.seen',
      'device.update',
      'device.update',
      'device.delete',
    ]);
  });

  it('devices: bad input is one line naming the field, and writes nothing', async () => {
    await ok(['sites', 'create', 'paris']);
    await ok(['devices', 'add', 'ws-1']);
    expect(await writesNothing(['devices', 'add', 'WS-1'])).toMatch(/^hostname: a device named "ws-1" already exists/);
    expect(await writesNothing(['devices', 'add', 'ws 2'])).toMatch(/^hostname: "ws 2" is not a hostname/);
    expect(await writesNothing(['devices', 'add', 'ws-2', '--site', 'lyon'])).toBe('site: no site "lyon"');
    expect(await writesNothing(['devices', 'add', 'ws-2', '--internal-ip', '10.0.0.300', '--external-ip', 'x'])).toBe(
      'internal_ip: "10.0.0.300" is not an IPv4 or IPv6 address; external_ip: "x" is not an IPv4 or IPv6 address',
    );
    expect(await writesNothing(['devices', 'update', 'nope', '--status', 'x'])).toBe('device: no device with hostname or guid "nope"');
    expect(await writesNothing(['devices', 'update', 'ws-1'])).toMatch(/^devices update: nothing to change/);
    expect(await writesNothing(['devices', 'remove', 'nope'])).toBe('device: no device with hostname or guid "nope"');
    expect(await writesNothing(['devices', 'list', '--state', 'asleep'])).toBe('devices list: --state: unknown value "asleep"; expected one of online, offline');
    expect(await writesNothing(['devices', 'seen', 'ghost'])).toBe('hostname: no device named "ghost"; seen reports do not create devices (add it with jobyard devices add)');
    expect(await writesNothing(['devices', 'seen', 'ws-1', '--at', 'yesterday'])).toMatch(/^last_seen: expected epoch milliseconds or an ISO-8601 date-time/);
    expect(await writesNothing(['devices', 'seen', 'ws-1', '--at', '2999-01-01T00:00:00Z'])).toMatch(/^last_seen: 2999-01-01T00:00:00.000Z is in the future/);
  });

  it('devices seen: single and bulk; last_seen never goes backwards; unknown hostnames are reported, not created', async () => {
    await ok(['devices', 'add', 'ws-1']);
    await ok(['devices', 'add', 'ws-2']);
    const t1 = Date.UTC(2026, 0, 2);
    expect(await json(['devices', 'seen', 'ws-1', '--at', new Date(t1).toISOString(), '--internal-ip', '10.1.1.1', '--json'])).toEqual({
      updated: [{ hostname: 'ws-1', guid: expect.any(String), last_seen: t1 }],
      unknown: [],
    });
    const csv = file('seen.csv', `hostname,last_seen,external_ip\nws-1,${t1 - 1000},\nWS-2,${t1},203.0.113.5\nghost,${t1},\n`);
    const result = await json(['devices', 'seen', '--file', csv, '--json']);
    expect(result).toEqual({
      updated: [
        { hostname: 'ws-1', guid: expect.any(String), last_seen: t1 },
        { hostname: 'ws-2', guid: expect.any(String), last_seen: t1 },
      ],
      unknown: ['ghost'],
    });
    expect(await ctx.db.selectFrom('devices').select(['hostname', 'last_seen', 'internal_ip', 'external_ip']).orderBy('hostname').execute()).toEqual([
      { hostname: 'ws-1', last_seen: t1, internal_ip: '10.1.1.1', external_ip: null },
      { hostname: 'ws-2', last_seen: t1, internal_ip: null, external_ip: '203.0.113.5' },
    ]);
    expect(await ok(['devices', 'seen', '--file', file('seen.json', [{ hostname: 'ghost' }])])).toBe('ghost: unknown hostname, not created\n');
    const bad = file('bad.json', [{ hostname: 'ws-1' }, { hostname: 'ws-2', internal_ip: 'no' }]);
    expect(await writesNothing(['devices', 'seen', '--file', bad])).toBe('entry 2: internal_ip: "no" is not an IPv4 or IPv6 address');
  });

  it('devices import: a dry run reports line by line and writes nothing; a bad line applies nothing; a good file applies all in one go', async () => {
    await ok(['sites', 'create', 'paris']);
    await ok(['sites', 'create', 'lyon']);
    await ok(['devices', 'add', 'ws-1', '--site', 'paris', '--operating-system', 'Linux']);
    const csv = file('devices.csv', 'hostname,site,operating_system,internal_ip\nws-1,lyon,,\nws-2,paris,Windows,10.0.0.2\nws-3,,,\n\nws-4,nowhere,,\nws-5,paris,,not-an-ip\n');

    const before = await state();
    const dry = await jobyard(['devices', 'import', csv, '--dry-run']);
    expect(dry.stdout).toBe(
      [
        'line 2: change ws-1: site 1 → 2',
        'line 3: add ws-2 (site paris)',
        'line 4: add ws-3',
        'line 6: refused: site: no site "nowhere"',
        'line 7: refused: internal_ip: "not-an-ip" is not an IPv4 or IPv6 address',
        'dry run: 2 to add, 1 to change, 0 unchanged, 2 refused; nothing written',
        '',
      ].join('\n').replace('site 1 → 2', `site ${before.sites[0]!.id} → ${before.sites[1]!.id}`),
    );
    expect((dry.error as UserError).message).toBe('devices import: 2 of 5 records refused (see the report above)');
    expect(await state()).toEqual(before);

    const apply = await refused(['devices', 'import', csv]);
    expect(apply.message).toBe('devices import: 2 of 5 records refused; nothing was imported (see the report above)');
    expect(await state()).toEqual(before);

    const good = file('devices.json', [{ hostname: 'ws-1', site: 'lyon' }, { hostname: 'ws-2', site: 'paris', operating_system: 'Windows', internal_ip: '10.0.0.2' }, { hostname: 'ws-3' }]);
    const report = await json(['devices', 'import', good, '--json']);
    expect(report).toMatchObject({ dry_run: false, applied: true, added: 2, changed: 1, unchanged: 0, refused: 0 });
    expect((await json(['devices', 'list', '--site', 'lyon', '--json'])).items.map((d: any) => d.hostname)).toEqual(['ws-1']);
    expect((await json(['devices', 'show', 'ws-2', '--json'])).operating_system).toBe('Windows');
    const imported = (await audit()).filter((r) => r.action === 'device.import');
    expect(imported.map((r) => r.summary_json)).toEqual([{ added: 2, changed: 1, unchanged: 0, added_hostnames: ['ws-2', 'ws-3'], changed_hostnames: ['ws-1'] }]);
    expect(await ok(['devices', 'import', good, '--dry-run'])).toContain('dry run: 0 to add, 0 to change, 3 unchanged, 0 refused; nothing written');
  });

  it('devices import: unreadable or unnamed formats are one line and write nothing', async () => {
    expect(await writesNothing(['devices', 'import', join(dir, 'missing.csv')])).toMatch(/^devices import: cannot read .*missing\.csv/);
    expect(await writesNothing(['devices', 'import', file('devices.txt', 'hostname\nws-1\n')])).toMatch(/^devices import: --format: required/);
    expect(await writesNothing(['devices', 'import', file('x.csv', 'hostname\nws-1\n'), '--format', 'xml'])).toBe('devices import: --format: unknown value "xml"; expected one of csv, json');
    expect(await writesNothing(['devices', 'import', file('x.json', '{"devices": 3}')])).toBe('file: expected a JSON array of device objects (or { "devices": [...] })');
  });

  it('filters: create, update, list, show (and its definition round-trips), test, delete — audited', async () => {
    const paris = await json(['sites', 'create', 'paris', '--json']);
    await ok(['devices', 'add', 'web-1', '--site', 'paris', '--operating-system', 'Ubuntu Linux']);
    await ok(['devices', 'add', 'web-2', '--site', 'paris', '--operating-system', 'Windows']);
    await ok(['devices', 'seen', 'web-1']);
    const definition = { name: 'linux', criteria: { match: 'all', rules: [{ field: 'operating_system', operator: 'contains', value: 'linux' }] } };
    const created = await json(['filters', 'create', '--file', file('f.json', definition), '--json']);
    expect(created).toMatchObject({ name: 'linux', criteria_mode: 'basic', site_mode: 'all', sites: [], archived: false, problems: [], last_edited_by: expect.stringMatching(/^cli:/) });

    const tested = await json(['filters', 'test', String(created.id), '--json']);
    expect(tested.matches).toEqual([
      { guid: expect.any(String), hostname: 'web-1', site_id: paris.id, state: 'online', reasons: ['criteria.rules.0: operating_system contains "linux" (device has "Ubuntu Linux")', 'any site (site_mode all)'] },
    ]);
    expect(tested.near_misses.map((d: any) => d.hostname)).toEqual(['web-2']);
    expect(await ok(['filters', 'test', String(created.id)])).toContain('filter 1 (linux) matches 1 of 2 devices'.replace('filter 1', `filter ${created.id}`));

    const updated = await json(['filters', 'update', String(created.id), '--file', file('g.json', { ...definition, name: 'linux-paris', site_mode: 'specific', sites: [paris.id] }), '--json']);
    expect(updated).toMatchObject({ name: 'linux-paris', site_mode: 'specific', sites: [paris.id] });
    const exported = file('export.json', await ok(['filters', 'show', String(created.id), '--definition']));
    expect(await json(['filters', 'update', String(created.id), '--file', exported, '--json'])).toMatchObject({ name: 'linux-paris', sites: [paris.id] });
    expect((await json(['filters', 'list', '--json'])).items.map((f: any) => f.name)).toEqual(['linux-paris']);
    expect(await ok(['filters', 'show', String(created.id)])).toMatch(/site_mode\s+specific/);
    expect(await ok(['filters', 'delete', String(created.id)])).toBe(`filter ${created.id} deleted: linux-paris\n`);
    expect((await audit()).map((r) => r.action).filter((a) => a.startsWith('filter.'))).toEqual(['filter.create', 'filter.update', 'filter.update', 'filter.delete']);
  });

  it('filters: problems name the rule and field; a referenced filter cannot be deleted; nothing written', async () => {
    const f = file('bad.json', { name: 'bad', criteria: { rules: [{ field: 'operating_system', operator: 'like', value: 'x' }] } });
    expect(await writesNothing(['filters', 'create', '--file', f])).toBe(
      'criteria.rules.0.operator: unknown value "like"; expected one of equals, not_equals, contains, not_contains, starts_with, ends_with, in, is_empty, is_not_empty',
    );
    expect(await writesNothing(['filters', 'create', '--file', file('s.json', { name: 'x', site_mode: 'specific', sites: [999], criteria: { rules: [] } })])).toBe('sites: no site with id 999');
    expect(await writesNothing(['filters', 'create', '--file', file('broken.json', '{"name": "secret-word"')])).toMatch(/^filters create: --file: .* is not valid JSON/);
    const created = await json(['filters', 'create', '--file', file('ok.json', { name: 'all', criteria: { rules: [] } }), '--json']);
    expect(await writesNothing(['filters', 'create', '--file', file('dup.json', { name: 'ALL', criteria: { rules: [] } })])).toBe(`name: a device filter named "all" already exists (id ${created.id})`);
    expect(await writesNothing(['filters', 'update', '999', '--file', file('ok2.json', { name: 'y', criteria: { rules: [] } })])).toBe('filter: no device filter with id 999');
    expect(await writesNothing(['filters', 'test', '999'])).toBe('filter: no device filter with id 999');
    expect(await writesNothing(['filters', 'show', 'abc'])).toMatch(/^filters show: id: expected a positive integer/);
    const now = Date.now();
    const job = await ctx.db
      .insertInto('scheduled_jobs')
      .values({ name: 'j', components_json: toJson([]), targets_json: toJson({ filters: [created.id] }), schedule_type: 'daily', created_at: now, updated_at: now })
      .returning('id')
      .executeTakeFirstOrThrow();
    expect(await writesNothing(['filters', 'delete', String(created.id)])).toBe(`filter ${created.id} ("all") is still in use: 1 scheduled jobs (#${job.id}); nothing was deleted`);
  });
});

it('every inventory subcommand\'s --help lists every option, each naming its default (or that it is required)', async () => {
  const program = new Command('jobyard');
  for (const register of [registerSitesCommand, registerDevicesCommand, registerFiltersCommand]) register(program);
  const leaves: Command[] = [];
  const walk = (c: Command) => (c.commands.length === 0 ? leaves.push(c) : c.commands.forEach(walk));
  walk(program);
  expect(leaves.map((c) => `${c.parent!.name()} ${c.name()}`).sort()).toEqual([
    'devices add', 'devices import', 'devices list', 'devices remove', 'devices seen', 'devices show', 'devices update',
    'filters create', 'filters delete', 'filters list', 'filters show', 'filters test', 'filters update',
    'sites create', 'sites delete', 'sites list', 'sites rename', 'sites show',
  ]);
  for (const cmd of leaves) {
    const { stdout, error } = await jobyard([cmd.parent!.name(), cmd.name(), '--help']);
    expect((error as CommanderError).exitCode).toBe(0);
    const optionLines = stdout.split('\n').filter((l) => /^\s+-/.test(l) && !l.includes('--help'));
    expect(optionLines).toHaveLength(cmd.options.length);
    for (const line of optionLines) expect(line, `${cmd.name()}: ${line}`).toMatch(/\(default: |\(required\)/);
  }
});

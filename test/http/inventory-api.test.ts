/**
 * /api/sites, /api/devices, /api/filters on both backends: every route, its role (GET viewer,
 * writes operator), its audit row with the token's actor, and its bad inputs (400 naming the
 * field, 404, 409 — nothing written, checked by comparing the tables before and after).
 */
import { beforeEach, expect, it } from 'vitest';
import { toJson } from '../../src/db/dialect.js';
import { checkHostKey, deviceSubject } from '../../src/executors/ssh/host-keys.js';
import { enqueueWorkItem } from '../../src/queue/index.js';
import { describeBackends } from '../helpers/backends.js';
import { API_T0, useApiServer, type ApiReply, type ApiRequest } from '../helpers/http.js';

describeBackends('inventory API', (ctx) => {
  const api = useApiServer(ctx);
  beforeEach(async () => {
    await ctx.truncateAll();
    await api.resetTokens();
  });

  const state = async () => ({
    sites: await ctx.db.selectFrom('sites').selectAll().orderBy('id').execute(),
    devices: await ctx.db.selectFrom('devices').selectAll().orderBy('guid').execute(),
    device_sites: await ctx.db.selectFrom('device_sites').selectAll().orderBy('device_hostname').execute(),
    filters: await ctx.db.selectFrom('device_filters').selectAll().orderBy('id').execute(),
    audit: await ctx.db.selectFrom('audit_log').selectAll().orderBy('id').execute(),
  });
  /** A request that must fail with `status` and change nothing; returns the error body. */
  async function refused(status: number, path: string, init: ApiRequest = {}): Promise<{ error: string; problems?: string[] }> {
    const before = await state();
    const r = await api.request(path, { role: 'operator', ...init });
    expect({ status: r.status, body: r.json }).toMatchObject({ status, body: { error: expect.any(String) } });
    expect(await state()).toEqual(before);
    return r.json;
  }
  const ok = async (path: string, init: ApiRequest = {}, status = 200): Promise<any> => {
    const r: ApiReply = await api.request(path, { role: 'operator', ...init });
    expect({ status: r.status, body: r.json }).toMatchObject({ status });
    return r.json;
  };
  /** Audit rows of the inventory (the test tokens' own rows left out). */
  const actions = async () =>
    (await ctx.db.selectFrom('audit_log').select(['actor', 'action']).where('action', 'not like', 'token.%').orderBy('id').execute()).map((r) => `${r.actor} ${r.action}`);

  it('sites: create, list, show, rename, delete; viewers read, only operators write', async () => {
    const paris = await ok('/api/sites', { json: { name: 'paris', description: 'HQ' } }, 201);
    expect(paris).toMatchObject({ name: 'paris', description: 'HQ', devices: 0 });
    expect((await api.request('/api/sites', { role: 'viewer', json: { name: 'x' } })).status).toBe(403);
    expect((await api.request('/api/sites', { role: null })).status).toBe(401);
    const page = await ok('/api/sites?limit=1', { role: 'viewer' });
    expect(page).toEqual({ items: [expect.objectContaining({ name: 'paris' })], next_cursor: null });
    expect(await ok(`/api/sites/${paris.id}`, { role: 'viewer' })).toMatchObject({ name: 'paris', usage: expect.arrayContaining([{ what: 'unfinished work items', count: 0 }]) });
    expect(await ok(`/api/sites/${paris.id}/rename`, { json: { name: 'Paris-HQ' } })).toMatchObject({ name: 'Paris-HQ' });
    expect((await api.request(`/api/sites/${paris.id}`, { role: 'viewer', method: 'DELETE' })).status).toBe(403);
    expect(await ok(`/api/sites/${paris.id}`, { method: 'DELETE' })).toMatchObject({ site: { id: paris.id }, unassigned_devices: 0 });
    expect(await actions()).toEqual(['token:test-operator site.create', 'token:test-operator site.rename', 'token:test-operator site.delete']);
  });

  it('sites: bad input is 400 naming the field, unknown 404, conflicts 409 with the counts; nothing written', async () => {
    const site = await ok('/api/sites', { json: { name: 'busy' } }, 201);
    expect((await refused(409, '/api/sites', { json: { name: 'BUSY' } })).error).toBe(`name: a site named "busy" already exists (id ${site.id})`);
    expect((await refused(400, '/api/sites', { json: { name: '' } })).problems).toEqual(['name: required; a non-empty site name']);
    expect((await refused(400, '/api/sites', { json: { name: 'x', colour: 'red' } })).error).toMatch(/colour/);
    expect((await refused(400, '/api/sites/abc', { role: 'viewer' })).error).toMatch(/^id: /);
    expect((await refused(404, '/api/sites/999', { role: 'viewer' })).error).toBe('site: no site with id 999');
    expect((await refused(400, '/api/sites?limit=0', { role: 'viewer' })).error).toMatch(/^limit: /);
    await enqueueWorkItem(ctx.store, { kind: 'scheduled_run', siteId: site.id, payload: { n: 1 } });
    await ctx.db.insertInto('job_scheduler_workers').values({ worker_guid: 'w1', site_id: site.id, status: 'idle', current_lanes_json: toJson(null), created_at: API_T0, updated_at: API_T0 }).execute();
    expect((await refused(409, `/api/sites/${site.id}`, { method: 'DELETE' })).error).toBe(`site ${site.id} ("busy") is still in use: 1 unfinished work items, 1 live workers; nothing was deleted`);
  });

  it('devices: add, show, search, update, seen, remove — online/offline by the server\'s OFFLINE_AFTER_SECONDS', async () => {
    const paris = await ok('/api/sites', { json: { name: 'paris' } }, 201);
    const ws1 = await ok('/api/devices', { json: { hostname: 'ws-1', site: 'paris', internal_ip: '10.0.0.1', last_seen: API_T0 - 60_000 } }, 201);
    expect(ws1).toMatchObject({ hostname: 'ws-1', site_id: paris.id, state: 'online', internal_ip: '10.0.0.1' });
    await ok('/api/devices', { json: { hostname: 'ws-2', last_seen: API_T0 - 3_600_000 } }, 201);
    expect((await ok('/api/devices?state=offline', { role: 'viewer' })).items.map((d: any) => d.hostname)).toEqual(['ws-2']);
    expect((await ok('/api/devices?hostname=WS&site=paris', { role: 'viewer' })).items.map((d: any) => d.hostname)).toEqual(['ws-1']);
    expect((await ok('/api/devices?site=none', { role: 'viewer' })).items.map((d: any) => d.hostname)).toEqual(['ws-2']);
    expect(await ok('/api/devices/WS-1', { role: 'viewer' })).toMatchObject({ guid: ws1.guid, ssh_host_keys: [] });
    // The device detail carries its pinned SSH host keys, as `jobyard devices show` does (same function).
    const key = Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from('ssh-ed25519'), Buffer.from([0, 0, 0, 32]), Buffer.alloc(32, 5)]);
    const pin = await checkHostKey(ctx.store, deviceSubject(ws1.guid), key, { hostname: 'ws-1', address: '10.0.0.1:22' }, API_T0);
    expect((await ok('/api/devices/ws-1', { role: 'viewer' })).ssh_host_keys).toEqual([
      { key_type: 'ssh-ed25519', fingerprint: pin.fingerprint, address: '10.0.0.1:22', pinned_at: API_T0, last_seen_at: API_T0 },
    ]);
    expect(await ok('/api/devices/ws-2', { method: 'PATCH', json: { site_id: paris.id, operating_system: 'Linux' } })).toMatchObject({ site_name: 'paris', operating_system: 'Linux' });
    expect(await ok('/api/devices/seen', { json: { hostname: 'ws-2', external_ip: '203.0.113.7' } })).toEqual({ updated: [{ hostname: 'ws-2', guid: expect.any(String), last_seen: API_T0 }], unknown: [] });
    expect(await ok('/api/devices/seen', { json: { devices: [{ hostname: 'ws-1' }, { hostname: 'ghost' }] } })).toMatchObject({ unknown: ['ghost'] });
    expect((await ok('/api/devices?state=online', { role: 'viewer' })).items.map((d: any) => d.hostname)).toEqual(['ws-1', 'ws-2']);
    expect(await ok(`/api/devices/${ws1.guid}`, { method: 'DELETE' })).toEqual({ guid: ws1.guid, hostname: 'ws-1' });
    expect((await api.request('/api/devices/seen', { role: 'viewer', json: { hostname: 'ws-2' } })).status).toBe(403);
    expect(await actions()).toEqual([
      'token:test-operator site.create',
      'token:test-operator device.create',
      'token:test-operator device.create',
      'token:test-operator device.update',
      'token:test-operator device.seen',
      'token:test-operator device.seen',
      'token:test-operator device.delete',
    ]);
  });

  it('devices: bad input is 400 naming the field, unknown 404, duplicates 409; nothing written', async () => {
    await ok('/api/devices', { json: { hostname: 'ws-1' } }, 201);
    expect((await refused(409, '/api/devices', { json: { hostname: 'WS-1' } })).error).toMatch(/^hostname: a device named "ws-1" already exists/);
    expect((await refused(400, '/api/devices', { json: { hostname: 'ws 2', internal_ip: '1.2.3' } })).problems).toEqual([
      'hostname: "ws 2" is not a hostname; use letters, digits, ".", "-" and "_"',
      'internal_ip: "1.2.3" is not an IPv4 or IPv6 address',
    ]);
    expect((await refused(404, '/api/devices', { json: { hostname: 'ws-2', site: 'lyon' } })).error).toBe('site: no site "lyon"');
    expect((await refused(404, '/api/devices/nope', { method: 'PATCH', json: { status: 'x' } })).error).toBe('device: no device with hostname or guid "nope"');
    expect((await refused(400, '/api/devices/ws-1', { method: 'PATCH', json: {} })).error).toMatch(/^body: nothing to change/);
    expect((await refused(400, '/api/devices?state=asleep', { role: 'viewer' })).error).toMatch(/^state: /);
    expect((await refused(400, '/api/devices/seen', { json: { devices: [{ hostname: 'ws-1', last_seen: 'soon' }] } })).problems).toEqual([
      'entry 1: last_seen: expected epoch milliseconds or an ISO-8601 date-time with Z or an offset, got "soon"',
    ]);
  });

  it('devices import: dry run reports line by line; a refused record applies nothing (400 listing it); a good import applies all', async () => {
    await ok('/api/sites', { json: { name: 'paris' } }, 201);
    const csv = 'hostname,site\nws-1,paris\nws-2,lyon\n';
    const dry = await ok('/api/devices/import', { json: { csv, dry_run: true } });
    expect(dry).toMatchObject({ dry_run: true, applied: false, added: 1, refused: 1 });
    expect(dry.lines.map((l: any) => `${l.where}: ${l.detail}`)).toEqual(['line 2: add ws-1 (site paris)', 'line 3: refused: site: no site "lyon"']);
    expect((await refused(400, '/api/devices/import', { json: { csv } })).problems).toEqual(['line 3: refused: site: no site "lyon"']);
    const applied = await ok('/api/devices/import', { json: { devices: [{ hostname: 'ws-1', site: 'paris' }, { hostname: 'ws-2' }] } });
    expect(applied).toMatchObject({ applied: true, added: 2 });
    expect((await refused(400, '/api/devices/import', { json: { csv, devices: [] } })).error).toBe('body: give either devices (an array) or csv (text)');
    expect((await api.request('/api/devices/import', { role: 'viewer', json: { csv } })).status).toBe(403);
  });

  it('filters: create, list, show, replace, test, delete; problems name the rule; a used filter is 409', async () => {
    await ok('/api/devices', { json: { hostname: 'web-1', operating_system: 'Ubuntu Linux', last_seen: API_T0 } }, 201);
    const definition = { name: 'linux', criteria: { match: 'all', rules: [{ field: 'operating_system', operator: 'contains', value: 'linux' }] } };
    const f = await ok('/api/filters', { json: definition }, 201);
    expect(f).toMatchObject({ name: 'linux', problems: [], last_edited_by: 'token:test-operator' });
    expect((await ok('/api/filters', { role: 'viewer' })).items.map((x: any) => x.id)).toEqual([f.id]);
    expect(await ok(`/api/filters/${f.id}/test`, { role: 'viewer' })).toMatchObject({
      examined: 1,
      matches: [{ hostname: 'web-1', state: 'online', reasons: ['criteria.rules.0: operating_system contains "linux" (device has "Ubuntu Linux")', 'any site (site_mode all)'] }],
    });
    expect(await ok(`/api/filters/${f.id}`, { method: 'PUT', json: { ...definition, archived: true } })).toMatchObject({ archived: true });
    expect(await ok(`/api/filters/${f.id}`, { role: 'viewer' })).toMatchObject({ archived: true });
    expect((await refused(400, '/api/filters', { json: { name: 'bad', criteria: { rules: [{ field: 'os', operator: 'equals', value: 'x' }] } } })).problems).toEqual([
      'criteria.rules.0.field: unknown value "os"; expected one of hostname, operating_system, device_type, status, agent_id, connection_type, internal_ip, external_ip, site_id',
    ]);
    expect((await refused(409, '/api/filters', { json: { ...definition, name: 'LINUX' } })).error).toBe(`name: a device filter named "linux" already exists (id ${f.id})`);
    expect((await refused(404, '/api/filters/999', { role: 'viewer' })).error).toBe('filter: no device filter with id 999');
    expect((await api.request(`/api/filters/${f.id}`, { role: 'viewer', method: 'DELETE' })).status).toBe(403);
    const job = await ctx.db
      .insertInto('scheduled_jobs')
      .values({ name: 'j', components_json: toJson([]), targets_json: toJson({ filters: [f.id] }), schedule_type: 'daily', created_at: API_T0, updated_at: API_T0 })
      .returning('id')
      .executeTakeFirstOrThrow();
    expect((await refused(409, `/api/filters/${f.id}`, { method: 'DELETE' })).error).toBe(`filter ${f.id} ("linux") is still in use: 1 scheduled jobs (#${job.id}); nothing was deleted`);
    await ctx.db.deleteFrom('scheduled_jobs').execute();
    expect(await ok(`/api/filters/${f.id}`, { method: 'DELETE' })).toEqual({ id: f.id, name: 'linux' });
    expect((await actions()).filter((a) => a.includes('filter.'))).toEqual(['token:test-operator filter.create', 'token:test-operator filter.update', 'token:test-operator filter.delete']);
  });
});

import { beforeAll, expect, it } from 'vitest';
import { toJson } from '../../src/db/dialect.js';
import { assignDeviceToSite, upsertDevice, type InventoryDevice } from '../../src/inventory/devices.js';
import { createSite } from '../../src/inventory/sites.js';
import { buildInventorySnapshot, loadInventory } from '../../src/inventory/snapshot.js';
import { parseTargets, resolveTargets } from '../../src/schedule/targets.js';
import { describeBackends, type BackendContext } from '../helpers/backends.js';

const MIN = 60_000;
const NOW = Date.UTC(2026, 10, 23, 10, 30, 0);

interface Seeded {
  east: number;
  west: number;
  empty: number;
  linux: number;
  archived: number;
  westOnly: number;
  broken: number;
}

async function seed(ctx: BackendContext): Promise<Seeded> {
  await ctx.truncateAll();
  const store = ctx.store;
  const east = (await createSite(store, { name: 'East' }, NOW)).id;
  const west = (await createSite(store, { name: 'West' }, NOW)).id;
  const empty = (await createSite(store, { name: 'Empty' }, NOW)).id;

  const device = (guid: string, hostname: string, extra: Record<string, unknown> = {}) =>
    upsertDevice(store, { guid, hostname, status: 'Online', last_seen: NOW - MIN, operating_system: 'Ubuntu Linux', device_type: 'Server', connection_type: 'ssh', ...extra }, NOW);
  await device('g-web1', 'Web1', { agent_id: 'agent-1', internal_ip: '10.0.0.1', external_ip: '203.0.113.1' });
  await device('g-web2', 'web2');
  await device('g-db1', 'db1', { operating_system: 'Windows Server 2022' });
  await device('g-old', 'old1', { last_seen: NOW - 60 * MIN });
  await device('g-never', 'never1', { last_seen: null, status: null, operating_system: null, device_type: null, connection_type: null });
  await device('g-lost', 'lost1'); // no device_sites row
  await assignDeviceToSite(store, 'Web1', east, NOW);
  await assignDeviceToSite(store, 'db1', east, NOW);
  await assignDeviceToSite(store, 'web2', west, NOW);
  await assignDeviceToSite(store, 'old1', west, NOW);
  await assignDeviceToSite(store, 'never1', west, NOW);
  await assignDeviceToSite(store, 'orphan-host', east, NOW); // a mapping without a device

  const filter = async (name: string, values: Record<string, unknown>, siteIds: number[] = []): Promise<number> => {
    const row = await store.db
      .insertInto('device_filters')
      .values({ name, created_at: NOW, updated_at: NOW, ...values })
      .returning('id')
      .executeTakeFirstOrThrow();
    for (const siteId of siteIds) await store.db.insertInto('device_filter_sites').values({ filter_id: row.id, site_id: siteId }).execute();
    return row.id;
  };
  const linuxCriteria = toJson({ match: 'all', rules: [{ field: 'operating_system', operator: 'contains', value: 'linux' }] });
  const linux = await filter('Linux servers', { criteria_mode: 'basic', site_mode: 'all', basic_criteria_json: linuxCriteria });
  const archived = await filter('Old Linux', { archived: true, basic_criteria_json: linuxCriteria });
  const westOnly = await filter(
    'West any',
    {
      criteria_mode: 'advanced',
      site_mode: 'specific',
      advanced_criteria_json: toJson({ match: 'any', rules: [{ match: 'all', rules: [] }] }),
    },
    [west, empty],
  );
  const broken = await filter('Broken', { basic_criteria_json: toJson({ match: 'all', rules: [{ field: 'os', operator: 'equals', value: 'x' }] }) });
  return { east, west, empty, linux, archived, westOnly, broken };
}

describeBackends('loadInventory', (ctx) => {
  let ids: Seeded;
  beforeAll(async () => {
    ids = await seed(ctx);
  });

  it('reads devices with their site, filters with their sites, and the site ids', async () => {
    const inv = await loadInventory(ctx.store, { now: NOW });
    expect(inv.takenAt).toBe(NOW);
    expect(inv.devices.map((d) => d.hostname)).toEqual(['db1', 'lost1', 'never1', 'old1', 'Web1', 'web2']);
    expect(inv.devices.find((d) => d.guid === 'g-web1')).toEqual<InventoryDevice>({
      guid: 'g-web1',
      hostname: 'Web1',
      hostnameLower: 'web1',
      siteId: ids.east,
      status: 'Online',
      lastSeen: NOW - MIN,
      operatingSystem: 'Ubuntu Linux',
      deviceType: 'Server',
      agentId: 'agent-1',
      connectionType: 'ssh',
      internalIp: '10.0.0.1',
      externalIp: '203.0.113.1',
    });
    expect(inv.devices.find((d) => d.guid === 'g-never')).toMatchObject({ lastSeen: null, status: null, operatingSystem: null, siteId: ids.west });
    expect(inv.devices.find((d) => d.guid === 'g-lost')!.siteId).toBeNull();
    expect(typeof inv.devices[0]!.lastSeen).toBe('number');

    expect(inv.byHostnameLower.get('web1')!.guid).toBe('g-web1');
    expect([...inv.byHostnameLower.keys()].sort()).toEqual(['db1', 'lost1', 'never1', 'old1', 'web1', 'web2']);
    expect(inv.bySite.get(ids.east)!.map((d) => d.hostname)).toEqual(['db1', 'Web1']);
    expect(inv.bySite.get(ids.west)!.map((d) => d.hostname)).toEqual(['never1', 'old1', 'web2']);
    expect(inv.bySite.has(ids.empty)).toBe(false);
    expect(inv.siteIds).toEqual(new Set([ids.east, ids.west, ids.empty]));

    expect([...inv.filters.keys()]).toEqual([ids.linux, ids.archived, ids.westOnly, ids.broken]);
    expect(inv.filters.get(ids.linux)).toEqual({
      id: ids.linux,
      name: 'Linux servers',
      archived: false,
      criteriaMode: 'basic',
      siteMode: 'all',
      basicCriteria: { match: 'all', rules: [{ field: 'operating_system', operator: 'contains', value: 'linux' }] },
      advancedCriteria: null,
      siteIds: [],
    });
    expect(inv.filters.get(ids.archived)).toMatchObject({ archived: true, criteriaMode: null, siteMode: null });
    expect(inv.filters.get(ids.westOnly)).toMatchObject({
      archived: false,
      criteriaMode: 'advanced',
      siteMode: 'specific',
      basicCriteria: null,
      advancedCriteria: { match: 'any', rules: [{ match: 'all', rules: [] }] },
      siteIds: [ids.west, ids.empty].sort((a, b) => a - b),
    });
  });

  it('resolves a job\'s targets over the snapshot end to end', async () => {
    const inv = await loadInventory(ctx.store, { now: NOW });
    const spec = parseTargets({
      hostnames: ['WEB1', 'lost1', 'ghost'],
      sites: [ids.east, 9999],
      filters: [ids.linux, ids.archived, ids.westOnly, ids.broken, 8888],
    });
    const rows = resolveTargets(spec, inv, { now: NOW, offlineAfterMs: 10 * MIN });
    expect(rows.map((r) => [r.hostname, r.siteId, r.resolutionStatus, r.resolvedFromFilterIds])).toEqual([
      ['db1', ids.east, 'resolved', []],
      ['Web1', ids.east, 'resolved', [ids.linux]],
      ['never1', ids.west, 'offline', [ids.westOnly]],
      ['old1', ids.west, 'offline', [ids.linux, ids.westOnly]],
      ['web2', ids.west, 'resolved', [ids.linux, ids.westOnly]],
      ['lost1', null, 'unassigned', [ids.linux]],
      ['ghost', null, 'not_found', []],
      [null, 9999, 'unknown_site', []],
      [null, null, 'archived_filter', [ids.archived]],
      [null, null, 'invalid_filter', [ids.broken]],
      [null, null, 'unknown_filter', [8888]],
    ]);
    const web1 = rows[1]!;
    expect(web1).toMatchObject({
      deviceGuid: 'g-web1',
      resolvedFromFilterId: ids.linux,
      resolutionReason: `explicit hostname, site ${ids.east}, filter "Linux servers" (#${ids.linux})`,
    });
    expect(rows.find((r) => r.hostname === 'old1')!.resolutionReason).toBe(
      `last seen 2026-11-23T09:30:00.000Z, more than 10 min ago; via filter "Linux servers" (#${ids.linux}), filter "West any" (#${ids.westOnly})`,
    );
    expect(rows.find((r) => r.resolutionStatus === 'archived_filter')!.resolutionReason).toBe(
      `filter "Old Linux" (#${ids.archived}) is archived; it contributes no devices`,
    );
    expect(rows.find((r) => r.resolutionStatus === 'invalid_filter')!.resolutionReason).toContain(
      'basic_criteria_json.rules.0.field: unknown value "os"',
    );
  });

  it('sees changes on the next load (a snapshot is plain data, not a live view)', async () => {
    const before = await loadInventory(ctx.store, { now: NOW });
    await assignDeviceToSite(ctx.store, 'lost1', ids.east, NOW);
    await ctx.store.db.updateTable('device_filters').set({ archived: false }).where('id', '=', ids.archived).execute();
    const after = await loadInventory(ctx.store, { now: NOW + 1 });
    expect(before.devices.find((d) => d.guid === 'g-lost')!.siteId).toBeNull();
    expect(after.devices.find((d) => d.guid === 'g-lost')!.siteId).toBe(ids.east);
    expect(before.filters.get(ids.archived)!.archived).toBe(true);
    expect(after.filters.get(ids.archived)!.archived).toBe(false);
    expect(after.bySite.get(ids.east)!.map((d) => d.hostname)).toEqual(['db1', 'lost1', 'Web1']);
  });

  it('loads an empty inventory', async () => {
    await ctx.truncateAll();
    const inv = await loadInventory(ctx.store, { now: NOW });
    expect(inv.devices).toEqual([]);
    expect(inv.filters.size).toBe(0);
    expect(inv.siteIds.size).toBe(0);
    expect(resolveTargets(parseTargets({ sites: [1] }), inv, { now: NOW, offlineAfterMs: MIN })[0]!.resolutionStatus).toBe('unknown_site');
  });
});

it('buildInventorySnapshot keeps the most recently seen of two hostnames that differ only in case', () => {
  const base = { siteId: 1, status: null, operatingSystem: null, deviceType: null, agentId: null, connectionType: null, internalIp: null, externalIp: null };
  const older: InventoryDevice = { ...base, guid: 'a', hostname: 'Box', hostnameLower: 'box', lastSeen: 1 };
  const newer: InventoryDevice = { ...base, guid: 'b', hostname: 'box', hostnameLower: 'box', lastSeen: 2 };
  for (const devices of [[older, newer], [newer, older]]) {
    const inv = buildInventorySnapshot({ takenAt: 0, devices, filters: [], siteIds: [1] });
    expect(inv.byHostnameLower.get('box')!.guid).toBe('b');
    expect(inv.bySite.get(1)).toHaveLength(2);
  }
});

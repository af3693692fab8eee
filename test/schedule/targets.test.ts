import { describe, expect, it } from 'vitest';
import { InvalidJson } from '../../src/db/dialect.js';
import { UserError } from '../../src/errors.js';
import type { InventoryDevice, InventoryFilter, InventorySnapshot } from '../../src/inventory/index.js';
import {
  deliverableTargets,
  formatDuration,
  groupBySite,
  parseTargets,
  resolveTargets,
  type FrozenTarget,
  type TargetSpec,
} from '../../src/schedule/targets.js';
import { inventoryFilter } from '../helpers/inventory.js';

const MIN = 60_000;
const NOW = Date.UTC(2026, 10, 23, 10, 30, 0);
const OPTIONS = { now: NOW, offlineAfterMs: 10 * MIN };

// ---- a small hand-built inventory -----------------------------------------------------------

interface Build {
  sites?: number[];
  devices?: Array<Partial<InventoryDevice> & { hostname: string }>;
  filters?: Array<Partial<InventoryFilter> & { id: number; name: string }>;
}

function inventory(spec: Build): InventorySnapshot {
  const devices: InventoryDevice[] = (spec.devices ?? []).map((d) => ({
    guid: `guid-${d.hostname}`,
    hostnameLower: d.hostname.toLowerCase(),
    siteId: 1,
    status: 'Online',
    lastSeen: NOW - MIN,
    operatingSystem: 'Linux',
    deviceType: 'Server',
    agentId: null,
    connectionType: 'ssh',
    internalIp: null,
    externalIp: null,
    ...d,
  }));
  const byHostnameLower = new Map<string, InventoryDevice>();
  const bySite = new Map<number, InventoryDevice[]>();
  for (const d of devices) {
    byHostnameLower.set(d.hostnameLower, d);
    if (d.siteId !== null) bySite.set(d.siteId, [...(bySite.get(d.siteId) ?? []), d]);
  }
  const filters = new Map<number, InventoryFilter>();
  for (const f of spec.filters ?? []) {
    filters.set(f.id, inventoryFilter(f));
  }
  return { takenAt: NOW, devices, byHostnameLower, bySite, filters, siteIds: new Set(spec.sites ?? [1, 2, 3]) };
}

const targets = (partial: Partial<TargetSpec>): TargetSpec => ({ hostnames: [], sites: [], filters: [], ...partial });
const summary = (rows: FrozenTarget[]): string[] => rows.map((r) => `${r.hostname ?? '-'}@${r.siteId ?? '-'}:${r.resolutionStatus}`);
const os = (value: string): unknown => ({ match: 'all', rules: [{ field: 'operating_system', operator: 'contains', value }] });

// ---- parseTargets ---------------------------------------------------------------------------

describe('parseTargets', () => {
  it('reads the three arrays; missing or null ones become empty', () => {
    expect(parseTargets({ hostnames: ['web1', ' db1 '], sites: [1, 2], filters: [4] })).toEqual({
      hostnames: ['web1', 'db1'],
      sites: [1, 2],
      filters: [4],
    });
    expect(parseTargets({})).toEqual({ hostnames: [], sites: [], filters: [] });
    expect(parseTargets({ hostnames: null, sites: undefined })).toEqual({ hostnames: [], sites: [], filters: [] });
    expect(parseTargets(null)).toEqual({ hostnames: [], sites: [], filters: [] });
    expect(parseTargets({ sites: [3], onboarding_scope: '10.0.0.0/24' })).toEqual({ hostnames: [], sites: [3], filters: [] });
  });

  it('throws a UserError naming the field for wrong types', () => {
    const cases: Array<[unknown, string]> = [
      [{ sites: ['3'] }, 'targets.sites.0: expected a positive integer, got "3"'],
      [{ sites: [1, 0] }, 'targets.sites.1: expected a positive integer, got number 0'],
      [{ filters: [1.5] }, 'targets.filters.0: expected a positive integer, got number 1.5'],
      [{ filters: 4 }, 'targets.filters: expected an array, got number 4'],
      [{ hostnames: 'web1' }, 'targets.hostnames: expected an array, got "web1"'],
      [{ hostnames: ['web1', ''] }, 'targets.hostnames.1: expected a non-empty string, got ""'],
      [{ hostnames: [7] }, 'targets.hostnames.0: expected a non-empty string, got number 7'],
      [['web1'], 'targets: expected an object { "hostnames"?, "sites"?, "filters"? }, got an array'],
      ['web1', 'targets: expected an object { "hostnames"?, "sites"?, "filters"? }, got "web1"'],
      [new InvalidJson('targets_json', '{"sites":'), 'targets: not valid JSON: "{\\"sites\\":"'],
    ];
    for (const [input, message] of cases) {
      expect(() => parseTargets(input)).toThrow(UserError);
      expect(() => parseTargets(input)).toThrow(message);
    }
  });
});

// ---- resolveTargets -------------------------------------------------------------------------

describe('resolveTargets: routes and dedup', () => {
  const inv = inventory({
    devices: [
      { hostname: 'web1', siteId: 1, operatingSystem: 'Ubuntu Linux' },
      { hostname: 'Web2', siteId: 2, operatingSystem: 'Debian Linux' },
      { hostname: 'db1', siteId: 1, operatingSystem: 'Windows Server' },
      { hostname: 'app1', siteId: 2, operatingSystem: 'Alma Linux' },
    ],
    filters: [
      { id: 4, name: 'Linux servers', basicCriteria: os('linux') },
      { id: 5, name: 'Debian', basicCriteria: os('debian') },
      { id: 6, name: 'Windows', basicCriteria: os('windows') },
    ],
  });

  it('an explicit hostname resolves case-insensitively to the inventory spelling', () => {
    const rows = resolveTargets(targets({ hostnames: ['WEB2'] }), inv, OPTIONS);
    expect(rows).toEqual([
      {
        deviceGuid: 'guid-Web2',
        hostname: 'Web2',
        siteId: 2,
        resolvedFromFilterId: null,
        resolvedFromFilterIds: [],
        resolutionStatus: 'resolved',
        resolutionReason: 'explicit hostname',
      },
    ]);
  });

  it('a site contributes its devices', () => {
    const rows = resolveTargets(targets({ sites: [1] }), inv, OPTIONS);
    expect(summary(rows)).toEqual(['db1@1:resolved', 'web1@1:resolved']);
    expect(rows.map((r) => r.resolutionReason)).toEqual(['site 1', 'site 1']);
  });

  it('a filter contributes its matches, with its id', () => {
    const rows = resolveTargets(targets({ filters: [4] }), inv, OPTIONS);
    expect(summary(rows)).toEqual(['web1@1:resolved', 'app1@2:resolved', 'Web2@2:resolved']);
    for (const r of rows) {
      expect(r.resolvedFromFilterId).toBe(4);
      expect(r.resolvedFromFilterIds).toEqual([4]);
      expect(r.resolutionReason).toBe('filter "Linux servers" (#4)');
    }
  });

  it('a device reached through several routes appears once with every route and filter', () => {
    const rows = resolveTargets(
      targets({ hostnames: ['web2', 'WEB2', 'Web2'], sites: [2, 2], filters: [5, 4, 4, 6] }),
      inv,
      OPTIONS,
    );
    expect(summary(rows)).toEqual(['db1@1:resolved', 'web1@1:resolved', 'app1@2:resolved', 'Web2@2:resolved']);
    const web2 = rows.find((r) => r.hostname === 'Web2')!;
    expect(web2.resolvedFromFilterId).toBe(5); // the first filter in the job's order
    expect(web2.resolvedFromFilterIds).toEqual([5, 4]);
    expect(web2.resolutionReason).toBe('explicit hostname, site 2, filter "Debian" (#5), filter "Linux servers" (#4)');
    const app1 = rows.find((r) => r.hostname === 'app1')!;
    expect(app1.resolvedFromFilterIds).toEqual([4]);
    expect(app1.resolutionReason).toBe('site 2, filter "Linux servers" (#4)');
    const db1 = rows.find((r) => r.hostname === 'db1')!;
    expect(db1).toMatchObject({ resolvedFromFilterId: 6, resolvedFromFilterIds: [6], resolutionReason: 'filter "Windows" (#6)' });
    expect(new Set(rows.map((r) => r.deviceGuid)).size).toBe(rows.length);
  });

  it('an empty spec resolves to nothing', () => {
    expect(resolveTargets(targets({}), inv, OPTIONS)).toEqual([]);
  });

  it('prefers the exact-case device when two hostnames differ only in case', () => {
    const twins = inventory({ devices: [{ hostname: 'Box', guid: 'upper' }, { hostname: 'box', guid: 'lower' }] });
    expect(resolveTargets(targets({ hostnames: ['box'] }), twins, OPTIONS).map((r) => r.deviceGuid)).toEqual(['lower']);
    expect(resolveTargets(targets({ hostnames: ['Box'] }), twins, OPTIONS).map((r) => r.deviceGuid)).toEqual(['upper']);
  });
});

describe('resolveTargets: offline and unassigned devices', () => {
  const threshold = NOW - 10 * MIN;
  const inv = inventory({
    sites: [1, 2],
    devices: [
      { hostname: 'fresh', lastSeen: NOW },
      { hostname: 'edge', lastSeen: threshold },
      { hostname: 'stale', lastSeen: threshold - 1 },
      { hostname: 'old', lastSeen: Date.UTC(2026, 10, 23, 10, 0, 0) },
      { hostname: 'never', lastSeen: null },
      { hostname: 'nosite', siteId: null },
      { hostname: 'nosite-old', siteId: null, lastSeen: Date.UTC(2026, 10, 23, 10, 0, 0) },
      { hostname: 'gone-site', siteId: 9 },
    ],
  });
  const all = resolveTargets(
    targets({ hostnames: ['fresh', 'edge', 'stale', 'old', 'never', 'nosite', 'nosite-old', 'gone-site'] }),
    inv,
    OPTIONS,
  );
  const byHost = (h: string): FrozenTarget => all.find((r) => r.hostname === h)!;

  it('exactly at the threshold is online; one millisecond older is offline', () => {
    expect(byHost('fresh').resolutionStatus).toBe('resolved');
    expect(byHost('edge').resolutionStatus).toBe('resolved');
    expect(byHost('stale').resolutionStatus).toBe('offline');
  });

  it('offline devices are still frozen, with the last-seen time in the reason', () => {
    expect(byHost('old')).toMatchObject({
      deviceGuid: 'guid-old',
      siteId: 1,
      resolutionStatus: 'offline',
      resolutionReason: 'last seen 2026-11-23T10:00:00.000Z, more than 10 min ago; via explicit hostname',
    });
    expect(byHost('never')).toMatchObject({ resolutionStatus: 'offline', resolutionReason: 'never seen; via explicit hostname' });
  });

  it('a device without a site is unassigned (and says so even when also offline)', () => {
    expect(byHost('nosite')).toMatchObject({
      deviceGuid: 'guid-nosite',
      siteId: null,
      resolutionStatus: 'unassigned',
      resolutionReason: 'no site assigned; it cannot be routed to a site worker; via explicit hostname',
    });
    expect(byHost('nosite-old').resolutionStatus).toBe('unassigned');
    expect(byHost('nosite-old').resolutionReason).toContain('also offline: last seen 2026-11-23T10:00:00.000Z');
    expect(byHost('gone-site')).toMatchObject({
      siteId: 9,
      resolutionStatus: 'unassigned',
      resolutionReason: 'its site 9 no longer exists; it cannot be routed to a site worker; via explicit hostname',
    });
  });

  it('only resolved targets are deliverable, grouped by site', () => {
    expect(deliverableTargets(all).map((r) => r.hostname)).toEqual(['edge', 'fresh']);
    const groups = groupBySite(all);
    expect([...groups.keys()]).toEqual([1]);
    expect(groups.get(1)!.map((r) => r.hostname)).toEqual(['edge', 'fresh']);
  });

  it('sorts devices by site (no site last) then hostname', () => {
    expect(all.map((r) => r.hostname)).toEqual(['edge', 'fresh', 'never', 'old', 'stale', 'gone-site', 'nosite', 'nosite-old']);
  });
});

describe('resolveTargets: rows for inputs that yield no device', () => {
  const inv = inventory({
    sites: [1, 2],
    devices: [
      { hostname: 'web1', siteId: 1, operatingSystem: 'Linux' },
      { hostname: 'web2', siteId: 2, operatingSystem: 'Linux' },
    ],
    filters: [
      { id: 4, name: 'Old Linux', archived: true, basicCriteria: os('linux') },
      { id: 5, name: 'Broken', basicCriteria: { match: 'all', rules: [{ field: 'hostname', operator: 'like', value: 'web' }] } },
      { id: 6, name: 'Site 2 Linux', siteMode: 'specific', siteIds: [2], basicCriteria: os('linux') },
    ],
  });

  it('an unknown hostname gives one not_found row with the name as given', () => {
    expect(resolveTargets(targets({ hostnames: ['Ghost', 'ghost'] }), inv, OPTIONS)).toEqual([
      {
        deviceGuid: null,
        hostname: 'Ghost',
        siteId: null,
        resolvedFromFilterId: null,
        resolvedFromFilterIds: [],
        resolutionStatus: 'not_found',
        resolutionReason: 'no device with hostname "Ghost"',
      },
    ]);
  });

  it('an unknown site gives one unknown_site row', () => {
    expect(resolveTargets(targets({ sites: [7, 7] }), inv, OPTIONS)).toEqual([
      {
        deviceGuid: null,
        hostname: null,
        siteId: 7,
        resolvedFromFilterId: null,
        resolvedFromFilterIds: [],
        resolutionStatus: 'unknown_site',
        resolutionReason: 'site 7 does not exist',
      },
    ]);
  });

  it('a site that exists but has no devices gives no rows', () => {
    expect(resolveTargets(targets({ sites: [1] }), inventory({ sites: [1] }), OPTIONS)).toEqual([]);
  });

  it('an unknown filter gives one unknown_filter row', () => {
    expect(resolveTargets(targets({ filters: [99] }), inv, OPTIONS)).toEqual([
      {
        deviceGuid: null,
        hostname: null,
        siteId: null,
        resolvedFromFilterId: 99,
        resolvedFromFilterIds: [99],
        resolutionStatus: 'unknown_filter',
        resolutionReason: 'filter #99 does not exist',
      },
    ]);
  });

  it('an archived filter contributes nothing and says so', () => {
    expect(resolveTargets(targets({ filters: [4] }), inv, OPTIONS)).toEqual([
      {
        deviceGuid: null,
        hostname: null,
        siteId: null,
        resolvedFromFilterId: 4,
        resolvedFromFilterIds: [4],
        resolutionStatus: 'archived_filter',
        resolutionReason: 'filter "Old Linux" (#4) is archived; it contributes no devices',
      },
    ]);
  });

  it('a filter with invalid criteria contributes nothing and lists the problems', () => {
    const rows = resolveTargets(targets({ filters: [5] }), inv, OPTIONS);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ deviceGuid: null, hostname: null, resolvedFromFilterId: 5, resolvedFromFilterIds: [5], resolutionStatus: 'invalid_filter' });
    expect(rows[0]!.resolutionReason).toBe(
      'filter "Broken" (#5) has invalid criteria; it contributes no devices: basic_criteria_json.rules.0.operator: unknown value "like"; ' +
        'expected one of equals, not_equals, contains, not_contains, starts_with, ends_with, in, is_empty, is_not_empty',
    );
  });

  it('a specific-site filter contributes only devices of its sites', () => {
    const rows = resolveTargets(targets({ filters: [6] }), inv, OPTIONS);
    expect(summary(rows)).toEqual(['web2@2:resolved']);
    expect(rows[0]!.resolvedFromFilterIds).toEqual([6]);
  });

  it('devices first, then the non-device rows in input order', () => {
    const rows = resolveTargets(targets({ hostnames: ['ghost', 'web2'], sites: [7, 1], filters: [99, 4, 5, 6] }), inv, OPTIONS);
    expect(summary(rows)).toEqual([
      'web1@1:resolved',
      'web2@2:resolved',
      'ghost@-:not_found',
      '-@7:unknown_site',
      '-@-:unknown_filter',
      '-@-:archived_filter',
      '-@-:invalid_filter',
    ]);
    expect(rows.slice(4).map((r) => r.resolvedFromFilterId)).toEqual([99, 4, 5]);
    expect(rows[1]).toMatchObject({ resolutionReason: 'explicit hostname, filter "Site 2 Linux" (#6)', resolvedFromFilterIds: [6] });
    expect(deliverableTargets(rows)).toHaveLength(2);
    expect([...groupBySite(rows).keys()]).toEqual([1, 2]);
  });

  it('is pure: the same inputs give the same rows and the snapshot is untouched', () => {
    const before = JSON.stringify([...inv.filters.values(), inv.devices]);
    const spec = targets({ hostnames: ['web1'], sites: [2], filters: [4, 5, 6] });
    expect(resolveTargets(spec, inv, OPTIONS)).toEqual(resolveTargets(spec, inv, OPTIONS));
    expect(JSON.stringify([...inv.filters.values(), inv.devices])).toBe(before);
  });
});

describe('resolveTargets: advanced filters and any/all', () => {
  const inv = inventory({
    sites: [1, 2],
    devices: [
      { hostname: 'lin-srv', siteId: 1, operatingSystem: 'Linux', deviceType: 'Server' },
      { hostname: 'lin-desk', siteId: 1, operatingSystem: 'Linux', deviceType: 'Workstation' },
      { hostname: 'win-srv', siteId: 2, operatingSystem: 'Windows', deviceType: 'Server' },
    ],
    filters: [
      {
        id: 1,
        name: 'Servers or Linux',
        basicCriteria: {
          match: 'any',
          rules: [
            { field: 'device_type', operator: 'equals', value: 'server' },
            { field: 'operating_system', operator: 'equals', value: 'linux' },
          ],
        },
      },
      {
        id: 2,
        name: 'Linux servers at site 1, or anything at site 2',
        criteriaMode: 'advanced',
        advancedCriteria: {
          match: 'any',
          rules: [
            {
              match: 'all',
              rules: [
                { field: 'operating_system', operator: 'equals', value: 'LINUX' },
                { field: 'device_type', operator: 'equals', value: 'SERVER' },
                { field: 'site_id', operator: 'equals', value: 1 },
              ],
            },
            { field: 'site_id', operator: 'in', value: [2] },
          ],
        },
      },
    ],
  });

  it('any', () => {
    expect(resolveTargets(targets({ filters: [1] }), inv, OPTIONS).map((r) => r.hostname)).toEqual(['lin-desk', 'lin-srv', 'win-srv']);
  });

  it('nested groups', () => {
    expect(resolveTargets(targets({ filters: [2] }), inv, OPTIONS).map((r) => r.hostname)).toEqual(['lin-srv', 'win-srv']);
  });
});

describe('formatDuration', () => {
  it('formats thresholds for reasons', () => {
    expect(formatDuration(10 * MIN)).toBe('10 min');
    expect(formatDuration(120 * MIN)).toBe('2 h');
    expect(formatDuration(90 * MIN)).toBe('1 h 30 min');
    expect(formatDuration(45_000)).toBe('45 s');
    expect(formatDuration(1500)).toBe('1500 ms');
  });
});

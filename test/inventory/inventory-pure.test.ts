/**
 * The pure parts of inventory administration: the online rule the scheduler and `devices list`
 * share, device field checks, reading CSV/JSON device files, the import plan, filter definitions,
 * and the explanation `filters test` prints.
 */
import { describe, expect, it } from 'vitest';
import type { InventoryDevice } from '../../src/inventory/devices.js';
import { checkDeviceFields, parseInstant } from '../../src/inventory/device-fields.js';
import { parseDeviceFile } from '../../src/inventory/device-file.js';
import { planImport, type ImportContext } from '../../src/inventory/device-import.js';
import type { Device } from '../../src/inventory/devices.js';
import { checkFilterDefinition } from '../../src/inventory/filter-definition.js';
import { explainFilter } from '../../src/inventory/filter-explain.js';
import { deviceState, isOffline } from '../../src/inventory/presence.js';
import { checkSeenReports } from '../../src/inventory/device-seen.js';
import { resolveTargets } from '../../src/schedule/targets.js';
import { buildInventorySnapshot } from '../../src/inventory/snapshot.js';
import { ValidationError } from '../../src/errors.js';
import { inventoryFilter } from '../helpers/inventory.js';

const NOW = Date.UTC(2099, 0, 1);
const MIN = 60_000;

function device(hostname: string, extra: Partial<InventoryDevice> = {}): InventoryDevice {
  return {
    guid: `g-${hostname}`,
    hostname,
    hostnameLower: hostname.toLowerCase(),
    siteId: 1,
    status: null,
    lastSeen: NOW,
    operatingSystem: 'Ubuntu Linux',
    deviceType: 'server',
    agentId: null,
    connectionType: null,
    internalIp: '10.0.0.1',
    externalIp: null,
    ...extra,
  };
}

describe('online / offline: one rule for the scheduler and the device list', () => {
  it('is online at or after now - offlineAfter, offline before it or when never seen', () => {
    expect(isOffline(NOW - 10 * MIN, NOW, 10 * MIN)).toBe(false);
    expect(isOffline(NOW - 10 * MIN - 1, NOW, 10 * MIN)).toBe(true);
    expect(isOffline(null, NOW, 10 * MIN)).toBe(true);
    expect(deviceState(NOW, NOW, MIN)).toBe('online');
  });

  it('agrees with how the scheduler freezes targets', () => {
    const devices = [device('on', { lastSeen: NOW - 10 * MIN }), device('off', { lastSeen: NOW - 10 * MIN - 1 }), device('never', { lastSeen: null })];
    const snapshot = buildInventorySnapshot({ takenAt: NOW, devices, filters: [], siteIds: [1] });
    const frozen = resolveTargets({ hostnames: [], sites: [1], filters: [] }, snapshot, { now: NOW, offlineAfterMs: 10 * MIN });
    for (const t of frozen) {
      const d = devices.find((x) => x.hostname === t.hostname)!;
      expect(t.resolutionStatus === 'offline').toBe(deviceState(d.lastSeen, NOW, 10 * MIN) === 'offline');
    }
  });
});

describe('device fields', () => {
  it('accepts a full device and names every problem with its field', () => {
    expect(checkDeviceFields({ hostname: 'ws-1', site: 'paris', internal_ip: '10.0.0.1', external_ip: '2001:db8::1', operating_system: 'Linux' }, { requireHostname: true })).toEqual({
      changes: { hostname: 'ws-1', site: 'paris', fields: { internal_ip: '10.0.0.1', external_ip: '2001:db8::1', operating_system: 'Linux' } },
      problems: [],
    });
    const { problems } = checkDeviceFields({ hostname: 'bad host', internal_ip: '300.1.1.1', colour: 'red', site_id: 'x' }, { requireHostname: true });
    expect(problems).toEqual([
      'colour: unknown field; expected one of hostname, guid, site, site_id, status, operating_system, device_type, agent_id, connection_type, connection_endpoint, internal_ip, external_ip, last_seen',
      'hostname: "bad host" is not a hostname; use letters, digits, ".", "-" and "_"',
      'site_id: expected a positive integer (a site id), got "x"',
      'internal_ip: "300.1.1.1" is not an IPv4 or IPv6 address',
    ]);
  });

  it('requires a hostname only for a new device; "" and null clear a field and unassign the site', () => {
    expect(checkDeviceFields({}, { requireHostname: true }).problems).toEqual(['hostname: required; a hostname (letters, digits, ".", "-", "_")']);
    expect(checkDeviceFields({ site: null, status: '' }, { requireHostname: false })).toEqual({ changes: { site: null, fields: { status: null } }, problems: [] });
  });

  it('reads instants as epoch ms or ISO-8601 with a zone, nothing else', () => {
    expect(parseInstant('2099-01-01T00:00:00Z')).toBe(NOW);
    expect(parseInstant(String(NOW))).toBe(NOW);
    expect(parseInstant('2099-01-01 00:00')).toBeUndefined();
    expect(parseInstant('yesterday')).toBeUndefined();
  });
});

describe('device files', () => {
  it('reads CSV with the line each record is on, dropping empty cells', () => {
    const records = parseDeviceFile('hostname, site ,operating_system\nws-1,paris,\n\nws-2,"ly\non",Linux\n', 'csv');
    expect(records).toEqual([
      { where: 'line 2', raw: { hostname: 'ws-1', site: 'paris' } },
      { where: 'line 5', raw: { hostname: 'ws-2', site: 'ly\non', operating_system: 'Linux' } },
    ]);
  });

  it('reads a JSON array or { devices: [...] }, numbering entries', () => {
    expect(parseDeviceFile('[{"hostname":"a"}, 3]', 'json')).toEqual([
      { where: 'entry 1', raw: { hostname: 'a' } },
      { where: 'entry 2', raw: null },
    ]);
    expect(parseDeviceFile('{"devices":[{"hostname":"a"}]}', 'json')).toHaveLength(1);
  });

  it('refuses a broken file without quoting it', () => {
    const message = (text: string, format: 'csv' | 'json') => {
      try {
        parseDeviceFile(text, format);
      } catch (err) {
        return (err as ValidationError).message;
      }
      return 'no error';
    };
    expect(message('hostname,site\n"secret-value,x\n', 'csv')).toBe('file: not valid CSV at line 2 (CSV_QUOTE_NOT_CLOSED)');
    expect(message('hostname,site\nsecret,1,2\n', 'csv')).toBe('file: not valid CSV at line 2 (CSV_RECORD_INCONSISTENT_COLUMNS)');
    expect(message('[{"hostname": secret}]', 'json')).toMatch(/^file: not valid JSON/);
    expect(message('[{"hostname": secret}]', 'json')).not.toContain('secret');
    expect(message('hostname\n', 'csv')).toBe('file: holds no devices');
  });
});

describe('the import plan', () => {
  const existing = { guid: 'g-1', hostname: 'ws-1', hostname_lower: 'ws-1', operating_system: 'Linux', last_seen: null } as unknown as Device;
  const ctx: ImportContext = {
    devicesByHostnameLower: new Map([['ws-1', existing]]),
    guidOwners: new Map([['g-1', 'ws-1']]),
    sitesById: new Map([[1, { id: 1, name: 'paris' }], [2, { id: 2, name: 'lyon' }]]),
    sitesByNameLower: new Map([['paris', { id: 1, name: 'paris' }], ['lyon', { id: 2, name: 'lyon' }]]),
    siteOf: new Map([['ws-1', 1]]),
  };
  const plan = (records: Array<Record<string, unknown>>) =>
    planImport(
      records.map((raw, i) => ({ where: `line ${i + 2}`, ...checkDeviceFields(raw, { requireHostname: true }) })),
      ctx,
    ).map((p) => `${p.line.where}: ${p.line.detail}`);

  it('says line by line what is added, changed, unchanged or refused, and why', () => {
    expect(
      plan([
        { hostname: 'ws-2', site: 'Paris' },
        { hostname: 'WS-1', site: 'lyon', operating_system: 'Debian' },
        { hostname: 'ws-3', site: 'nowhere' },
        { hostname: 'ws-2' },
        { hostname: 'ws-4', guid: 'g-1' },
        { hostname: 'ws-5', internal_ip: 'nope' },
      ]),
    ).toEqual([
      'line 2: add ws-2 (site paris)',
      'line 3: change WS-1: hostname "ws-1" → "WS-1", operating_system "Linux" → "Debian", site 1 → 2',
      'line 4: refused: site: no site "nowhere"',
      'line 5: refused: hostname: "ws-2" is also on line 2',
      'line 6: refused: guid: g-1 belongs to device "ws-1"',
      'line 7: refused: internal_ip: "nope" is not an IPv4 or IPv6 address',
    ]);
    expect(plan([{ hostname: 'ws-1', site: 1, operating_system: 'linux' }])).toEqual(['line 2: change ws-1: operating_system "Linux" → "linux"']);
    expect(plan([{ hostname: 'ws-1', site: 1, operating_system: 'Linux' }])).toEqual(['line 2: unchanged ws-1']);
  });
});

describe('seen reports', () => {
  it('checks every report before anything is written, naming where each problem is', () => {
    expect(() =>
      checkSeenReports(
        [
          { where: 'line 2', raw: { hostname: 'ws-1', last_seen: NOW + 6 * MIN } },
          { where: 'line 3', raw: { hostname: 'ws-2', internal_ip: 'x', site: 'a' } },
        ],
        NOW,
      ),
    ).toThrow(
      'line 2: last_seen: 2099-01-01T00:06:00.000Z is in the future (more than 5 minutes ahead of this clock); line 3: site: unknown field; expected one of hostname, last_seen, internal_ip, external_ip; line 3: internal_ip: "x" is not an IPv4 or IPv6 address',
    );
    expect(checkSeenReports([{ raw: { hostname: 'ws-1', last_seen: '2099-01-01T00:00:00Z', external_ip: '203.0.113.9' } }], NOW)).toEqual([
      { hostname: 'ws-1', last_seen: NOW, external_ip: '203.0.113.9' },
    ]);
  });
});

describe('filter definitions', () => {
  it('accepts a definition and fills in defaults', () => {
    const criteria = { match: 'all', rules: [{ field: 'operating_system', operator: 'contains', value: 'linux' }] };
    expect(checkFilterDefinition({ name: 'Linux', criteria })).toEqual({
      definition: { name: 'Linux', description: null, criteria_mode: 'basic', site_mode: 'all', sites: [], criteria, archived: false },
      problems: [],
    });
  });

  it('lists every problem, naming the rule and field, with the criteria language\'s own messages', () => {
    expect(
      checkFilterDefinition({ name: '', site_mode: 'specific', colour: 1, criteria: { rules: [{ field: 'os', operator: 'like', value: 'x' }, { match: 'any', rules: [] }] } }).problems,
    ).toEqual([
      'colour: unknown key; expected one of name, description, criteria_mode, site_mode, sites, criteria, archived',
      'name: required; a non-empty filter name',
      'sites: required with site_mode "specific"; list at least one site id',
      'criteria.rules.0.field: unknown value "os"; expected one of hostname, operating_system, device_type, status, agent_id, connection_type, internal_ip, external_ip, site_id',
      'criteria.rules.0.operator: unknown value "like"; expected one of equals, not_equals, contains, not_contains, starts_with, ends_with, in, is_empty, is_not_empty',
      'criteria.rules.1: nested groups are only allowed with criteria_mode "advanced"; basic criteria hold rules only',
    ]);
    expect(checkFilterDefinition({ name: 'x' }).problems).toEqual(['criteria: required; an object { "match": "all" | "any", "rules": [...] } (use "rules": [] to match every device)']);
  });
});

describe('filters test: which devices match, and why', () => {
  const clock = { now: NOW, offlineAfterMs: 10 * MIN };
  const devices = [
    device('web-1', { operatingSystem: 'Ubuntu Linux', siteId: 1 }),
    device('web-2', { operatingSystem: 'Windows 11', siteId: 1, lastSeen: null }),
    device('web-3', { operatingSystem: 'Debian Linux', siteId: 2 }),
    device('db-1', { operatingSystem: 'Windows 11', siteId: 1 }),
  ];
  const rules = [
    { field: 'operating_system', operator: 'contains', value: 'Linux' },
    { field: 'hostname', operator: 'starts_with', value: 'web' },
  ];

  it('gives each matching device the rules that matched and its site scope; near misses say what failed', () => {
    const result = explainFilter(inventoryFilter({ id: 4, name: 'linux web', siteMode: 'specific', siteIds: [1], basicCriteria: { match: 'all', rules } }), devices, clock);
    expect(result.examined).toBe(4);
    expect(result.problems).toEqual([]);
    expect(result.matches).toEqual([
      {
        guid: 'g-web-1',
        hostname: 'web-1',
        site_id: 1,
        state: 'online',
        reasons: [
          'criteria.rules.0: operating_system contains "linux" (device has "Ubuntu Linux")',
          'criteria.rules.1: hostname starts_with "web" (device has "web-1")',
          "site 1 is in the filter's sites (1)",
        ],
      },
    ]);
    expect(result.near_misses.map((d) => [d.hostname, d.state, d.reasons])).toEqual([
      ['web-2', 'offline', ['fails criteria.rules.0: operating_system contains "linux" (device has "Windows 11")']],
      ['web-3', 'online', ["site 2 is not in the filter's sites (1)"]],
    ]);
  });

  it('under "any", only the rules that held are reasons; nested groups are explained rule by rule', () => {
    const any = explainFilter(inventoryFilter({ id: 5, basicCriteria: { match: 'any', rules } }), devices, clock);
    expect(any.matches.find((d) => d.hostname === 'web-2')!.reasons).toEqual(['criteria.rules.1: hostname starts_with "web" (device has "web-2")', 'any site (site_mode all)']);
    const nested = explainFilter(
      inventoryFilter({ id: 6, criteriaMode: 'advanced', basicCriteria: null, advancedCriteria: { match: 'all', rules: [{ match: 'any', rules: [{ field: 'hostname', operator: 'equals', value: 'db-1' }, rules[0]] }] } }),
      devices,
      clock,
    );
    expect(nested.matches.find((d) => d.hostname === 'db-1')!.reasons[0]).toBe('criteria.rules.0.rules.0: hostname equals "db-1" (device has "db-1")');
  });

  it('an archived or invalid filter matches nothing and says why', () => {
    expect(explainFilter(inventoryFilter({ id: 7, name: 'old', archived: true }), devices, clock)).toMatchObject({ matches: [], problems: ['filter "old" (#7) is archived; it matches no devices'] });
    const invalid = explainFilter(inventoryFilter({ id: 8, basicCriteria: { rules: [{ field: 'x', operator: 'equals', value: 1 }] } }), devices, clock);
    expect(invalid.matches).toEqual([]);
    expect(invalid.problems[0]).toMatch(/^basic_criteria_json\.rules\.0\.field: unknown value "x"/);
  });
});

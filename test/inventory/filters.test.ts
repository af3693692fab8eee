import { describe, expect, it } from 'vitest';
import { InvalidJson } from '../../src/db/dialect.js';
import { CRITERIA_FIELDS, CRITERIA_OPERATORS, MAX_GROUP_DEPTH } from '../../src/inventory/criteria.js';
import { validateCriteria } from '../../src/inventory/criteria-parse.js';
import type { InventoryDevice } from '../../src/inventory/devices.js';
import { compileFilter, describeFilter, filterMatches, validateFilter, type InventoryFilter } from '../../src/inventory/filters.js';
import { inventoryFilter } from '../helpers/inventory.js';

function device(hostname: string, extra: Partial<InventoryDevice> = {}): InventoryDevice {
  return {
    guid: `guid-${hostname.toLowerCase()}`,
    hostname,
    hostnameLower: hostname.toLowerCase(),
    siteId: 1,
    status: 'Online',
    lastSeen: 0,
    operatingSystem: 'Ubuntu 24.04 LTS',
    deviceType: 'Server',
    agentId: `agent-${hostname}`,
    connectionType: 'ssh',
    internalIp: '10.0.0.5',
    externalIp: '203.0.113.7',
    ...extra,
  };
}

let nextFilterId = 1;
function filter(extra: Partial<InventoryFilter> = {}): InventoryFilter {
  return inventoryFilter({ ...extra, id: extra.id ?? nextFilterId++ });
}

const basic = (rules: unknown[], match: 'all' | 'any' = 'all'): InventoryFilter => filter({ basicCriteria: { match, rules } });
const rule = (field: string, operator: string, value?: unknown): Record<string, unknown> =>
  value === undefined ? { field, operator } : { field, operator, value };

describe('rules: operators on string fields (case-insensitive)', () => {
  const web = device('Web-01.Example.com', { operatingSystem: 'Ubuntu 24.04 LTS' });
  const win = device('WIN-DC1', { operatingSystem: 'Windows Server 2022', deviceType: null, status: null });

  it('equals / not_equals compare the whole value, ignoring case', () => {
    expect(filterMatches(basic([rule('hostname', 'equals', 'web-01.example.COM')]), web)).toBe(true);
    expect(filterMatches(basic([rule('hostname', 'equals', 'web-01')]), web)).toBe(false);
    expect(filterMatches(basic([rule('hostname', 'not_equals', 'WEB-01.EXAMPLE.COM')]), web)).toBe(false);
    expect(filterMatches(basic([rule('hostname', 'not_equals', 'web-01')]), web)).toBe(true);
  });

  it('contains / not_contains / starts_with / ends_with', () => {
    expect(filterMatches(basic([rule('operating_system', 'contains', 'UBUNTU')]), web)).toBe(true);
    expect(filterMatches(basic([rule('operating_system', 'contains', 'ubuntu')]), win)).toBe(false);
    expect(filterMatches(basic([rule('operating_system', 'not_contains', 'windows')]), web)).toBe(true);
    expect(filterMatches(basic([rule('operating_system', 'not_contains', 'WINDOWS')]), win)).toBe(false);
    expect(filterMatches(basic([rule('hostname', 'starts_with', 'WEB-')]), web)).toBe(true);
    expect(filterMatches(basic([rule('hostname', 'starts_with', 'example')]), web)).toBe(false);
    expect(filterMatches(basic([rule('hostname', 'ends_with', '.EXAMPLE.com')]), web)).toBe(true);
    expect(filterMatches(basic([rule('hostname', 'ends_with', 'web')]), web)).toBe(false);
    expect(filterMatches(basic([rule('internal_ip', 'starts_with', '10.0.')]), web)).toBe(true);
    expect(filterMatches(basic([rule('external_ip', 'equals', '203.0.113.7')]), web)).toBe(true);
  });

  it('in matches any element, ignoring case; numbers compare as text', () => {
    expect(filterMatches(basic([rule('device_type', 'in', ['workstation', 'SERVER'])]), web)).toBe(true);
    expect(filterMatches(basic([rule('device_type', 'in', ['workstation'])]), web)).toBe(false);
    expect(filterMatches(basic([rule('agent_id', 'in', ['x', 'AGENT-web-01.example.com'])]), web)).toBe(true);
    const numbered = device('n1', { agentId: '42' });
    expect(filterMatches(basic([rule('agent_id', 'equals', 42)]), numbered)).toBe(true);
    expect(filterMatches(basic([rule('agent_id', 'in', [41, 42])]), numbered)).toBe(true);
  });

  it('is_empty / is_not_empty treat null and blank as empty; a null field compares as ""', () => {
    expect(filterMatches(basic([rule('device_type', 'is_empty')]), win)).toBe(true);
    expect(filterMatches(basic([rule('device_type', 'is_empty')]), web)).toBe(false);
    expect(filterMatches(basic([rule('device_type', 'is_not_empty')]), web)).toBe(true);
    expect(filterMatches(basic([rule('status', 'is_empty')]), device('blank', { status: '   ' }))).toBe(true);
    // A value given to is_empty is ignored.
    expect(filterMatches(basic([rule('status', 'is_not_empty', 'whatever')]), web)).toBe(true);
    // Null fields: negative tests are true, positive ones false.
    expect(filterMatches(basic([rule('status', 'not_equals', 'online')]), win)).toBe(true);
    expect(filterMatches(basic([rule('status', 'not_contains', 'on')]), win)).toBe(true);
    expect(filterMatches(basic([rule('status', 'equals', 'online')]), win)).toBe(false);
    expect(filterMatches(basic([rule('status', 'contains', 'on')]), win)).toBe(false);
  });

  it('site_id compares the device site (numbers or digit strings) and is empty without one', () => {
    const at3 = device('a', { siteId: 3 });
    const none = device('b', { siteId: null });
    expect(filterMatches(basic([rule('site_id', 'equals', 3)]), at3)).toBe(true);
    expect(filterMatches(basic([rule('site_id', 'equals', '3')]), at3)).toBe(true);
    expect(filterMatches(basic([rule('site_id', 'equals', 4)]), at3)).toBe(false);
    expect(filterMatches(basic([rule('site_id', 'not_equals', 4)]), at3)).toBe(true);
    expect(filterMatches(basic([rule('site_id', 'in', [1, '3'])]), at3)).toBe(true);
    expect(filterMatches(basic([rule('site_id', 'in', [1, 2])]), at3)).toBe(false);
    expect(filterMatches(basic([rule('site_id', 'is_empty')]), none)).toBe(true);
    expect(filterMatches(basic([rule('site_id', 'is_not_empty')]), at3)).toBe(true);
    expect(filterMatches(basic([rule('site_id', 'equals', 3)]), none)).toBe(false);
  });
});

describe('groups: all / any and nesting', () => {
  const linuxWeb = device('web1', { operatingSystem: 'Debian 12', deviceType: 'Server' });
  const linuxDesk = device('desk1', { operatingSystem: 'Fedora 40', deviceType: 'Workstation' });
  const winWeb = device('web2', { operatingSystem: 'Windows Server 2022', deviceType: 'Server' });

  it('"all" needs every rule, "any" needs one; match defaults to "all"', () => {
    const rules = [rule('hostname', 'starts_with', 'web'), rule('operating_system', 'not_contains', 'windows')];
    const all = basic(rules, 'all');
    const any = basic(rules, 'any');
    const implicit = filter({ basicCriteria: { rules } });
    expect([linuxWeb, linuxDesk, winWeb].map((d) => filterMatches(all, d))).toEqual([true, false, false]);
    expect([linuxWeb, linuxDesk, winWeb].map((d) => filterMatches(any, d))).toEqual([true, true, true]);
    expect([linuxWeb, linuxDesk, winWeb].map((d) => filterMatches(implicit, d))).toEqual([true, false, false]);
  });

  it('an empty "all" matches every device, an empty "any" none', () => {
    expect(filterMatches(basic([], 'all'), winWeb)).toBe(true);
    expect(filterMatches(basic([], 'any'), winWeb)).toBe(false);
  });

  it('advanced criteria nest groups: servers that are (linux) or (windows named web2)', () => {
    const f = filter({
      criteriaMode: 'advanced',
      basicCriteria: { match: 'any', rules: [] }, // ignored in advanced mode
      advancedCriteria: {
        match: 'all',
        rules: [
          rule('device_type', 'equals', 'server'),
          {
            match: 'any',
            rules: [
              { match: 'any', rules: [rule('operating_system', 'contains', 'debian'), rule('operating_system', 'contains', 'fedora')] },
              { match: 'all', rules: [rule('operating_system', 'contains', 'windows'), rule('hostname', 'equals', 'WEB2')] },
            ],
          },
        ],
      },
    });
    expect(validateFilter(f)).toEqual([]);
    expect([linuxWeb, linuxDesk, winWeb].map((d) => filterMatches(f, d))).toEqual([true, false, true]);
    expect(filterMatches(f, device('web3', { operatingSystem: 'Windows Server 2022', deviceType: 'server' }))).toBe(false);
  });

  it('basic mode reads basic_criteria_json and ignores advanced_criteria_json', () => {
    const f = filter({
      criteriaMode: 'basic',
      basicCriteria: { match: 'all', rules: [rule('hostname', 'equals', 'web1')] },
      advancedCriteria: { match: 'all', rules: [rule('hostname', 'equals', 'desk1')] },
    });
    expect(filterMatches(f, linuxWeb)).toBe(true);
    expect(filterMatches(f, linuxDesk)).toBe(false);
  });
});

describe('site mode', () => {
  const at1 = device('a1', { siteId: 1 });
  const at2 = device('a2', { siteId: 2 });
  const none = device('a3', { siteId: null });

  it('"all" (or null) takes devices of any site and without one', () => {
    for (const siteMode of [null, 'all']) {
      const f = filter({ siteMode, siteIds: [1] });
      expect([at1, at2, none].map((d) => filterMatches(f, d))).toEqual([true, true, true]);
    }
  });

  it('"specific" takes only devices of the filter\'s sites', () => {
    const f = filter({ siteMode: 'specific', siteIds: [2, 5] });
    expect([at1, at2, none].map((d) => filterMatches(f, d))).toEqual([false, true, false]);
    expect(compileFilter(f).siteScope).toEqual(new Set([2, 5]));
    expect(filterMatches(filter({ siteMode: 'specific', siteIds: [] }), at1)).toBe(false);
  });

  it('"specific" applies together with the criteria', () => {
    const f = filter({ siteMode: 'specific', siteIds: [1, 2], basicCriteria: { rules: [rule('hostname', 'ends_with', '2')] } });
    expect([at1, at2, none].map((d) => filterMatches(f, d))).toEqual([false, true, false]);
  });
});

describe('archived and invalid filters match nothing', () => {
  const d = device('x');

  it('archived', () => {
    const f = filter({ archived: true });
    expect(filterMatches(f, d)).toBe(false);
    expect(compileFilter(f).archived).toBe(true);
    expect(validateFilter(f)).toEqual([]); // archived is not a validation problem
  });

  it('invalid criteria, unknown modes, missing criteria', () => {
    expect(filterMatches(basic([rule('hostname', 'like', 'x')]), d)).toBe(false);
    expect(filterMatches(filter({ criteriaMode: 'fancy' }), d)).toBe(false);
    expect(filterMatches(filter({ siteMode: 'some' }), d)).toBe(false);
    expect(filterMatches(filter({ basicCriteria: null }), d)).toBe(false);
    expect(filterMatches(filter({ criteriaMode: 'advanced', advancedCriteria: null }), d)).toBe(false);
    // One bad rule among good ones spoils the whole filter, even with "any".
    expect(filterMatches(basic([rule('hostname', 'equals', 'x'), rule('bogus', 'equals', 'x')], 'any'), d)).toBe(false);
  });
});

describe('validateCriteria', () => {
  it('accepts every field and operator in a valid combination', () => {
    for (const field of CRITERIA_FIELDS) {
      for (const operator of CRITERIA_OPERATORS) {
        if (field === 'site_id' && !['equals', 'not_equals', 'in', 'is_empty', 'is_not_empty'].includes(operator)) continue;
        const value = operator === 'in' ? (field === 'site_id' ? [1] : ['a']) : field === 'site_id' ? 1 : 'a';
        expect(validateCriteria({ match: 'any', rules: [{ field, operator, value }] }), `${field} ${operator}`).toEqual([]);
      }
    }
  });

  it('names the path and the accepted values', () => {
    expect(validateCriteria({ match: 'all', rules: [rule('hostname', 'like', 'x')] })).toEqual([
      'rules.0.operator: unknown value "like"; expected one of equals, not_equals, contains, not_contains, starts_with, ends_with, in, is_empty, is_not_empty',
    ]);
    expect(validateCriteria({ match: 'all', rules: [rule('hostname', 'equals', 'a'), rule('os', 'equals', 'x')] })).toEqual([
      'rules.1.field: unknown value "os"; expected one of hostname, operating_system, device_type, status, agent_id, connection_type, internal_ip, external_ip, site_id',
    ]);
    expect(validateCriteria({ match: 'some', rules: [] })).toEqual(['match: unknown value "some"; expected one of all, any']);
    expect(validateCriteria({ match: 'all', rules: [{ operator: 'equals', value: 'x' }] })).toEqual([
      expect.stringMatching(/^rules\.0\.field: missing; expected one of hostname, /),
    ]);
  });

  it('refuses values of the wrong shape', () => {
    const one = (r: unknown): string[] => validateCriteria({ rules: [r] });
    expect(one(rule('hostname', 'equals'))).toEqual(['rules.0.value: missing; expected a string or number']);
    expect(one(rule('hostname', 'equals', ['a']))).toEqual(['rules.0.value: got an array; expected a string or number']);
    expect(one(rule('hostname', 'equals', true))).toEqual(['rules.0.value: got boolean true; expected a string or number']);
    expect(one(rule('hostname', 'in', 'a'))).toEqual(['rules.0.value: got the string "a"; "in" expects a non-empty array of strings or numbers']);
    expect(one(rule('hostname', 'in', []))).toEqual(['rules.0.value: got an array; "in" expects a non-empty array of strings or numbers']);
    expect(one(rule('hostname', 'in', ['a', { b: 1 }]))).toEqual(['rules.0.value.1: got an object; expected a string or number']);
    expect(one(rule('hostname', 'contains', ''))).toEqual([
      'rules.0.value: must not be empty for "contains"; use is_empty or is_not_empty to test for a blank field',
    ]);
    expect(one(rule('site_id', 'contains', '3'))).toEqual([
      'rules.0.operator: "contains" does not apply to site_id; expected one of equals, not_equals, in, is_empty, is_not_empty',
    ]);
    expect(one(rule('site_id', 'equals', 'three'))).toEqual(['rules.0.value: got "three"; site_id expects a positive integer (a site id)']);
    expect(one(rule('site_id', 'in', [1, 0]))).toEqual(['rules.0.value.1: got 0; site_id expects a positive integer (a site id)']);
    expect(one({ field: 'hostname', operator: 'equals', valeu: 'x' })).toEqual([
      'rules.0.valeu: unknown key; expected field, operator, value',
      'rules.0.value: missing; expected a string or number',
    ]);
    expect(one('hostname = x')).toEqual(['rules.0: expected a rule { "field", "operator", "value" }, got the string "hostname = x"']);
  });

  it('refuses criteria that are not a group', () => {
    expect(validateCriteria(null)).toEqual(['criteria: expected an object { "match": "all" | "any", "rules": [...] }, got null']);
    expect(validateCriteria([])).toEqual(['criteria: expected an object { "match": "all" | "any", "rules": [...] }, got an array']);
    expect(validateCriteria({ match: 'all' })).toEqual(['rules: missing; expected an array of rules']);
    expect(validateCriteria({ match: 'all', rules: {} })).toEqual(['rules: expected an array of rules, got an object']);
    expect(validateCriteria({ match: 'all', rules: [], field: 'x' })).toEqual([
      'field: unknown key; expected match, rules (a group has match and rules; a rule has field, operator and value, not both)',
    ]);
    expect(validateCriteria(new InvalidJson('basic_criteria_json', '{"match":'))).toEqual(['criteria: not valid JSON: "{\\"match\\":"']);
  });

  it('allows nested groups only in advanced mode, to a bounded depth', () => {
    const nested = { match: 'all', rules: [{ match: 'any', rules: [rule('hostname', 'equals', 'a')] }] };
    expect(validateCriteria(nested)).toEqual([
      'rules.0: nested groups are only allowed with criteria_mode "advanced"; basic criteria hold rules only',
    ]);
    expect(validateCriteria(nested, 'advanced')).toEqual([]);
    expect(validateCriteria({ match: 'all', rules: [{ match: 'any', rules: [rule('hostname', 'like', 'a')] }] }, 'advanced')).toEqual([
      expect.stringMatching(/^rules\.0\.rules\.0\.operator: unknown value "like"; expected one of equals, /),
    ]);
    const deep = (levels: number): unknown => (levels === 1 ? { rules: [] } : { rules: [deep(levels - 1)] });
    expect(validateCriteria(deep(MAX_GROUP_DEPTH), 'advanced')).toEqual([]);
    expect(validateCriteria(deep(MAX_GROUP_DEPTH + 1), 'advanced')).toEqual([
      `${Array(MAX_GROUP_DEPTH).fill('rules.0').join('.')}: groups nest at most ${MAX_GROUP_DEPTH} deep`,
    ]);
  });
});

describe('validateFilter', () => {
  it('prefixes criteria problems with the column the mode reads', () => {
    expect(validateFilter(filter({ basicCriteria: { rules: [rule('hostname', 'like', 'x')] } }))).toEqual([
      expect.stringMatching(/^basic_criteria_json\.rules\.0\.operator: unknown value "like"/),
    ]);
    expect(validateFilter(filter({ criteriaMode: 'advanced', advancedCriteria: { match: 'both', rules: [] } }))).toEqual([
      'advanced_criteria_json.match: unknown value "both"; expected one of all, any',
    ]);
    expect(validateFilter(filter({ basicCriteria: null }))).toEqual([
      'basic_criteria_json: missing for criteria_mode "basic"; expected an object { "match": "all" | "any", "rules": [...] } (use "rules": [] to match every device)',
    ]);
  });

  it('checks criteria_mode and site_mode', () => {
    expect(validateFilter(filter({ criteriaMode: 'fancy', siteMode: 'some' }))).toEqual([
      'criteria_mode: unknown value "fancy"; expected one of basic, advanced',
      'site_mode: unknown value "some"; expected one of all, specific',
    ]);
  });

  it('names filters for messages', () => {
    expect(describeFilter({ id: 4, name: 'Linux servers' })).toBe('filter "Linux servers" (#4)');
  });
});

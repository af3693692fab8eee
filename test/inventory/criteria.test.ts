import { describe, expect, it } from 'vitest';
import { matchesCriteria } from '../../src/inventory/criteria-match.js';
import { formatProblems, parseCriteria } from '../../src/inventory/criteria-parse.js';
import type { InventoryDevice } from '../../src/inventory/devices.js';

function device(hostname: string, extra: Partial<InventoryDevice> = {}): InventoryDevice {
  return {
    guid: `guid-${hostname}`,
    hostname,
    hostnameLower: hostname.toLowerCase(),
    siteId: 3,
    status: 'Online',
    lastSeen: 0,
    operatingSystem: 'Ubuntu 24.04 LTS',
    deviceType: 'Server',
    agentId: null,
    connectionType: 'ssh',
    internalIp: '10.0.0.5',
    externalIp: null,
    ...extra,
  };
}

describe('criteria without a saved filter (parse once, match many devices)', () => {
  it('parses into a plain form: match defaulted, values lowercased text, site ids normalised', () => {
    const parsed = parseCriteria({
      rules: [
        { field: 'hostname', operator: 'starts_with', value: 'WEB' },
        { field: 'site_id', operator: 'in', value: [3, ' 4 '] },
        { field: 'agent_id', operator: 'is_empty', value: 'ignored' },
      ],
    });
    expect(parsed.problems).toEqual([]);
    expect(parsed.criteria).toEqual({
      match: 'all',
      rules: [
        { field: 'hostname', operator: 'starts_with', value: 'web' },
        { field: 'site_id', operator: 'in', values: new Set(['3', '4']) },
        { field: 'agent_id', operator: 'is_empty' },
      ],
    });
    expect(matchesCriteria(parsed.criteria!, device('web1'))).toBe(true);
    expect(matchesCriteria(parsed.criteria!, device('web2', { siteId: 5 }))).toBe(false);
    expect(matchesCriteria(parsed.criteria!, device('db1'))).toBe(false);
  });

  it('evaluates nested groups of advanced criteria', () => {
    const { criteria } = parseCriteria(
      {
        match: 'any',
        rules: [
          { field: 'operating_system', operator: 'contains', value: 'windows' },
          { match: 'all', rules: [{ field: 'hostname', operator: 'ends_with', value: '.lab' }, { field: 'status', operator: 'equals', value: 'online' }] },
        ],
      },
      'advanced',
    );
    expect(matchesCriteria(criteria!, device('a.lab'))).toBe(true);
    expect(matchesCriteria(criteria!, device('b.lab', { status: 'Offline' }))).toBe(false);
    expect(matchesCriteria(criteria!, device('c', { operatingSystem: 'Windows 11' }))).toBe(true);
  });

  it('gives no criteria and every problem when anything is wrong, formatted under the given root', () => {
    const parsed = parseCriteria({ match: 'some', rules: [{ field: 'os', operator: 'equals', value: 'x' }] });
    expect(parsed.criteria).toBeNull();
    expect(formatProblems('criteria', parsed.problems)).toEqual([
      'match: unknown value "some"; expected one of all, any',
      expect.stringMatching(/^rules\.0\.field: unknown value "os"; expected one of hostname, /),
    ]);
    expect(formatProblems('basic_criteria_json', parsed.problems)[0]).toBe('basic_criteria_json.match: unknown value "some"; expected one of all, any');
  });
});

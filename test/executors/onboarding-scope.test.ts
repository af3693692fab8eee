import { describe, expect, it } from 'vitest';
import {
  MAX_ENTRY_ADDRESSES,
  ScopeError,
  parseAddressSpec,
  parseOnboardingScope,
  parseScopeEntries,
  stripComment,
} from '../../src/executors/onboarding-scope.js';

const addresses = (targets: Array<{ address: string }>) => targets.map((t) => t.address);

describe('onboarding scope', () => {
  it('strips comments for parsing and keeps the raw entry as target input', () => {
    expect(stripComment('10.0.0.56 # LAB-AIO-01')).toBe('10.0.0.56');
    const parsed = parseScopeEntries(['10.0.0.56 # LAB-AIO-01', '  10.0.0.57  ', '# just a note', '']);
    expect(parsed.targets).toEqual([
      { address: '10.0.0.56', targetInput: '10.0.0.56 # LAB-AIO-01' },
      { address: '10.0.0.57', targetInput: '  10.0.0.57  ' },
    ]);
    expect(parsed.invalid).toEqual([]);
  });

  it('expands CIDRs to host addresses', () => {
    expect(addresses(parseScopeEntries(['192.168.1.0/30']).targets)).toEqual(['192.168.1.1', '192.168.1.2']);
    expect(addresses(parseScopeEntries(['192.168.1.7/31']).targets)).toEqual(['192.168.1.6', '192.168.1.7']);
    expect(addresses(parseScopeEntries(['192.168.1.9/32']).targets)).toEqual(['192.168.1.9']);
    const slash24 = parseScopeEntries(['10.1.2.99/24 # host bits ignored']).targets;
    expect(slash24).toHaveLength(254);
    expect(slash24[0]).toEqual({ address: '10.1.2.1', targetInput: '10.1.2.99/24 # host bits ignored' });
    expect(slash24.at(-1)!.address).toBe('10.1.2.254');
  });

  it('expands full and last-octet ranges, inclusive', () => {
    expect(addresses(parseScopeEntries(['10.0.0.5-10.0.0.8']).targets)).toEqual(['10.0.0.5', '10.0.0.6', '10.0.0.7', '10.0.0.8']);
    expect(addresses(parseScopeEntries(['10.0.0.5 - 7 # three']).targets)).toEqual(['10.0.0.5', '10.0.0.6', '10.0.0.7']);
    expect(addresses(parseScopeEntries(['10.0.0.254-10.0.1.1']).targets)).toEqual(['10.0.0.254', '10.0.0.255', '10.0.1.0', '10.0.1.1']);
  });

  it('applies exclusions of every form without expanding them', () => {
    const parsed = parseScopeEntries(
      ['10.0.0.1-10.0.0.10 # lab', '172.16.0.1'],
      ['10.0.0.2', '10.0.0.4-5 # printers', '10.0.0.8/30', '172.16.0.0/12 # all of it'],
    );
    // A CIDR exclusion covers its whole block: 10.0.0.8/30 keeps out .8 to .11.
    expect(addresses(parsed.targets)).toEqual(['10.0.0.1', '10.0.0.3', '10.0.0.6', '10.0.0.7']);
    expect(parsed.excluded).toEqual([
      ...['10.0.0.2', '10.0.0.4', '10.0.0.5', '10.0.0.8', '10.0.0.9', '10.0.0.10'].map((address) => ({ address, targetInput: '10.0.0.1-10.0.0.10 # lab' })),
      { address: '172.16.0.1', targetInput: '172.16.0.1' },
    ]);
    expect(parsed.invalid).toEqual([]);
  });

  it('reports malformed entries one by one and keeps the rest', () => {
    const parsed = parseScopeEntries(
      ['10.0.0.1', '10.0.0.999 # typo', 'printer.local', '10.0.0.9-10.0.0.3', '10.0.0.1/33', '010.0.0.1', 'fe80::1', 42, '10.0.0.2-300', '10.0.0.2'],
      ['10.0.0.x # bad exclusion'],
    );
    expect(addresses(parsed.targets)).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(parsed.invalid.map((p) => p.input)).toEqual([
      '10.0.0.x # bad exclusion',
      '10.0.0.999 # typo',
      'printer.local',
      '10.0.0.9-10.0.0.3',
      '10.0.0.1/33',
      '010.0.0.1',
      'fe80::1',
      '42',
      '10.0.0.2-300',
    ]);
    expect(parsed.invalid[0]).toMatchObject({ exclusion: true });
    expect(parsed.invalid[1]!.error).toMatch(/not an IPv4 address, CIDR .* or range/);
    expect(parsed.invalid[3]!.error).toBe('range end 10.0.0.3 is before its start 10.0.0.9');
    expect(parsed.invalid[4]!.error).toMatch(/prefix length/);
    expect(parsed.invalid[6]!.error).toMatch(/IPv6/);
    expect(parsed.invalid[7]!.error).toBe('entry must be a string');
  });

  it('caps what one entry and the whole scope may expand to', () => {
    expect(MAX_ENTRY_ADDRESSES).toBe(1024);
    expect(parseScopeEntries(['10.0.0.0/22']).targets).toHaveLength(1022);
    const big = parseScopeEntries(['10.0.0.0/21 # too wide', '10.9.0.0-10.9.4.0', '10.0.0.1']);
    expect(addresses(big.targets)).toEqual(['10.0.0.1']);
    expect(big.invalid).toEqual([
      { input: '10.0.0.0/21 # too wide', error: 'expands to 2046 addresses; at most 1024 per entry (a /22)' },
      { input: '10.9.0.0-10.9.4.0', error: 'expands to 1025 addresses; at most 1024 per entry (a /22)' },
    ]);
    const total = parseScopeEntries(['10.0.0.0/24', '10.0.1.0/24', '10.0.2.1'], [], { maxTotal: 300 });
    expect(total.targets).toHaveLength(255);
    expect(total.invalid).toEqual([{ input: '10.0.1.0/24', error: 'would take the scope past 300 targets; entry not expanded' }]);
  });

  it('names an address once, credited to the first entry', () => {
    const parsed = parseScopeEntries(['10.0.0.1-3 # first', '10.0.0.2 # again']);
    expect(parsed.targets).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3'].map((address) => ({ address, targetInput: '10.0.0.1-3 # first' })));
  });

  it('reads the scope from targets_json with ports and site', () => {
    const scope = parseOnboardingScope({ onboarding_scope: { site_id: 3, entries: ['10.0.0.1'], exclusions: [], ports: [22, 2222, 22] } });
    expect(scope).toMatchObject({ siteId: 3, ports: [22, 2222], targets: [{ address: '10.0.0.1', targetInput: '10.0.0.1' }] });
    expect(parseOnboardingScope({ onboarding_scope: { site_id: 3, entries: [] } }).ports).toEqual([22]);
    expect(parseOnboardingScope({ onboarding_scope: { site_id: 3, entries: [] } }, { fallbackPorts: [5985] }).ports).toEqual([5985]);
    expect(() => parseOnboardingScope({ sites: [1] })).toThrow(ScopeError);
    expect(() => parseOnboardingScope({ onboarding_scope: { entries: '10.0.0.1' } })).toThrow(/entries must be an array/);
    expect(() => parseOnboardingScope({ onboarding_scope: { entries: [], ports: [0] } })).toThrow(/ports must be/);
  });

  it('parses single specs', () => {
    expect(parseAddressSpec('0.0.0.0')).toEqual({ start: 0, end: 0 });
    expect(parseAddressSpec('255.255.255.255')).toEqual({ start: 2 ** 32 - 1, end: 2 ** 32 - 1 });
    expect(parseAddressSpec('1.2.3')).toHaveProperty('error');
  });
});

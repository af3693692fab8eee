import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { selectPoolSettings } from '../../src/db/pool-profile.js';

const GIB = 1024 ** 3;
const host = (vcpus: number, gib: number) => ({ vcpus, memoryBytes: gib * GIB });
const plenty = 1024; // GiB or vCPUs that never limit the other axis

describe('selectPoolSettings: CPU and RAM are ranked separately and the lower rank picks the pool profile', () => {
  it.each([
    [7, 'Homelab'],
    [8, 'Small Business'],
    [15, 'Small Business'],
    [16, 'MSP / Production'],
    [23, 'MSP / Production'],
    [24, 'Enterprise'],
  ])('ranks %i vCPU as %s when RAM is ample', (vcpus, profile) => {
    expect(selectPoolSettings(host(vcpus, plenty)).profile).toBe(profile);
  });

  it.each([
    [15, 'Homelab'],
    [15.99, 'Homelab'],
    [16, 'Small Business'],
    [31, 'Small Business'],
    [32, 'MSP / Production'],
    [63, 'MSP / Production'],
    [64, 'Enterprise'],
  ])('ranks %d GiB as %s when CPUs are ample', (gib, profile) => {
    expect(selectPoolSettings(host(plenty, gib)).profile).toBe(profile);
  });

  it('takes the lower rank on unbalanced hosts', () => {
    expect(selectPoolSettings(host(64, 8)).profile).toBe('Homelab');
    expect(selectPoolSettings(host(4, 256)).profile).toBe('Homelab');
    expect(selectPoolSettings(host(24, 40)).profile).toBe('MSP / Production');
    expect(selectPoolSettings(host(12, 64)).profile).toBe('Small Business');
  });

  it('maps each profile to its pool size and overflow; max = size + overflow', () => {
    expect(selectPoolSettings(host(2, 24))).toMatchObject({ poolSize: 10, maxOverflow: 10, poolMax: 20 });
    expect(selectPoolSettings(host(8, 16))).toMatchObject({ poolSize: 12, maxOverflow: 16, poolMax: 28 });
    expect(selectPoolSettings(host(16, 32))).toMatchObject({ poolSize: 20, maxOverflow: 20, poolMax: 40 });
    expect(selectPoolSettings(host(24, 64))).toMatchObject({ poolSize: 24, maxOverflow: 24, poolMax: 48 });
  });

  it('lets DB_POOL_SIZE and DB_MAX_OVERFLOW override one by one', () => {
    const s = selectPoolSettings(host(2, 24), { DB_POOL_SIZE: '3' });
    expect(s).toMatchObject({ profile: 'Homelab', poolSize: 3, maxOverflow: 10, poolMax: 13, overridden: true });
    expect(selectPoolSettings(host(2, 24), { DB_MAX_OVERFLOW: '0' })).toMatchObject({ poolMax: 10 });
    expect(selectPoolSettings(host(2, 24), { DB_POOL_SIZE: '' }).overridden).toBe(false);
  });

  it('rejects overrides that are not counts', () => {
    expect(() => selectPoolSettings(host(2, 24), { DB_POOL_SIZE: 'ten' })).toThrow(UserError);
    expect(() => selectPoolSettings(host(2, 24), { DB_POOL_SIZE: '0' })).toThrow(/DB_POOL_SIZE/);
    expect(() => selectPoolSettings(host(2, 24), { DB_MAX_OVERFLOW: '-1' })).toThrow(/DB_MAX_OVERFLOW/);
  });
});

import { defineConfig } from 'vitest/config';

/**
 * The multi-host scenarios (test/cluster): network-namespace hosts each running a scheduler and its
 * site workers against one PostgreSQL, with partitions, kill -9 and a server restart. Heavy and
 * partly destructive (the restart), so `npm run test:cluster` runs them alone, one file at a time,
 * after `npm test` (.ci/run). Bounded: CLUSTER_STEADY_SECONDS and friends size the scenarios.
 */
export default defineConfig({
  test: {
    include: ['test/cluster/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: process.env.CI ? ['verbose'] : ['default'],
  },
});

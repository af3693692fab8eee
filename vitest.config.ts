import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Server-restart faults and the multi-host scenarios run alone, after this suite (vitest.faults.config.ts, vitest.cluster.config.ts).
    exclude: [...configDefaults.exclude, 'test/faults/**', 'test/cluster/**'],
    globalSetup: ['test/global-setup.ts'],
    // Real processes, real PostgreSQL: generous per-test limits, no retries that could hide flakes.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Test names carry the backend ("[sqlite]", "[postgres]"), so the verbose list shows both ran.
    reporters: process.env.CI ? ['verbose'] : ['default'],
  },
});

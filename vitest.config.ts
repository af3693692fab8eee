import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Server-restart faults run alone, after this suite (vitest.faults.config.ts).
    exclude: [...configDefaults.exclude, 'test/faults/**'],
    globalSetup: ['test/global-setup.ts'],
    // Real processes, real PostgreSQL: generous per-test limits, no retries that could hide flakes.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Test names carry the backend ("[sqlite]", "[postgres]"), so the verbose list shows both ran.
    reporters: process.env.CI ? ['verbose'] : ['default'],
  },
});

import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // Real processes, real PostgreSQL: generous per-test limits, no retries that could hide flakes.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Test names carry the backend ("[sqlite]", "[postgres]"), so the verbose list shows both ran.
    reporters: process.env.CI ? ['verbose'] : ['default'],
  },
});

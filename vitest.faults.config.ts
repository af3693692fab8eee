import { defineConfig } from 'vitest/config';

/**
 * Faults that take down the shared PostgreSQL server itself (a real restart). They would break
 * every test file running beside them, so `npm test` runs them after the main suite, one file
 * at a time.
 */
export default defineConfig({
  test: {
    include: ['test/faults/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: process.env.CI ? ['verbose'] : ['default'],
  },
});

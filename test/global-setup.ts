/**
 * Runs once before any test file. PostgreSQL is not optional: every database test runs on both
 * backends, so an unreachable server fails the whole suite here with instructions, never a skip.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import pg from 'pg';
import { maskUrl } from '../src/db/url.js';
import { TEST_POSTGRES_URL } from './helpers/env.js';

const ROOT = join(import.meta.dirname, '..');

export default async function setup(): Promise<void> {
  // Child-process tests (consumers, workers, the CLI) run the compiled code in dist/: build it
  // first so they never test a stale copy. Incremental, so an unchanged tree costs little.
  execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'tsconfig.build.json')], {
    stdio: 'inherit',
  });

  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    await client.query('select 1');
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(
      `PostgreSQL is required for the test suite and is not reachable at ${maskUrl(TEST_POSTGRES_URL)} (${reason}).\n` +
        `Start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start\n` +
        `or point TEST_POSTGRES_URL at a server you can use.`,
    );
  } finally {
    await client.end().catch(() => {});
  }
}

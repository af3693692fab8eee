/**
 * The machine's own PostgreSQL cluster, for the tests that restart it (serial suites only: a
 * restart breaks every test running beside it).
 */
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { promisify } from 'node:util';
import pg from 'pg';
import { TEST_POSTGRES_URL } from './env.js';

const execFileAsync = promisify(execFile);

/** The local cluster, whatever PostgreSQL version is installed (one cluster named "main"). */
function clusterVersion(): string {
  const versions = readdirSync('/etc/postgresql');
  if (versions.length !== 1) throw new Error(`expected one PostgreSQL version under /etc/postgresql, found: ${versions.join(', ')}`);
  return versions[0]!;
}

export async function pgctl(action: 'restart' | 'start'): Promise<void> {
  await execFileAsync('pg_ctlcluster', ['--skip-systemctl-redirect', clusterVersion(), 'main', action]);
}

/** When the running postmaster started (epoch ms), or 0 while none accepts connections. */
export async function postmasterStartedAt(): Promise<number> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL, connectionTimeoutMillis: 2_000, application_name: 'jobyard-test-restart' });
  client.on('error', () => {});
  try {
    await client.connect();
    const r = await client.query<{ t: string }>('select (extract(epoch from pg_postmaster_start_time()) * 1000)::bigint::text as t');
    return Number(r.rows[0]!.t);
  } catch {
    return 0;
  } finally {
    await client.end().catch(() => {});
  }
}

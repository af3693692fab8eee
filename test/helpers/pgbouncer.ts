/**
 * A real PgBouncer (Debian's /usr/sbin/pgbouncer) in front of the test PostgreSQL, started by a
 * test on a free port with its own temporary config (never the system service): any database
 * name is forwarded to 127.0.0.1:5432 as user postgres (auth_type=any), in the pool mode asked for.
 * PgBouncer refuses to run as root, so it runs as `postgres` when the tests run as root.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PgBouncer {
  readonly port: number;
  /** `url` with its host and port replaced by PgBouncer's. */
  urlFor(url: string): string;
  /** Everything PgBouncer logged (stderr). */
  log(): string;
  stop(): Promise<void>;
}

const PGBOUNCER = '/usr/sbin/pgbouncer';

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export async function startPgBouncer(options: { poolMode: 'transaction' | 'session'; target?: { host: string; port: number } }): Promise<PgBouncer> {
  const dir = mkdtempSync(join(tmpdir(), 'jobyard-pgbouncer-'));
  chmodSync(dir, 0o755);
  const port = await freePort();
  const target = options.target ?? { host: '127.0.0.1', port: 5432 };
  const config = join(dir, 'pgbouncer.ini');
  writeFileSync(
    config,
    [
      '[databases]',
      `* = host=${target.host} port=${target.port} user=postgres`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'auth_type = any',
      `pool_mode = ${options.poolMode}`,
      'unix_socket_dir =',
      'max_client_conn = 200',
      'default_pool_size = 4',
      // No ignore_startup_parameters: jobyard must not send what a pooler refuses.
      '',
    ].join('\n'),
  );
  chmodSync(config, 0o644);
  const args = process.getuid?.() === 0 ? ['-u', 'postgres', config] : [config];
  const child: ChildProcess = spawn(PGBOUNCER, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (log += c));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 10_000;
  while (!(await accepts(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`pgbouncer did not start on ${port}: ${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    urlFor(url) {
      const u = new URL(url);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    log: () => log,
    async stop() {
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

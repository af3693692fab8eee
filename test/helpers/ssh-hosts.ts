/**
 * Real SSH test hosts: Debian's OpenSSH server (`/usr/sbin/sshd -D -e -f <temp config>`) inside a
 * network namespace (netns.ts), with a host key of its own made by ssh-keygen, listening on the
 * namespace's address only. Users are real accounts made for the run (useradd; removed by
 * `removeTestUsers`), since sshd authenticates against the system's passwd/shadow.
 *
 * - `createTestUsers()`: a user with a password, an authorized ed25519 key (passphrase-protected)
 *   and a sudoers drop-in (sudo with password), and one with a password and no sudo right.
 * - `startSshHost({ users })`: sshd allowing those users; `refuse: true` allows nobody (every
 *   credential is refused); `rotateHostKey()` restarts sshd with a new host key; `host` gives
 *   linkDown/linkUp for the unreachable case.
 *
 * Needs root, iproute2, openssh-server and sudo (scripts/test-packages.sh installs them).
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Store } from '../../src/db/open.js';
import { assignDeviceToSite, upsertDevice } from '../../src/inventory/devices.js';
import { createSite } from '../../src/inventory/sites.js';
import { createNetnsHost, type NetnsHost } from './netns.js';

const run = promisify(execFile);

export interface TestUser {
  name: string;
  password: string;
  home: string;
  /** OpenSSH private key (for the sudoer), encrypted with `passphrase`. */
  privateKey?: string;
  passphrase?: string;
  sudo: boolean;
}

export interface TestUsers {
  sudoer: TestUser;
  plain: TestUser;
}

/** Creates the two users of a test file (names unique to this process). */
export async function createTestUsers(): Promise<TestUsers> {
  const tag = `${process.pid % 100000}${randomBytes(2).toString('hex')}`;
  const make = async (name: string, sudo: boolean): Promise<TestUser> => {
    const password = `pw-${randomBytes(9).toString('base64url')}`;
    await run('useradd', ['-m', '-s', '/bin/sh', name]);
    await pipeTo('chpasswd', [], `${name}:${password}\n`);
    const home = `/home/${name}`;
    const user: TestUser = { name, password, home, sudo };
    if (sudo) {
      writeFileSync(`/etc/sudoers.d/jobyard-test-${name}`, `${name} ALL=(ALL) ALL\n`, { mode: 0o440 });
      const dir = mkdtempSync(join(tmpdir(), 'jy-key-'));
      const passphrase = `pp-${randomBytes(9).toString('base64url')}`;
      await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-C', name, '-f', join(dir, 'id')]);
      mkdirSync(`${home}/.ssh`, { recursive: true, mode: 0o700 });
      writeFileSync(`${home}/.ssh/authorized_keys`, readFileSync(join(dir, 'id.pub')), { mode: 0o600 });
      await run('chown', ['-R', `${name}:${name}`, `${home}/.ssh`]);
      user.privateKey = readFileSync(join(dir, 'id'), 'utf8');
      user.passphrase = passphrase;
      rmSync(dir, { recursive: true, force: true });
    }
    return user;
  };
  return { sudoer: await make(`jys${tag}`, true), plain: await make(`jyp${tag}`, false) };
}

export async function removeTestUsers(users: TestUsers | undefined): Promise<void> {
  if (!users) return;
  for (const user of [users.sudoer, users.plain]) {
    await run('pkill', ['-KILL', '-u', user.name]).catch(() => undefined);
    rmSync(`/etc/sudoers.d/jobyard-test-${user.name}`, { force: true });
    await run('userdel', ['-r', '-f', user.name]).catch(() => undefined);
  }
}

export interface SshHost {
  readonly host: NetnsHost;
  readonly address: string;
  readonly port: number;
  /** `SHA256:…` of the current host key. */
  fingerprint(): Promise<string>;
  /** Restarts sshd with a freshly generated host key. */
  rotateHostKey(): Promise<void>;
  /** sshd's log so far (stderr, -e). */
  log(): string;
  stop(): Promise<void>;
}

export interface SshHostOptions {
  users: readonly TestUser[];
  /** Allow no user at all: every login is refused. */
  refuse?: boolean;
}

/** Starts sshd in a new namespace and resolves once it listens. */
export async function startSshHost(options: SshHostOptions): Promise<SshHost> {
  const host = await createNetnsHost();
  const dir = mkdtempSync(join(tmpdir(), 'jy-sshd-'));
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 }); // sshd's privilege-separation directory
  const keyFile = join(dir, 'host_ed25519');
  const config = join(dir, 'sshd_config');
  const allow = options.refuse || options.users.length === 0 ? 'jobyard-nobody-allowed' : options.users.map((u) => u.name).join(' ');
  writeFileSync(
    config,
    [
      `ListenAddress ${host.address}`,
      'Port 22',
      `HostKey ${keyFile}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      'UsePAM no',
      'PasswordAuthentication yes',
      'PubkeyAuthentication yes',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin no',
      `AllowUsers ${allow}`,
      'MaxSessions 30',
      'MaxStartups 100:30:200',
      'StrictModes no',
      'LogLevel VERBOSE',
      '',
    ].join('\n'),
  );
  chmodSync(config, 0o600);
  let child: ChildProcess | undefined;
  let output = '';

  const newKey = async () => {
    rmSync(keyFile, { force: true });
    rmSync(`${keyFile}.pub`, { force: true });
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', keyFile]);
  };
  const start = () =>
    new Promise<void>((resolve, reject) => {
      const proc = host.spawn('/usr/sbin/sshd', ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
      child = proc;
      proc.stderr!.on('data', (d: Buffer) => {
        output += d.toString();
        if (output.includes(`Server listening on ${host.address} port 22`)) resolve();
      });
      proc.once('exit', (code) => reject(new Error(`sshd exited (${code}) before listening:\n${output}`)));
    });
  const stopSshd = async () => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    // `ip netns exec` execs sshd: this pid is sshd's.
    proc.kill('SIGTERM');
    await exited;
  };

  await newKey();
  await start();
  return {
    host,
    address: host.address,
    port: 22,
    fingerprint: async () => {
      const { stdout } = await run('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${keyFile}.pub`]);
      return stdout.split(' ')[1]!;
    },
    rotateHostKey: async () => {
      await stopSshd();
      await newKey();
      await start();
    },
    log: () => output,
    stop: async () => {
      await stopSshd();
      await host.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function pipeTo(command: string, args: string[], input: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = execFile(command, args, (err) => (err ? reject(err) : resolve()));
    child.stdin!.end(input);
  });
}

/** A site with one device per entry, each reached at that test host's address (both backends). */
export async function siteOfSshHosts(store: Store, T: number, devices: Record<string, SshHost>): Promise<{ id: number }> {
  const s = await createSite(store, { name: `site-${T}` }, T);
  for (const [hostname, host] of Object.entries(devices)) {
    await upsertDevice(store, { guid: `guid-${hostname}`, hostname, status: 'online', last_seen: T, connection_endpoint: `${host.address}:${host.port}` }, T);
    await assignDeviceToSite(store, hostname, s.id, T);
  }
  return s;
}

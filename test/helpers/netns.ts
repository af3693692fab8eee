/**
 * Test hosts in network namespaces: each "host" is a namespace joined to the machine by a veth pair
 * with a private /30 (10.231.x.y), so what runs inside it reaches the machine only over that link,
 * and taking the link down cuts it without a FIN (a real partition or a blackholed socket). Nothing
 * leaves the machine: the namespace has no route beyond its peer address.
 *
 * Allocation is safe across concurrent test files: a subnet is claimed by creating a directory
 * (atomic) under /tmp/jobyard-netns, named by its index and holding the owner's pid; claims and
 * namespaces left by a process that died are removed before new ones are made.
 *
 * Needs root and iproute2 (`ip`); scripts/test-env.sh installs iproute2 on a fresh machine.
 */
import { execFile, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { promisify } from 'node:util';

const run = promisify(execFile);
const CLAIMS_DIR = '/tmp/jobyard-netns';
const SLOTS = 256 * 64; // 10.231.0.0/16 in /30 subnets
const NAME_PREFIX = 'jyt';

export interface NetnsHost {
  /** The namespace's name (`ip netns exec <ns> …`). */
  readonly ns: string;
  /** The host's own address inside the namespace. */
  readonly address: string;
  /** The machine's end of the link: the only address the host can reach. */
  readonly gateway: string;
  /** Starts a program inside the namespace. */
  spawn(command: string, args: readonly string[], options?: SpawnOptions): ChildProcess;
  /** Runs a command inside the namespace and returns its stdout (throws on a non-zero exit). */
  exec(command: string, args: readonly string[]): Promise<string>;
  /** Cuts the link (both ends down): packets are dropped, sockets stay half-open, no FIN is sent. */
  linkDown(): Promise<void>;
  linkUp(): Promise<void>;
  /** Deletes the namespace (its end of the veth pair goes with it) and frees the subnet. */
  destroy(): Promise<void>;
}

async function ip(...args: string[]): Promise<string> {
  const { stdout } = await run('ip', args);
  return stdout;
}

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** Frees the subnets and namespaces of test processes that are gone. */
async function removeStale(): Promise<void> {
  mkdirSync(CLAIMS_DIR, { recursive: true });
  for (const slot of readdirSync(CLAIMS_DIR)) {
    let pid = 0;
    try {
      pid = Number(readFileSync(`${CLAIMS_DIR}/${slot}/pid`, 'utf8'));
    } catch {
      // A claim whose pid file is not written yet belongs to a live process mid-claim.
      continue;
    }
    if (pid > 0 && !isAlive(pid)) rmSync(`${CLAIMS_DIR}/${slot}`, { recursive: true, force: true });
  }
  const namespaces = (await ip('netns', 'list')).split('\n').map((line) => line.split(' ')[0] ?? '');
  for (const ns of namespaces) {
    const m = new RegExp(`^${NAME_PREFIX}(\\d+)_\\d+$`).exec(ns);
    if (m && !isAlive(Number(m[1]))) await ip('netns', 'del', ns).catch(() => undefined);
  }
}

function claimSlot(): number {
  const start = (process.pid * 7919) % SLOTS;
  for (let i = 0; i < SLOTS; i++) {
    const slot = (start + i) % SLOTS;
    try {
      mkdirSync(`${CLAIMS_DIR}/${slot}`);
    } catch {
      continue;
    }
    writeFileSync(`${CLAIMS_DIR}/${slot}/pid`, String(process.pid));
    return slot;
  }
  throw new Error(`netns: all ${SLOTS} test subnets are claimed (see ${CLAIMS_DIR})`);
}

let counter = 0;

/** Creates a namespace joined to the machine by a veth pair on its own /30. */
export async function createNetnsHost(): Promise<NetnsHost> {
  await removeStale();
  const slot = claimSlot();
  const index = ++counter;
  const ns = `${NAME_PREFIX}${process.pid}_${index}`;
  // Interface names are at most 15 characters.
  const outside = `jy${slot}o`;
  const inside = `jy${slot}i`;
  const base = slot * 4;
  const gateway = `10.231.${base >> 8}.${(base & 255) + 1}`;
  const address = `10.231.${base >> 8}.${(base & 255) + 2}`;
  try {
    await ip('netns', 'add', ns);
    await ip('link', 'add', outside, 'type', 'veth', 'peer', 'name', inside);
    await ip('link', 'set', inside, 'netns', ns);
    await ip('addr', 'add', `${gateway}/30`, 'dev', outside);
    await ip('link', 'set', outside, 'up');
    await ip('-n', ns, 'addr', 'add', `${address}/30`, 'dev', inside);
    await ip('-n', ns, 'link', 'set', inside, 'up');
    await ip('-n', ns, 'link', 'set', 'lo', 'up');
  } catch (err) {
    await ip('link', 'del', outside).catch(() => undefined);
    await ip('netns', 'del', ns).catch(() => undefined);
    rmSync(`${CLAIMS_DIR}/${slot}`, { recursive: true, force: true });
    throw err;
  }
  return {
    ns,
    address,
    gateway,
    spawn: (command, args, options = {}) => spawn('ip', ['netns', 'exec', ns, command, ...args], options),
    exec: async (command, args) => (await run('ip', ['netns', 'exec', ns, command, ...args])).stdout,
    linkDown: async () => {
      await ip('link', 'set', outside, 'down');
      await ip('-n', ns, 'link', 'set', inside, 'down');
    },
    linkUp: async () => {
      await ip('link', 'set', outside, 'up');
      await ip('-n', ns, 'link', 'set', inside, 'up');
    },
    destroy: async () => {
      await ip('link', 'del', outside).catch(() => undefined);
      await ip('netns', 'del', ns).catch(() => undefined);
      rmSync(`${CLAIMS_DIR}/${slot}`, { recursive: true, force: true });
    },
  };
}

export interface TcpForwarder {
  readonly host: string;
  readonly port: number;
  /** Destroys every forwarded connection at once (RST to both sides) without closing the listener. */
  cutAll(): void;
  close(): Promise<void>;
}

/**
 * A TCP forwarder on the machine's side of a link (e.g. a host's gateway address) to a service on
 * loopback (PostgreSQL at 127.0.0.1:5432): namespace hosts reach the service through it without
 * the service listening on any other address.
 */
export async function forwardTcp(listenHost: string, target: { host: string; port: number }, listenPort = 0): Promise<TcpForwarder> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    sockets.add(client).add(upstream);
    const drop = () => {
      sockets.delete(client);
      sockets.delete(upstream);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listenPort, listenHost, () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    host: listenHost,
    port,
    cutAll: () => {
      for (const s of sockets) s.resetAndDestroy();
      sockets.clear();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

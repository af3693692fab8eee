/**
 * The multi-host test bed: N network-namespace "hosts" (test/helpers/netns.ts), each running a real
 * `jobyard scheduler` (the built dist, process launcher, its own site workers as its children)
 * against one PostgreSQL database of its own, created here and dropped at the end.
 *
 * Each host reaches PostgreSQL only over its veth link, through a TCP forwarder on its gateway
 * address to the server's loopback listener: the shared server's listen_addresses and pg_hba stay
 * untouched, and a host whose link is down is cut off exactly like a pulled cable (its packets never
 * reach the forwarder; its sockets go half-open, no FIN).
 *
 * PostgreSQL only: an SQLite database is one file on one host by nature.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BackendContext } from '../helpers/backends.js';
import { JOBYARD_BIN } from '../helpers/cli.js';
import { TEST_POSTGRES_URL } from '../helpers/env.js';
import { createNetnsHost, forwardTcp, type NetnsHost, type TcpForwarder } from '../helpers/netns.js';

const run = promisify(execFile);

/** One JSON log line of a scheduler or of one of its site workers (their stdout is inherited). */
export type LogLine = Record<string, unknown> & { msg?: string; time?: number };

export interface ClusterHost {
  readonly name: string;
  readonly netns: NetnsHost;
  readonly forwarder: TcpForwarder;
  /** The scheduler's process (started by `start`). */
  scheduler: ChildProcess | undefined;
  /** Every JSON line the scheduler and its workers printed, in order. */
  readonly lines: LogLine[];
  /** Non-JSON output (stack traces, warnings). */
  text: string;
  start(env?: Record<string, string>): void;
  /** `kill -9` of every process in the namespace: the scheduler, its workers, their commands. */
  killAll(): Promise<number[]>;
  alive(): boolean;
  /** Worker guids this host's scheduler launched. */
  launchedWorkers(): Set<string>;
  count(msg: string): number;
}

export interface ClusterBed {
  readonly ctx: BackendContext;
  readonly hosts: ClusterHost[];
  teardown(): Promise<void>;
}

/**
 * What every replica gets: short intervals and leases so scenarios take seconds, small pools (a cut-off
 * host's sessions stay open on the server until TCP gives up on them).
 */
export const CLUSTER_ENV: Record<string, string> = {
  LOG_LEVEL: 'info',
  HTTP_PORT: '0',
  WORKER_LAUNCHER: 'process',
  WORKER_FLEET: 'cluster-test',
  TICK_INTERVAL_MS: '250',
  FLEET_INTERVAL_MS: '250',
  RECONCILE_INTERVAL_SECONDS: '1',
  RECLAIM_INTERVAL_SECONDS: '1',
  WORKER_IDLE_SECONDS: '30',
  // Tolerant of a loaded 2-core machine, where a worker's 5 s row heartbeat can be late by seconds.
  WORKER_STALE_SECONDS: '20',
  WORKER_LEASE_SECONDS: '10',
  WORKER_HEARTBEAT_SECONDS: '2',
  WORKER_HISTORY_SECONDS: '3600',
  WORKER_CONCURRENCY: '2',
  MAX_WORKERS: '10',
  MAX_WORKERS_PER_SITE: '1',
  DB_POOL_SIZE: '2',
  DB_MAX_OVERFLOW: '1',
  DB_CONNECTION_BUDGET: '70',
  SERVICE_SNAPSHOT_SECONDS: '0',
  MISFIRE_GRACE_SECONDS: '60',
};

export async function createClusterBed(hostCount: number): Promise<ClusterBed> {
  const ctx = new BackendContext('postgres', { isolation: 'database' });
  await ctx.setup();
  const hosts: ClusterHost[] = [];
  try {
    for (let i = 0; i < hostCount; i++) hosts.push(await createHost(`host-${i}`, ctx));
  } catch (err) {
    await Promise.all(hosts.map((h) => destroyHost(h)));
    await ctx.teardown();
    throw err;
  }
  return {
    ctx,
    hosts,
    async teardown() {
      await Promise.all(hosts.map((h) => destroyHost(h)));
      await ctx.teardown();
    },
  };
}

async function createHost(name: string, ctx: BackendContext): Promise<ClusterHost> {
  const netns = await createNetnsHost();
  const target = new URL(TEST_POSTGRES_URL);
  const forwarder = await forwardTcp(netns.gateway, { host: target.hostname, port: Number(target.port || 5432) });
  const url = new URL(ctx.url);
  url.hostname = netns.gateway;
  url.port = String(forwarder.port);
  const lines: LogLine[] = [];
  const host: ClusterHost = {
    name,
    netns,
    forwarder,
    scheduler: undefined,
    lines,
    text: '',
    start(env = {}) {
      const child = netns.spawn(process.execPath, [JOBYARD_BIN, 'scheduler'], {
        env: { ...process.env, ...CLUSTER_ENV, DATABASE_URL: url.toString(), ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      host.scheduler = child;
      // One line buffer per stream: chunks of stdout and stderr interleave.
      const reader = () => {
        let partial = '';
        return (chunk: Buffer) => {
          const parts = (partial + chunk.toString('utf8')).split('\n');
          partial = parts.pop()!;
          for (const line of parts) {
            try {
              lines.push({ ...(JSON.parse(line) as LogLine), host: name });
            } catch {
              host.text += `${line}\n`;
            }
          }
        };
      };
      child.stdout!.on('data', reader());
      child.stderr!.on('data', reader());
    },
    async killAll() {
      // Until none is left: a process forked between listing and killing (a worker starting a
      // command) is in the next listing, so every process of the host is killed and returned.
      const killed: number[] = [];
      for (let round = 0; round < 50; round++) {
        const pids = (await run('ip', ['netns', 'pids', netns.ns])).stdout.split('\n').filter(Boolean).map(Number);
        if (pids.length === 0) break;
        for (const pid of pids) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // already gone
          }
          if (!killed.includes(pid)) killed.push(pid);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      return killed;
    },
    alive: () => host.scheduler !== undefined && host.scheduler.exitCode === null && host.scheduler.signalCode === null,
    launchedWorkers: () => new Set(lines.filter((l) => l.msg === 'site worker launched').map((l) => String(l.workerGuid))),
    count: (msg) => lines.filter((l) => l.msg === msg).length,
  };
  return host;
}

async function destroyHost(h: ClusterHost): Promise<void> {
  await h.killAll().catch(() => []);
  // CLUSTER_LOG_DIR: every host's log lines kept for a post-mortem (one JSON line each).
  const logDir = process.env.CLUSTER_LOG_DIR;
  if (logDir) {
    mkdirSync(logDir, { recursive: true });
    writeFileSync(join(logDir, `${h.name}.jsonl`), h.lines.map((l) => JSON.stringify(l)).join('\n') + '\n' + h.text);
  }
  if (h.scheduler && h.alive()) await new Promise((r) => h.scheduler!.once('exit', r));
  await h.forwarder.close();
  await h.netns.destroy();
}

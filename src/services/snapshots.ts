/**
 * Service snapshots: one `job_scheduler_service_snapshots` row per compose service on the engine
 * (service_key `<project>/<service>`), upserted with what its containers look like now. Rows of
 * services that disappeared are kept (their updated_at stops moving): several schedulers may share
 * one database while watching different engines, so one engine's view cannot delete another's.
 *
 * `snapshotServices` is one pass and never throws for an engine problem: it returns
 * `{ available: false }` instead. `createServiceSnapshotter` wraps it for a periodic loop and logs
 * an unreachable engine once (and once again when it answers), not on every interval.
 */
import type Dockerode from 'dockerode';
import { toJson } from '../db/dialect.js';
import type { Store } from '../db/open.js';
import { describeError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { containerName, LABEL_COMPOSE_PROJECT, LABEL_COMPOSE_SERVICE, listComposeContainers, startedAt } from './engine.js';

/** One container of a service, as stored in payload_json. */
export interface ContainerSnapshot {
  name: string;
  id: string;
  /** created, running, paused, restarting, removing, exited, dead. */
  state: string;
  /** The engine's human status ("Up 3 minutes (healthy)"). */
  status: string;
  /** healthy, unhealthy, starting; null without a healthcheck. */
  health: string | null;
  image: string;
  /** State.StartedAt (ISO-8601); null if it never started. */
  started_at: string | null;
  restart_count: number;
}

/** payload_json of one snapshot row. */
export interface ServiceSnapshot {
  project: string;
  service: string;
  /** running: every container runs; stopped: none does; partial: some do. */
  state: 'running' | 'stopped' | 'partial';
  /** unhealthy if any container is, starting if any is, healthy if all with a healthcheck are; null without healthchecks. */
  health: 'healthy' | 'unhealthy' | 'starting' | null;
  running: number;
  total: number;
  containers: ContainerSnapshot[];
}

export type SnapshotResult =
  | { available: true; services: string[]; at: number }
  | { available: false; error: string; at: number };

export interface SnapshotOptions {
  store: Store;
  docker: Dockerode;
  logger?: Logger;
  /** Epoch ms written as updated_at (default Date.now()). */
  now?: number;
  /** Give up on an engine that does not answer within this long (default 10 s). */
  timeoutMs?: number;
}

/** Rows per upsert statement. */
const CHUNK = 200;

/** One pass: reads the engine, upserts a row per compose service. Database errors do throw. */
export async function snapshotServices(options: SnapshotOptions): Promise<SnapshotResult> {
  const at = options.now ?? Date.now();
  let snapshots: Map<string, ServiceSnapshot>;
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(new Error(`no answer within ${options.timeoutMs ?? 10_000} ms`)), options.timeoutMs ?? 10_000);
  try {
    snapshots = await readServices(options.docker, abort.signal);
  } catch (err) {
    const reason = abort.signal.aborted ? describeError(abort.signal.reason) : describeError(err);
    return { available: false, error: reason, at };
  } finally {
    clearTimeout(timer);
  }
  const rows = [...snapshots].map(([key, payload]) => ({ service_key: key, payload_json: toJson(payload), updated_at: at }));
  for (let i = 0; i < rows.length; i += CHUNK) {
    await options.store.db
      .insertInto('job_scheduler_service_snapshots')
      .values(rows.slice(i, i + CHUNK))
      .onConflict((oc) =>
        oc.column('service_key').doUpdateSet((eb) => ({
          payload_json: eb.ref('excluded.payload_json'),
          updated_at: eb.ref('excluded.updated_at'),
        })),
      )
      .execute();
  }
  (options.logger ?? silentLogger).debug({ services: rows.length }, 'service snapshots written');
  return { available: true, services: [...snapshots.keys()], at };
}

async function readServices(docker: Dockerode, signal: AbortSignal): Promise<Map<string, ServiceSnapshot>> {
  const infos = await listComposeContainers(docker, signal);
  const byService = new Map<string, { project: string; service: string; containers: ContainerSnapshot[] }>();
  // Inspect for what the list does not carry (health, start time, restart count). A container
  // removed in between keeps what the list said.
  const details = await Promise.all(
    infos.map((i) => docker.getContainer(i.Id).inspect({ abortSignal: signal }).catch(() => undefined)),
  );
  signal.throwIfAborted();
  infos.forEach((info, n) => {
    const project = info.Labels[LABEL_COMPOSE_PROJECT] ?? '';
    const service = info.Labels[LABEL_COMPOSE_SERVICE] ?? '';
    if (project === '' || service === '') return;
    const key = `${project}/${service}`;
    const entry = byService.get(key) ?? { project, service, containers: [] };
    byService.set(key, entry);
    const detail = details[n];
    entry.containers.push({
      name: containerName(info),
      id: info.Id,
      state: detail?.State?.Status ?? info.State ?? 'unknown',
      status: info.Status ?? '',
      health: detail?.State?.Health?.Status ?? null,
      image: info.Image,
      started_at: startedAt(detail?.State),
      restart_count: detail?.RestartCount ?? 0,
    });
  });
  const result = new Map<string, ServiceSnapshot>();
  for (const [key, { project, service, containers }] of [...byService].sort(([a], [b]) => a.localeCompare(b))) {
    containers.sort((a, b) => a.name.localeCompare(b.name));
    const running = containers.filter((c) => c.state === 'running').length;
    result.set(key, {
      project,
      service,
      state: running === containers.length ? 'running' : running === 0 ? 'stopped' : 'partial',
      health: aggregateHealth(containers),
      running,
      total: containers.length,
      containers,
    });
  }
  return result;
}

function aggregateHealth(containers: ContainerSnapshot[]): ServiceSnapshot['health'] {
  const checked = containers.map((c) => c.health).filter((h): h is string => h !== null && h !== 'none');
  if (checked.length === 0) return null;
  if (checked.includes('unhealthy')) return 'unhealthy';
  if (checked.includes('starting')) return 'starting';
  return 'healthy';
}

export interface ServiceSnapshotter {
  /** One pass; logs an unreachable engine once until it answers again. Never throws for engine problems. */
  run(now?: number): Promise<SnapshotResult>;
  /** True after a pass found no engine, until one finds it again. */
  readonly unavailable: boolean;
}

export function createServiceSnapshotter(options: Omit<SnapshotOptions, 'now'>): ServiceSnapshotter {
  const logger = options.logger ?? silentLogger;
  let unavailable = false;
  return {
    get unavailable() {
      return unavailable;
    },
    async run(now?: number) {
      const result = await snapshotServices({ ...options, ...(now !== undefined ? { now } : {}) });
      if (!result.available && !unavailable) {
        logger.warn({ err: result.error }, 'docker engine unavailable: service snapshots paused until it answers');
      } else if (result.available && unavailable) {
        logger.info({ services: result.services.length }, 'docker engine available again: service snapshots resumed');
      }
      unavailable = !result.available;
      return result;
    },
  };
}

/** Every stored snapshot row, by service key: what the status API and the dashboard show. */
export async function listServiceSnapshots(store: Store) {
  return store.db.selectFrom('job_scheduler_service_snapshots').select(['service_key', 'payload_json', 'updated_at']).orderBy('service_key').execute();
}

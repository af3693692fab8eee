/**
 * Spare worker containers (docker launcher, WORKER_SPARES): containers created and started before
 * any site needs them, each a worker that loaded its modules and waits on its one-shot stdin for
 * an assignment (spare-worker.ts). A launch then costs a rename and one write instead of creating
 * and starting a container and booting node in it.
 *
 * Docker labels cannot change after create; a name can. So a waiting spare is named
 * `jobyard-spare-<uuid>` and labelled `jobyard.spare` (never `jobyard.worker_guid`): neither
 * `list()` nor the reconciliation, of this scheduler or a replica, takes it for a worker. A launch
 * renames it `site-worker-<guid>` before writing the assignment, and from then on the worker's
 * guid is read from that name (`spareBornWorker`). A spare holds no site, row or connection; one
 * whose scheduler dies sees its stdin close (StdinOnce), exits 0, and the next `list()` removes it.
 */
import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type Dockerode from 'dockerode';
import { containerName } from '../docker/errors.js';
import type { Logger } from '../log.js';

/** Carried by every spare container, waiting or assigned. */
export const LABEL_SPARE = 'jobyard.spare';

const SPARE_NAME_PREFIX = 'jobyard-spare-';
const WORKER_NAME = /^site-worker-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

/** A started spare container whose stdin is still ours. */
export interface WaitingSpare {
  name: string;
  container: Dockerode.Container;
  /** The hijacked attach connection; closed by whoever ends the spare's wait (assignment or removal). */
  stdin: Duplex;
}

/** How a spare container becomes one: create, attach stdin, start (docker-launcher.ts). */
export type BootSpare = (name: string) => Promise<WaitingSpare>;

export interface SparePool {
  /** A waiting spare, taken out of the pool (a replacement starts booting); undefined if none waits. */
  take(): WaitingSpare | undefined;
  /** The names of the spares waiting now (for status and tests). */
  waitingNames(): string[];
  /** Removes the waiting spares and boots no more. */
  close(): Promise<void>;
}

/** The worker guid of a spare-born container (named `site-worker-<guid>`), or null for a waiting spare. */
export function spareBornWorkerGuid(info: Dockerode.ContainerInfo): string | null {
  return WORKER_NAME.exec(containerName(info))?.[1] ?? null;
}

/** True for a spare that was never assigned. */
export function isWaitingSpare(info: Dockerode.ContainerInfo): boolean {
  return containerName(info).startsWith(SPARE_NAME_PREFIX);
}

/** Retry delays after a spare failed to boot or died unused: 1 s, doubling to 30 s. */
const RETRY_FIRST_MS = 1_000;
const RETRY_MAX_MS = 30_000;

export function createSparePool(options: { wanted: number; boot: BootSpare; logger: Logger }): SparePool {
  const waiting = new Set<WaitingSpare>();
  let booting = 0;
  let closed = false;
  let retryMs = 0;
  let retryTimer: NodeJS.Timeout | undefined;
  const inFlight = new Set<Promise<void>>();

  const remove = (spare: WaitingSpare) => {
    spare.stdin.destroy();
    return spare.container.remove({ force: true, v: true }).catch(() => {});
  };

  /** A spare that failed or died unused: try again later, a little later each time in a row. */
  const retryLater = () => {
    retryMs = Math.min(RETRY_MAX_MS, retryMs === 0 ? RETRY_FIRST_MS : retryMs * 2);
    if (closed || retryTimer) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      refill();
    }, retryMs);
    retryTimer.unref();
  };

  async function bootOne(): Promise<void> {
    booting++;
    let spare: WaitingSpare;
    try {
      spare = await options.boot(`${SPARE_NAME_PREFIX}${randomUUID()}`);
    } catch (err) {
      booting--;
      options.logger.warn({ err: (err as Error).message, retryInMs: Math.min(RETRY_MAX_MS, retryMs * 2 || RETRY_FIRST_MS) }, 'cannot start a spare worker container');
      retryLater();
      return;
    }
    booting--;
    if (closed) {
      await remove(spare);
      return;
    }
    waiting.add(spare);
    // A spare that exits before it is assigned (killed, out of memory) is removed and replaced.
    void spare.container.wait().catch(() => null).then(async () => {
      if (!waiting.delete(spare)) return; // assigned: it is a worker now
      await remove(spare);
      options.logger.warn({ containerName: spare.name }, 'a spare worker container exited unused; starting another');
      retryLater();
    });
    retryMs = 0;
  }

  function refill(): void {
    while (!closed && waiting.size + booting < options.wanted) {
      const boot = bootOne();
      inFlight.add(boot);
      void boot.finally(() => inFlight.delete(boot));
    }
  }
  refill();

  return {
    take() {
      const [spare] = waiting;
      if (!spare) return undefined;
      waiting.delete(spare);
      refill();
      return spare;
    },
    waitingNames: () => [...waiting].map((s) => s.name),
    async close() {
      closed = true;
      if (retryTimer) clearTimeout(retryTimer);
      await Promise.all(inFlight); // a spare still booting removes itself once it is up
      const unused = [...waiting];
      waiting.clear();
      await Promise.all(unused.map(remove));
    },
  };
}

/**
 * Spare worker containers (docker launcher, WORKER_SPARES) on the REAL Docker Engine: containers
 * started ahead that become a site's worker when the fleet launches one. The fleet scenarios run
 * on a launcher with a spare (docker-fleet.test.ts runs them without, both backends); the spare's
 * own life is tested here: the launch is served by the spare's own container, a replacement
 * starts, a spare killed unused is replaced, close removes the spares and leaves no connection
 * open, and a spare whose scheduler died is never taken for a worker and is cleaned up.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createDockerLauncher, type DockerLauncher } from '../../src/fleet/docker-launcher.js';
import { LABEL_SPARE } from '../../src/fleet/docker-spares.js';
import { LABEL_WORKER_GUID } from '../../src/fleet/launcher.js';
import { describeBackends } from '../helpers/backends.js';
import { useDockerTestEngine } from './docker-engine.js';
import { fleetScenarios, siteWithDueItem, stopAndRemoveWorkers, until } from './scenarios.js';

const engine = useDockerTestEngine();
const { docker } = engine;
const OWNER = fileURLToPath(new URL('../fixtures/docker-spare-owner.mjs', import.meta.url));

/** The container's id, or null once it is gone. */
const containerId = (name: string) =>
  docker
    .getContainer(name)
    .inspect()
    .then((i) => i.Id, () => null);

describeBackends('site workers from a spare container', (ctx) => {
  const spareLauncher = () => createDockerLauncher({ ...engine.launcherOptions(ctx), spares: 1 });

  fleetScenarios({
    ctx,
    launcher: spareLauncher,
    exitedState: 'exited',
    async kill(_launcher, workerGuid) {
      await docker.getContainer(`site-worker-${workerGuid}`).kill({ signal: 'SIGKILL' });
    },
  });

  it('a launch hands the waiting spare its site: the worker runs in the spare\'s own container, and a new spare takes its place', async () => {
    const launcher = spareLauncher();
    try {
      const [spare] = await until('a spare waiting', async () => (launcher.spareNames().length === 1 ? launcher.spareNames() : undefined));
      const spareId = await containerId(spare!);
      expect(await launcher.list()).toEqual([]); // a waiting spare is no worker
      const { site, fleet } = await siteWithDueItem(ctx, launcher);
      expect(await fleet.launchNeeded()).toBe(1);
      const [worker] = await launcher.list();
      expect(worker!.containerName).toBe(`site-worker-${worker!.workerGuid}`);
      expect(await containerId(worker!.containerName)).toBe(spareId);
      expect(await containerId(spare!)).toBeNull(); // renamed, not copied
      const [next] = await until('a new spare waiting', async () => (launcher.spareNames().length === 1 ? launcher.spareNames() : undefined));
      expect(next).not.toBe(spare);

      await until('the worker exited after idling', async () => (await launcher.list()).every((w) => !w.running), 30_000);
      expect((await launcher.list())[0]).toMatchObject({ workerGuid: worker!.workerGuid, exitCode: 0 });
      const row = await ctx.db.selectFrom('job_scheduler_workers').selectAll().executeTakeFirstOrThrow();
      expect(row).toMatchObject({ worker_guid: worker!.workerGuid, site_id: site.id, status: 'stopped', claimed_count: 1 });
      const items = await ctx.db.selectFrom('job_scheduler_work_items').select(['status', 'worker_guid']).execute();
      expect(items).toEqual([{ status: 'succeeded', worker_guid: worker!.workerGuid }]);
      await fleet.reconcile();
      expect(await containerId(worker!.containerName)).toBeNull(); // removed once its exit was recorded
    } finally {
      await stopAndRemoveWorkers(launcher);
      await launcher.close();
      await ctx.truncateAll();
    }
  }, 90_000);
});

describe('spare containers', () => {
  const launcherWith = (spares: number): DockerLauncher =>
    createDockerLauncher({ image: engine.image, fleet: engine.fleet, docker, networkMode: 'none', spares });
  /** A separate process keeping one spare (test/fixtures/docker-spare-owner.mjs). */
  const spawnOwner = (env: Record<string, string>): ChildProcess & { stdout: NodeJS.ReadableStream } =>
    spawn(process.execPath, [OWNER], { env: { ...process.env, JY_IMAGE: engine.image, JY_FLEET: engine.fleet, JY_SPARES: '1', ...env }, stdio: ['ignore', 'pipe', 'inherit'] }) as ChildProcess & { stdout: NodeJS.ReadableStream };
  /** The owner's first line: its spares are waiting. */
  const firstLine = (owner: ChildProcess & { stdout: NodeJS.ReadableStream }) =>
    new Promise<string>((resolve, reject) => {
      let out = '';
      owner.stdout.on('data', (d) => {
        out += d;
        if (out.includes('\n')) resolve(out.split('\n')[0]!);
      });
      owner.once('exit', (code) => reject(new Error(`the spare owner exited with ${code} before its spares waited`)));
    });

  it('a spare killed before any launch is removed and replaced', async () => {
    const launcher = launcherWith(1);
    try {
      const [first] = await until('a spare waiting', async () => (launcher.spareNames().length === 1 ? launcher.spareNames() : undefined));
      await docker.getContainer(first!).kill({ signal: 'SIGKILL' });
      const [next] = await until('another spare waiting', async () => {
        const names = launcher.spareNames();
        return names.length === 1 && names[0] !== first ? names : undefined;
      }, 15_000);
      expect((await docker.getContainer(next!).inspect()).State.Running).toBe(true);
      await until('the killed spare removed', async () => (await containerId(first!)) === null);
    } finally {
      await launcher.close();
    }
  }, 60_000);

  it('closing the launcher removes its spares and starts no more', async () => {
    const launcher = launcherWith(2);
    await until('two spares waiting', async () => launcher.spareNames().length === 2);
    const names = launcher.spareNames();
    await launcher.close();
    expect(launcher.spareNames()).toEqual([]);
    for (const name of names) expect(await containerId(name)).toBeNull();
    expect((await engine.labelledContainers()).filter((c) => c.Labels[LABEL_SPARE])).toEqual([]);
  }, 60_000);

  it('after a launch from a spare and close, the launcher holds nothing open: its process exits by itself', async () => {
    const workerGuid = randomUUID();
    const owner = spawnOwner({ JY_THEN: 'launch-and-close', JY_WORKER_GUID: workerGuid, JY_DATABASE_URL: 'sqlite:/tmp/jobyard-absent/jobyard.db' });
    const launcher = launcherWith(0);
    try {
      await firstLine(owner);
      const exit = new Promise<number | null>((resolve) => owner.once('exit', (code) => resolve(code)));
      // A hijacked attach connection left open kept this process alive for good (the engine does not always close it).
      const code = await Promise.race([exit, new Promise<string>((resolve) => setTimeout(() => resolve('still running 20 s after close'), 20_000))]);
      expect(code).toBe(0);
      expect(launcher.spareNames()).toEqual([]);
      expect((await engine.labelledContainers()).filter((c) => c.Labels[LABEL_SPARE] && c.Names.some((n) => n.startsWith('/jobyard-spare-')))).toEqual([]);
      expect((await docker.getContainer(`site-worker-${workerGuid}`).inspect()).Config.Labels[LABEL_SPARE]).toBeDefined(); // the launched worker
    } finally {
      owner.kill('SIGKILL');
      await docker.getContainer(`site-worker-${workerGuid}`).remove({ force: true }).catch(() => {});
      await launcher.close();
    }
  }, 60_000);

  it('a spare whose scheduler died is never listed as a worker; it exits on its closed stdin and the next list removes it', async () => {
    const owner = spawnOwner({});
    const launcher = launcherWith(0);
    try {
      const [spare] = (JSON.parse(await firstLine(owner)) as { spares: string[] }).spares;
      const info = await docker.getContainer(spare!).inspect();
      expect(info.Config.Labels[LABEL_SPARE]).toBeDefined();
      expect(info.Config.Labels[LABEL_WORKER_GUID]).toBeUndefined();
      expect(await launcher.list()).toEqual([]); // another scheduler's waiting spare

      owner.kill('SIGKILL');
      await until('the orphaned spare exited', async () => (await docker.getContainer(spare!).inspect()).State.Status === 'exited', 20_000);
      expect((await docker.getContainer(spare!).inspect()).State.ExitCode).toBe(0);
      expect(await launcher.list()).toEqual([]);
      await until('the orphaned spare removed', async () => (await containerId(spare!)) === null);
    } finally {
      owner.kill('SIGKILL');
      await launcher.close();
    }
  }, 60_000);
});

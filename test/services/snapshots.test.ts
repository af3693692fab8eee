/**
 * Service snapshots on both backends, read from fake compose services on the REAL Docker Engine;
 * an unreachable engine (a socket nobody serves) is reported once per outage and never throws.
 */
import Dockerode from 'dockerode';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ServiceSnapshot } from '../../src/services/snapshots.js';
import { createServiceSnapshotter, snapshotServices } from '../../src/services/snapshots.js';
import { describeBackends } from '../helpers/backends.js';
import { capturingLogger, createService, docker, IMAGE, inspect, removeRunContainers, requireEngine, uniqueProject, waitFor } from './compose-fixture.js';

beforeAll(requireEngine);
afterAll(removeRunContainers);

describeBackends('service snapshots (real engine)', (ctx) => {
  const project = uniqueProject('snap');
  const keys = [`${project}/api`, `${project}/web`, `${project}/worker`];
  let apiIds: string[] = [];
  let webIds: string[] = [];
  let workerIds: string[] = [];

  beforeAll(async () => {
    apiIds = await createService(project, 'api', { replicas: 2 });
    webIds = await createService(project, 'web', { healthcheck: true });
    workerIds = await createService(project, 'worker');
    await docker.getContainer(workerIds[0]!).stop({ t: 5 });
    await waitFor('web to be healthy', async () => ((await inspect(webIds[0]!)).State.Health?.Status === 'healthy' ? true : undefined));
  });

  const rows = () =>
    ctx.db.selectFrom('job_scheduler_service_snapshots').selectAll().where('service_key', 'in', keys).orderBy('service_key').execute();

  const expectedContainer = async (id: string, name: string) => {
    const i = await inspect(id);
    return {
      name,
      id,
      state: i.State.Status,
      status: expect.any(String) as string,
      health: i.State.Health?.Status ?? null,
      image: IMAGE,
      started_at: i.State.StartedAt,
      restart_count: i.RestartCount,
    };
  };

  it('upserts one row per compose service with its containers, state, health, image, start time and restarts', async () => {
    const { logger } = capturingLogger();
    const snapshotter = createServiceSnapshotter({ store: ctx.store, docker, logger });
    const result = await snapshotter.run(1_000);
    expect(result).toMatchObject({ available: true, at: 1_000 });
    if (!result.available) throw new Error('unreachable');
    expect(result.services).toEqual(expect.arrayContaining(keys));

    const stored = await rows();
    expect(stored.map((r) => [r.service_key, r.updated_at])).toEqual(keys.map((k) => [k, 1_000]));
    const [api, web, worker] = stored.map((r) => r.payload_json as unknown as ServiceSnapshot);
    expect(api).toEqual({
      project,
      service: 'api',
      state: 'running',
      health: null,
      running: 2,
      total: 2,
      containers: [await expectedContainer(apiIds[0]!, `${project}-api-1`), await expectedContainer(apiIds[1]!, `${project}-api-2`)],
    });
    expect(api!.containers[0]!.started_at).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(api!.containers[0]!.restart_count).toBe(0);
    expect(web).toMatchObject({ state: 'running', health: 'healthy', running: 1, total: 1 });
    expect(web!.containers).toEqual([await expectedContainer(webIds[0]!, `${project}-web-1`)]);
    expect(web!.containers[0]!.health).toBe('healthy');
    expect(worker).toMatchObject({ state: 'stopped', health: null, running: 0, total: 1 });
    expect(worker!.containers).toEqual([await expectedContainer(workerIds[0]!, `${project}-worker-1`)]);
    expect(worker!.containers[0]!.state).toBe('exited');
  });

  it('a second run updates the rows instead of adding new ones', async () => {
    await docker.getContainer(apiIds[1]!).stop({ t: 5 });
    const result = await snapshotServices({ store: ctx.store, docker, now: 2_000 });
    expect(result.available).toBe(true);
    const stored = await rows();
    expect(stored.map((r) => [r.service_key, r.updated_at])).toEqual(keys.map((k) => [k, 2_000]));
    const api = stored[0]!.payload_json as unknown as ServiceSnapshot;
    expect(api).toMatchObject({ state: 'partial', running: 1, total: 2 });
    expect(api.containers.map((c) => c.state)).toEqual(['running', 'exited']);
  });

  it('an unreachable engine is logged once per outage, never throws, and leaves the rows alone', async () => {
    const { logger, lines } = capturingLogger();
    const flaky = new Dockerode({ socketPath: '/nonexistent.sock' });
    const snapshotter = createServiceSnapshotter({ store: ctx.store, docker: flaky, logger });
    const warnings = () => lines.filter((l) => l.msg === 'docker engine unavailable: service snapshots paused until it answers');

    for (const at of [3_000, 4_000, 5_000]) {
      const result = await snapshotter.run(at);
      expect(result).toMatchObject({ available: false, at });
      if (result.available) throw new Error('unreachable');
      expect(result.error).toMatch(/nonexistent\.sock/);
    }
    expect(snapshotter.unavailable).toBe(true);
    expect(warnings()).toHaveLength(1);
    expect(warnings()[0]).toMatchObject({ level: 40, err: expect.stringMatching(/nonexistent\.sock/) as string });
    expect((await rows()).map((r) => r.updated_at)).toEqual([2_000, 2_000, 2_000]);

    // The engine comes back (same client, now reaching the real socket): logged once, rows refreshed.
    (flaky as unknown as { modem: unknown }).modem = (docker as unknown as { modem: unknown }).modem;
    expect(await snapshotter.run(6_000)).toMatchObject({ available: true });
    expect(await snapshotter.run(7_000)).toMatchObject({ available: true });
    expect(snapshotter.unavailable).toBe(false);
    expect(lines.filter((l) => l.msg === 'docker engine available again: service snapshots resumed')).toHaveLength(1);
    expect((await rows()).map((r) => r.updated_at)).toEqual([7_000, 7_000, 7_000]);

    // A second outage is reported again, once.
    (flaky as unknown as { modem: unknown }).modem = (new Dockerode({ socketPath: '/nonexistent.sock' }) as unknown as { modem: unknown }).modem;
    await snapshotter.run(8_000);
    await snapshotter.run(9_000);
    expect(warnings()).toHaveLength(2);
  });
});

/**
 * Service actions end to end on both backends: `service_action` items enqueued, claimed by the
 * scheduler-side consumer, run against fake compose services on the REAL Docker Engine.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { WorkItem } from '../../src/db/schema.js';
import { enqueueWorkItem } from '../../src/queue/enqueue.js';
import type { QueueRuntime } from '../../src/queue/runtime.js';
import type { ServiceActionResult } from '../../src/services/actions.js';
import { startServiceActionConsumer } from '../../src/services/consumer.js';
import { enqueueServiceAction } from '../../src/services/enqueue.js';
import { describeBackends } from '../helpers/backends.js';
import { capturingLogger, createService, inspect, removeRunContainers, requireEngine, uniqueProject, waitFor, docker } from './compose-fixture.js';

beforeAll(requireEngine);
afterAll(removeRunContainers);

const FINISHED = new Set(['succeeded', 'failed', 'dead', 'cancelled']);

describeBackends('service actions (real engine)', (ctx) => {
  const project = uniqueProject('act');
  const api = `${project}/api`;
  const web = `${project}/web`;
  const db = `${project}/db`; // running, but not on the allow-list
  const ghost = `${project}/ghost`; // on the allow-list, no container
  const ids: Record<string, string> = {};
  let consumer: QueueRuntime;
  const { logger, lines } = capturingLogger();

  beforeAll(async () => {
    ids.api = (await createService(project, 'api'))[0]!;
    ids.web = (await createService(project, 'web'))[0]!;
    ids.db = (await createService(project, 'db'))[0]!;
    consumer = startServiceActionConsumer({ store: ctx.store, logger, docker, allow: [api, web, ghost], pollIntervalMs: 100 });
  });
  afterAll(async () => {
    await consumer?.stop();
  });

  const row = (id: number) => ctx.db.selectFrom('job_scheduler_work_items').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const finished = (id: number): Promise<WorkItem> =>
    waitFor(`work item ${id} to finish`, async () => {
      const r = await row(id);
      return FINISHED.has(r.status) ? r : undefined;
    });
  const startedAt = async (name: string) => (await inspect(ids[name]!)).State.StartedAt;

  it('restart: the service container restarts (new StartedAt), the others are untouched; the outcome is the result', async () => {
    const before = { api: await startedAt('api'), web: await startedAt('web'), db: await startedAt('db') };
    const item = await enqueueServiceAction(ctx.store, { action: 'restart', service: api });
    expect(item).toMatchObject({ kind: 'service_action', site_id: null, status: 'queued', priority: 100 });

    const done = await finished(item.id);
    expect(done).toMatchObject({ status: 'succeeded', attempt_count: 1, error: null });
    const after = await inspect(ids.api!);
    expect(after.State.Running).toBe(true);
    expect(after.State.StartedAt).not.toBe(before.api);
    expect(Date.parse(after.State.StartedAt)).toBeGreaterThan(Date.parse(before.api));
    expect(await startedAt('web')).toBe(before.web);
    expect(await startedAt('db')).toBe(before.db);

    const result = done.result_json as ServiceActionResult;
    expect(result).toMatchObject({ action: 'restart', service: api });
    expect(result.duration_ms).toBeGreaterThanOrEqual(0);
    expect(result.containers).toEqual([
      {
        name: `${project}-api-1`,
        id: ids.api,
        previous_state: 'running',
        new_state: 'running',
        previous_started_at: before.api,
        started_at: after.State.StartedAt,
        changed: true,
        duration_ms: expect.any(Number) as number,
      },
    ]);
    expect(lines.some((l) => l.msg === 'service action done' && l.service === api)).toBe(true);
  });

  it('a service off the allow-list fails at once (no retry) and its container is untouched', async () => {
    const before = await inspect(ids.db!);
    const item = await enqueueServiceAction(ctx.store, { action: 'restart', service: db });
    const done = await finished(item.id);
    expect(done).toMatchObject({ status: 'failed', attempt_count: 1, result_json: null });
    expect(done.error).toBe(`service ${db} is not on the allow-list (SERVICE_ACTION_ALLOW: ${api}, ${web}, ${ghost})`);
    const after = await inspect(ids.db!);
    expect(after.State.Running).toBe(true);
    expect(after.State.StartedAt).toBe(before.State.StartedAt);
    // Still failed a moment later: nothing re-queued it.
    await new Promise((r) => setTimeout(r, 300));
    expect(await row(item.id)).toMatchObject({ status: 'failed', attempt_count: 1 });
  });

  it('an unknown action, a malformed payload and a service without a container fail permanently', async () => {
    const enqueueRaw = async (payload: Record<string, unknown>) =>
      (await enqueueWorkItem(ctx.store, { kind: 'service_action', siteId: null, payload })).item.id;
    const reboot = await enqueueRaw({ action: 'reboot', service: api });
    const noService = await enqueueRaw({ action: 'restart' });
    const badService = await enqueueRaw({ action: 'stop', service: 'api' });
    const none = await enqueueServiceAction(ctx.store, { action: 'restart', service: ghost });
    const apiBefore = await startedAt('api');

    expect(await finished(reboot)).toMatchObject({
      status: 'failed',
      attempt_count: 1,
      error: 'action: "reboot" is not a service action; expected one of restart, stop, start',
    });
    expect(await finished(noService)).toMatchObject({
      status: 'failed',
      attempt_count: 1,
      error: 'service: got nothing; expected <project>/<service> as in the compose labels, e.g. myproj/api',
    });
    expect(await finished(badService)).toMatchObject({ status: 'failed', attempt_count: 1, error: expect.stringMatching(/^service: "api" is not a compose service/) as string });
    expect(await finished(none.id)).toMatchObject({
      status: 'failed',
      attempt_count: 1,
      error: `service ${ghost} has no container on the engine (no container labelled com.docker.compose.project=${project}, com.docker.compose.service=ghost)`,
    });
    expect(await startedAt('api')).toBe(apiBefore);
  });

  it('stop, stop again (nothing to do) and start', async () => {
    const apiBefore = await startedAt('api');
    const stop = await finished((await enqueueServiceAction(ctx.store, { action: 'stop', service: web })).id);
    expect(stop.status).toBe('succeeded');
    expect((await inspect(ids.web!)).State).toMatchObject({ Running: false, Status: 'exited' });
    expect((stop.result_json as ServiceActionResult).containers).toMatchObject([{ name: `${project}-web-1`, id: ids.web, previous_state: 'running', new_state: 'exited', changed: true }]);

    const again = await finished((await enqueueServiceAction(ctx.store, { action: 'stop', service: web })).id);
    expect(again.status).toBe('succeeded');
    expect((again.result_json as ServiceActionResult).containers).toMatchObject([{ previous_state: 'exited', new_state: 'exited', changed: false }]);

    const stoppedAt = await startedAt('web');
    const start = await finished((await enqueueServiceAction(ctx.store, { action: 'start', service: web })).id);
    expect(start.status).toBe('succeeded');
    const after = await inspect(ids.web!);
    expect(after.State.Running).toBe(true);
    expect(after.State.StartedAt).not.toBe(stoppedAt);
    expect((start.result_json as ServiceActionResult).containers).toMatchObject([
      { previous_state: 'exited', new_state: 'running', changed: true, started_at: after.State.StartedAt },
    ]);
    expect(await startedAt('api')).toBe(apiBefore);
  });

  it('claims only site-less service_action items', async () => {
    const other = await enqueueWorkItem(ctx.store, { kind: 'scheduled_run', siteId: null, payload: {} });
    const sited = await enqueueWorkItem(ctx.store, { kind: 'service_action', siteId: 7, payload: { action: 'restart', service: api } });
    const mine = await enqueueServiceAction(ctx.store, { action: 'start', service: api });
    expect((await finished(mine.id)).status).toBe('succeeded');
    await new Promise((r) => setTimeout(r, 300));
    expect(await row(other.item.id)).toMatchObject({ status: 'queued', attempt_count: 0 });
    expect(await row(sited.item.id)).toMatchObject({ status: 'queued', attempt_count: 0 });
  });
});

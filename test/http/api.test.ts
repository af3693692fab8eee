/**
 * The status API on both backends: a server on port 0 against the test store, a fake tick status
 * and a fixed clock; rows are inserted directly and every route's status code and JSON shape is
 * checked, with auth, 400s, 404s and 405s.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toJson } from '../../src/db/dialect.js';
import { startHttpServer, type HttpServer, type TickStatus } from '../../src/http/index.js';
import { silentLogger } from '../../src/log.js';
import { enqueueWorkItems } from '../../src/queue/index.js';
import { describeBackends, type BackendContext } from '../helpers/backends.js';
import { insertJob } from '../helpers/jobs.js';
import { expectError, request } from './helpers.js';

const T0 = 1_800_000_000_000;
const TOKEN = 'test-token-0123456789';
const CREDENTIAL_NAME = 'cred-never-shown-7f3a';

interface Seed {
  jobId: number;
  runId: number;
  onboardingJobId: number;
  onboardingRunIds: [number, number];
  targetIds: { approved: number; pending: number; noApproval: number; secondRun: number };
}

async function seed(ctx: BackendContext): Promise<Seed> {
  const db = ctx.db;
  const site = await db
    .insertInto('sites')
    .values({ name: 'HQ', name_lower: 'hq', created_at: T0 })
    .returning('id')
    .executeTakeFirstOrThrow();
  await db
    .insertInto('credentials')
    .values({ name: CREDENTIAL_NAME, site_id: site.id, username: 'root', password_encrypted: Buffer.from('s3cret'), created_at: T0, updated_at: T0 })
    .execute();

  const job = await insertJob(db, {
    at: T0,
    name: 'disk report',
    components_json: toJson([{ kind: 'command', name: 'disk', argv: ['df', '-h'] }]),
    targets_json: toJson({ hostnames: ['ws-1'] }),
    schedule_type: 'daily',
    next_run_at: T0 + 86_400_000,
  });
  const runs = await db
    .insertInto('scheduled_job_runs')
    .values([
      { job_id: job.id, scheduled_ts: T0 - 2 * 86_400_000, status: 'Success', created_at: T0, updated_at: T0 },
      { job_id: job.id, scheduled_ts: T0 - 86_400_000, status: 'Partial', created_at: T0, updated_at: T0, error: 'one target failed' },
    ])
    .returning('id')
    .execute();
  const runId = runs[1]!.id;
  await db
    .insertInto('scheduled_job_run_targets')
    .values([
      { run_id: runId, device_guid: 'g-1', hostname: 'ws-1', site_id: site.id, resolution_status: 'resolved', resolved_from_filter_ids_json: toJson([4, 5]), status: 'Success', created_at: T0 },
      { run_id: runId, device_guid: 'g-2', hostname: 'ws-2', site_id: site.id, resolution_status: 'offline', resolved_from_filter_ids_json: toJson(null), status: 'Expired', created_at: T0 },
    ])
    .execute();
  const activity = await db
    .insertInto('activity_history')
    .values({ hostname: 'ws-1', script_name: 'disk', script_type: 'command', ran_at: T0 - 500, status: 'success', stdout: 'Filesystem 42%', stderr: '' })
    .returning('id')
    .executeTakeFirstOrThrow();
  await db
    .insertInto('scheduled_job_run_activity')
    .values({ run_id: runId, activity_id: activity.id, component_kind: 'command', component_name: 'disk', script_type: 'command', created_at: T0 - 400 })
    .execute();
  await enqueueWorkItems(ctx.store, [{ kind: 'scheduled_run', siteId: site.id, jobId: job.id, runId, payload: { run: runId } }], { now: T0 });

  const onboardingJob = await insertJob(db, {
    at: T0,
    name: 'onboard branch',
    components_json: toJson([]),
    targets_json: toJson({}),
    schedule_type: 'once',
    job_kind: 'onboarding',
    start_ts: null,
    next_run_at: null,
  });
  const oRuns = await db
    .insertInto('scheduled_job_runs')
    .values([
      { job_id: onboardingJob.id, scheduled_ts: T0 - 1000, status: 'Success', created_at: T0, updated_at: T0 },
      { job_id: onboardingJob.id, scheduled_ts: T0, status: 'Running', created_at: T0, updated_at: T0 },
    ])
    .returning('id')
    .execute();
  const [r1, r2] = [oRuns[0]!.id, oRuns[1]!.id];
  const target = (run_id: number, addr: string, status: string, approval_reference: string | null) => ({
    run_id,
    job_id: onboardingJob.id,
    scheduled_ts: T0,
    site_id: site.id,
    target_input: `${addr} # branch`,
    target_address: addr,
    ssh_port: 22,
    status,
    approval_reference,
    created_at: T0,
    updated_at: T0,
  });
  const targets = await db
    .insertInto('scheduled_job_onboarding_targets')
    .values([
      target(r1, '10.0.0.1', 'Success', 'ref-approved'),
      target(r1, '10.0.0.2', 'AwaitingApproval', 'ref-pending'),
      target(r1, '10.0.0.3', 'Failed', null),
      target(r2, '10.0.0.4', 'Running', null),
    ])
    .returning('id')
    .execute();
  const [approved, pending, noApproval, secondRun] = targets.map((t) => t.id) as [number, number, number, number];
  const event = (target_row_id: number, run_id: number, status: string, task: string, at: number) => ({
    target_row_id,
    run_id,
    job_id: onboardingJob.id,
    status,
    task,
    detail: `${task} ${status}`,
    started_at: at,
    finished_at: at + 10,
    created_at: at,
    updated_at: at,
  });
  // Inserted out of order: the timeline must come back oldest first.
  await db
    .insertInto('scheduled_job_onboarding_target_events')
    .values([
      event(approved, r1, 'Success', 'install agent', T0 - 200),
      event(approved, r1, 'Success', 'connect', T0 - 300),
      event(pending, r1, 'Running', 'connect', T0 - 250),
    ])
    .execute();
  const approval = (approval_reference: string, status: string) => ({
    approval_reference,
    status,
    guid: `guid-${approval_reference}`,
    hostname_claimed: `host-${approval_reference}`,
    enrollment_code: 'ENROLL-SECRET',
    site_id: site.id,
    client_nonce: 'nonce-c',
    server_nonce: 'nonce-s',
    agent_pubkey_der: Buffer.from('pubkey'),
    created_at: T0,
    updated_at: T0,
    onboarding_job_id: onboardingJob.id,
    onboarding_run_id: r1,
  });
  await db.insertInto('device_approvals').values([approval('ref-approved', 'approved'), approval('ref-pending', 'pending')]).execute();

  return {
    jobId: job.id,
    runId,
    onboardingJobId: onboardingJob.id,
    onboardingRunIds: [r1, r2],
    targetIds: { approved, pending, noApproval, secondRun },
  };
}

describeBackends('http status api', (ctx) => {
  let server: HttpServer;
  let s: Seed;
  const status: TickStatus = { lastTickAt: T0 - 500, tickIntervalMs: 1000 };
  /** GET with the token; `null` sends no Authorization header. */
  const get = (path: string, token: string | null = TOKEN) => request(server.url, path, token === null ? {} : { token });

  beforeAll(async () => {
    s = await seed(ctx);
    server = await startHttpServer({ store: ctx.store, logger: silentLogger, port: 0, token: TOKEN, status: () => status, clock: () => T0 });
  });
  afterAll(() => server?.close());

  describe('GET /healthz', () => {
    it('is 200 without a token when the database answers and the last tick is recent', async () => {
      const r = await get('/healthz', null);
      expect(r.status).toBe(200);
      expect(r.json).toEqual({
        status: 'ok',
        database: 'ok',
        backend: ctx.backend,
        tick: { last_tick_at: T0 - 500, age_ms: 500, interval_ms: 1000, max_age_ms: 3000 },
      });
    });

    it('is 503 naming the tick when the last tick is older than 3 intervals, or there was none', async () => {
      status.lastTickAt = T0 - 3001;
      try {
        const stale = await get('/healthz', null);
        expect(stale.status).toBe(503);
        expect(stale.json).toMatchObject({ status: 'unavailable', database: 'ok', reason: expect.stringContaining('last tick 3001 ms ago') });
        status.lastTickAt = null;
        const never = await get('/healthz', null);
        expect(never.status).toBe(503);
        expect(never.json.reason).toMatch(/has not completed a tick yet/);
        status.lastTickAt = T0 - 3000; // exactly 3 intervals: still healthy
        expect((await get('/healthz', null)).status).toBe(200);
      } finally {
        status.lastTickAt = T0 - 500;
      }
    });

    it('is 503 naming the database when it does not answer', async () => {
      const store = ctx.open();
      const other = await startHttpServer({ store, logger: silentLogger, port: 0, status: { lastTickAt: T0, tickIntervalMs: 1000 }, clock: () => T0 });
      try {
        expect((await request(other.url, '/healthz')).status).toBe(200);
        await store.close();
        const r = await request(other.url, '/healthz');
        expect(r.status).toBe(503);
        expect(r.json).toMatchObject({ status: 'unavailable', reason: expect.stringMatching(/^database: query failed/) });
      } finally {
        await other.close();
      }
    });
  });

  describe('auth', () => {
    const protectedPaths = () => [
      '/metrics',
      '/api/server/workers',
      '/api/server/services',
      '/api/work-items',
      `/api/scheduled-jobs/${s.jobId}/runs`,
      `/api/runs/${s.runId}`,
      `/api/onboarding/jobs/${s.onboardingJobId}/targets`,
      '/no/such/route',
    ];

    it('refuses every route but /healthz without a token or with a wrong one (401 JSON)', async () => {
      for (const path of protectedPaths()) {
        const none = await get(path, null);
        expectError(none, 401, /authentication required/);
        expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
        expectError(await get(path, 'wrong-token'), 401, /invalid bearer token/);
        expectError(await get(path, `${TOKEN}x`), 401, /invalid bearer token/);
        expectError(await request(server.url, path, { headers: { authorization: `Basic ${TOKEN}` } }), 401, /invalid bearer token/);
      }
    });

    it('accepts the token on every route', async () => {
      for (const path of protectedPaths().slice(0, -1)) expect({ path, status: (await get(path)).status }).toEqual({ path, status: 200 });
    });

    it('serves everything without a token when none is configured', async () => {
      const open = await startHttpServer({ store: ctx.store, logger: silentLogger, port: 0, status, clock: () => T0 });
      try {
        expect((await request(open.url, '/api/work-items')).status).toBe(200);
      } finally {
        await open.close();
      }
    });
  });

  describe('routing', () => {
    it('answers an unknown route with 404 JSON', async () => {
      expectError(await get('/api/nope'), 404, /no route for GET \/api\/nope/);
      expectError(await get('/api/runs'), 404, /no route/);
      // Hono keeps a segment that is not valid percent-encoding as it is; the id check refuses it.
      expectError(await get('/api/runs/%E0%A4%A'), 400, /^id: "%E0%A4%A" is not accepted/);
    });

    it('answers a wrong method with 405 and Allow', async () => {
      for (const path of ['/healthz', `/api/runs/${s.runId}`]) {
        const r = await request(server.url, path, { method: 'POST', token: TOKEN });
        expectError(r, 405, /not allowed/);
        expect(r.headers.get('allow')).toBe('GET, HEAD');
      }
      const del = await request(server.url, '/api/work-items', { method: 'DELETE', token: TOKEN });
      expectError(del, 405, /not allowed/);
      expect(del.headers.get('allow')).toBe('GET, HEAD, POST');
    });

    it('answers HEAD like GET without a body, and tolerates a trailing slash', async () => {
      const head = await request(server.url, '/healthz', { method: 'HEAD' });
      expect(head.status).toBe(200);
      expect(head.text).toBe('');
      expect((await get('/api/work-items/')).status).toBe(200);
    });
  });

  describe('GET /api/server/workers', () => {
    beforeAll(async () => {
      const w = (worker_guid: string, status: string, times: { updated: number; stopped?: number | null }) => ({
        worker_guid,
        container_name: `site-worker-${worker_guid}`,
        site_id: 1,
        status,
        started_at: T0 - 3_600_000,
        last_seen_at: times.updated,
        stopped_at: times.stopped ?? null,
        current_lanes_json: toJson(['default']),
        created_at: T0 - 3_600_000,
        updated_at: times.updated,
      });
      await ctx.db
        .insertInto('job_scheduler_workers')
        .values([
          w('live-running', 'running', { updated: T0 - 1000 }),
          w('live-old-heartbeat', 'idle', { updated: T0 - 7_200_000 }),
          w('live-starting', 'starting', { updated: T0 - 10 }),
          w('stopped-recent', 'stopped', { updated: T0 - 10_000, stopped: T0 - 10_000 }),
          w('stopped-old', 'stopped', { updated: T0 - 120_000, stopped: T0 - 120_000 }),
          w('lost-recent-no-stopped-at', 'lost', { updated: T0 - 5_000, stopped: null }),
          w('lost-old-no-stopped-at', 'lost', { updated: T0 - 120_000, stopped: null }),
          w('lost-old-stopped-at-recent-update', 'lost', { updated: T0 - 1_000, stopped: T0 - 120_000 }),
        ])
        .execute();
    });

    const guids = (r: { json: { workers: Array<{ worker_guid: string }> } }) => r.json.workers.map((x) => x.worker_guid).sort();

    it('lists live rows and terminal rows ended within the default 60 s window', async () => {
      const r = await get('/api/server/workers');
      expect(r.status).toBe(200);
      expect(r.json).toMatchObject({ generated_at: T0, history_seconds: 60 });
      expect(guids(r)).toEqual(['live-old-heartbeat', 'live-running', 'live-starting', 'lost-recent-no-stopped-at', 'stopped-recent']);
      const running = r.json.workers.find((x: { worker_guid: string }) => x.worker_guid === 'live-running');
      expect(running).toMatchObject({ status: 'running', site_id: 1, current_lanes_json: ['default'], claimed_count: 0, updated_at: T0 - 1000 });
    });

    it('widens and narrows the window with history_seconds', async () => {
      expect(guids(await get('/api/server/workers?history_seconds=3600'))).toEqual([
        'live-old-heartbeat',
        'live-running',
        'live-starting',
        'lost-old-no-stopped-at',
        'lost-old-stopped-at-recent-update',
        'lost-recent-no-stopped-at',
        'stopped-old',
        'stopped-recent',
      ]);
      expect(guids(await get('/api/server/workers?history_seconds=0'))).toEqual(['live-old-heartbeat', 'live-running', 'live-starting']);
    });

    it('refuses a bad history_seconds or an unknown parameter with 400', async () => {
      expectError(await get('/api/server/workers?history_seconds=abc'), 400, /^history_seconds: "abc" is not accepted; expected an integer from 0 to 604800 \(default 60\)$/);
      expectError(await get('/api/server/workers?history_seconds=-1'), 400, /^history_seconds: -1 is out of range/);
      expectError(await get('/api/server/workers?history_seconds=1.5'), 400, /^history_seconds:/);
      expectError(await get('/api/server/workers?history_seconds=1&history_seconds=2'), 400, /^history_seconds: given more than once/);
      expectError(await get('/api/server/workers?since=1'), 400, /^unknown query parameter "since"; accepted: history_seconds$/);
    });
  });

  describe('GET /api/server/services', () => {
    it('lists the service snapshots with parsed payloads and secret-named keys redacted', async () => {
      await ctx.db
        .insertInto('job_scheduler_service_snapshots')
        .values([
          { service_key: 'web', payload_json: toJson({ state: 'running', replicas: 2, nested: { api_token: 'leak-me-not' } }), updated_at: T0 - 5 },
          { service_key: 'db', payload_json: toJson({ state: 'exited', exit_code: 1 }), updated_at: T0 - 9 },
        ])
        .execute();
      const r = await get('/api/server/services');
      expect(r.status).toBe(200);
      expect(r.json).toEqual({
        generated_at: T0,
        services: [
          { service_key: 'db', payload_json: { state: 'exited', exit_code: 1 }, updated_at: T0 - 9 },
          { service_key: 'web', payload_json: { state: 'running', replicas: 2, nested: { api_token: '[redacted]' } }, updated_at: T0 - 5 },
        ],
      });
      expect(r.text).not.toContain('leak-me-not');
      expectError(await get('/api/server/services?x=1'), 400, /unknown query parameter "x"; this route takes no query parameters/);
    });
  });

  describe('GET /api/work-items', () => {
    beforeAll(async () => {
      await enqueueWorkItems(
        ctx.store,
        Array.from({ length: 105 }, (_, i) => ({ kind: 'agent_maintenance_run', siteId: 2, payload: { n: i } })),
        { now: T0 },
      );
      await enqueueWorkItems(ctx.store, [{ kind: 'service_action', payload: { action: 'restart' } }], { now: T0 });
      await ctx.db.updateTable('job_scheduler_work_items').set({ status: 'dead', error: 'boom', finished_at: T0 }).where('kind', '=', 'service_action').execute();
    });

    it('returns the newest 100 by default, with parsed payloads', async () => {
      const r = await get('/api/work-items');
      expect(r.status).toBe(200);
      expect(r.json.limit).toBe(100);
      expect(r.json.items).toHaveLength(100);
      const ids = r.json.items.map((i: { id: number }) => i.id);
      expect(ids).toEqual([...ids].sort((a, b) => b - a));
      expect(r.json.items[0]).toMatchObject({ kind: 'service_action', site_id: null, status: 'dead', error: 'boom', payload_json: { action: 'restart' }, result_json: null });
    });

    it('filters by status, kind, site_id (or none) and limit', async () => {
      const dead = await get('/api/work-items?status=dead');
      expect(dead.json.items.map((i: { kind: string }) => i.kind)).toEqual(['service_action']);
      const queued = await get('/api/work-items?status=queued,running&kind=agent_maintenance_run&site_id=2&limit=1000');
      expect(queued.json.items).toHaveLength(105);
      expect(new Set(queued.json.items.map((i: { site_id: number }) => i.site_id))).toEqual(new Set([2]));
      const siteless = await get('/api/work-items?site_id=none');
      expect(siteless.json.items.map((i: { kind: string }) => i.kind)).toEqual(['service_action']);
      const seeded = await get(`/api/work-items?kind=scheduled_run,service_action&limit=5`);
      expect(seeded.json.items.map((i: { kind: string }) => i.kind).sort()).toEqual(['scheduled_run', 'service_action']);
      const two = await get('/api/work-items?limit=2');
      expect(two.json.items).toHaveLength(2);
      expect((await get('/api/work-items?site_id=999')).json.items).toEqual([]);
    });

    it('refuses bad parameters with 400 naming the parameter and what is accepted', async () => {
      expectError(await get('/api/work-items?status=done'), 400, /^status: "done" is not accepted; expected one of queued, running, succeeded, failed, dead, cancelled/);
      expectError(await get('/api/work-items?kind=Bad-Kind'), 400, /^kind: "Bad-Kind" is not accepted; expected one of service_action, /);
      expectError(await get('/api/work-items?site_id=abc'), 400, /^site_id: "abc" is not accepted; expected a site id \(an integer from 0 to 2147483647\) or none$/);
      expectError(await get('/api/work-items?limit=0'), 400, /^limit: 0 is out of range; expected an integer from 1 to 1000 \(default 100\)$/);
      expectError(await get('/api/work-items?limit=1001'), 400, /^limit: 1001 is out of range/);
      expectError(await get('/api/work-items?limit=ten'), 400, /^limit: "ten" is not accepted/);
      expectError(await get('/api/work-items?state=queued'), 400, /^unknown query parameter "state"; accepted: status, kind, site_id, limit, cursor$/);
    });
  });

  describe('GET /api/scheduled-jobs/:id/runs', () => {
    it("lists a job's runs, newest occurrence first", async () => {
      const r = await get(`/api/scheduled-jobs/${s.jobId}/runs`);
      expect(r.status).toBe(200);
      expect(r.json.job).toEqual({
        id: s.jobId,
        name: 'disk report',
        job_kind: 'automation',
        schedule_type: 'daily',
        enabled: true,
        next_run_at: T0 + 86_400_000,
        time_zone: expect.any(String),
      });
      expect(r.json.limit).toBe(100);
      expect(r.json.runs.map((x: { status: string }) => x.status)).toEqual(['Partial', 'Success']);
      expect(r.json.runs[0]).toMatchObject({ id: s.runId, job_id: s.jobId, scheduled_ts: T0 - 86_400_000, error: 'one target failed', shared_execution: false });
      expect((await get(`/api/scheduled-jobs/${s.jobId}/runs?limit=1`)).json.runs).toHaveLength(1);
    });

    it('is 404 for an unknown job and 400 for a bad id or limit', async () => {
      expectError(await get('/api/scheduled-jobs/999999/runs'), 404, /^scheduled job 999999 not found$/);
      expectError(await get('/api/scheduled-jobs/abc/runs'), 400, /^id: "abc" is not accepted; expected an integer from 1/);
      expectError(await get('/api/scheduled-jobs/0/runs'), 400, /^id: 0 is out of range/);
      expectError(await get(`/api/scheduled-jobs/${s.jobId}/runs?limit=5000`), 400, /^limit: 5000 is out of range/);
    });
  });

  describe('GET /api/runs/:id', () => {
    it('returns the run with its frozen targets, activity and work items', async () => {
      const r = await get(`/api/runs/${s.runId}`);
      expect(r.status).toBe(200);
      expect(r.json.run).toMatchObject({ id: s.runId, job_id: s.jobId, status: 'Partial' });
      expect(r.json.job).toMatchObject({ id: s.jobId, name: 'disk report' });
      expect(r.json.targets).toEqual([
        expect.objectContaining({ run_id: s.runId, hostname: 'ws-1', resolution_status: 'resolved', resolved_from_filter_ids_json: [4, 5], status: 'Success' }),
        expect.objectContaining({ run_id: s.runId, hostname: 'ws-2', resolution_status: 'offline', resolved_from_filter_ids_json: null, status: 'Expired' }),
      ]);
      expect(r.json.activity).toEqual([
        {
          activity_id: expect.any(Number),
          component_kind: 'command',
          component_name: 'disk',
          component_path: null,
          script_type: 'command',
          created_at: T0 - 400,
          hostname: 'ws-1',
          script_name: 'disk',
          script_path: null,
          ran_at: T0 - 500,
          status: 'success',
          stdout: 'Filesystem 42%',
          stderr: '',
        },
      ]);
      expect(r.json.work_items).toEqual([expect.objectContaining({ kind: 'scheduled_run', status: 'queued', attempt_count: 0 })]);
    });

    it('is 404 for an unknown run', async () => {
      expectError(await get('/api/runs/987654'), 404, /^run 987654 not found$/);
      expectError(await get('/api/runs/x1'), 400, /^id: "x1" is not accepted/);
    });
  });

  describe('GET /api/onboarding/jobs/:job_id/targets', () => {
    it("returns the job's targets with their event timelines and approval status", async () => {
      const r = await get(`/api/onboarding/jobs/${s.onboardingJobId}/targets`);
      expect(r.status).toBe(200);
      expect(r.json.job).toEqual({ id: s.onboardingJobId, name: 'onboard branch', job_kind: 'onboarding' });
      expect(r.json).toMatchObject({ limit: 1000, truncated: false });
      const [r1, r2] = s.onboardingRunIds;
      expect(r.json.targets.map((t: { id: number; run_id: number }) => [t.run_id, t.id])).toEqual([
        [r2, s.targetIds.secondRun],
        [r1, s.targetIds.approved],
        [r1, s.targetIds.pending],
        [r1, s.targetIds.noApproval],
      ]);
      const byId = new Map(r.json.targets.map((t: { id: number }) => [t.id, t]));
      const approved = byId.get(s.targetIds.approved) as any;
      expect(approved).toMatchObject({ target_input: '10.0.0.1 # branch', target_address: '10.0.0.1', ssh_port: 22, status: 'Success', approval_reference: 'ref-approved', approval_status: 'approved' });
      expect(approved.approval).toEqual({
        approval_reference: 'ref-approved',
        status: 'approved',
        guid: 'guid-ref-approved',
        hostname_claimed: 'host-ref-approved',
        site_id: expect.any(Number),
        approved_by_user_id: null,
        onboarding_run_id: r1,
        onboarding_target: null,
        created_at: T0,
        updated_at: T0,
      });
      expect(approved.events.map((e: { task: string; status: string; started_at: number }) => [e.task, e.status, e.started_at])).toEqual([
        ['connect', 'Success', T0 - 300],
        ['install agent', 'Success', T0 - 200],
      ]);
      expect(approved.events[0]).toMatchObject({ target_row_id: s.targetIds.approved, run_id: r1, job_id: s.onboardingJobId, detail: 'connect Success', finished_at: T0 - 290 });
      expect(byId.get(s.targetIds.pending)).toMatchObject({ approval_status: 'pending', events: [expect.objectContaining({ task: 'connect', status: 'Running' })] });
      expect(byId.get(s.targetIds.noApproval)).toMatchObject({ approval_reference: null, approval_status: null, approval: null, events: [] });
      for (const secret of ['ENROLL-SECRET', 'nonce-c', 'nonce-s', 'enrollment_code', 'agent_pubkey_der']) expect(r.text).not.toContain(secret);
    });

    it('filters by run_id and limit', async () => {
      const [r1] = s.onboardingRunIds;
      const byRun = await get(`/api/onboarding/jobs/${s.onboardingJobId}/targets?run_id=${r1}`);
      expect(byRun.json.targets).toHaveLength(3);
      const limited = await get(`/api/onboarding/jobs/${s.onboardingJobId}/targets?limit=2`);
      expect(limited.json).toMatchObject({ limit: 2, truncated: true });
      expect(limited.json.targets).toHaveLength(2);
    });

    it('is an empty list for a job without onboarding targets, 404 for an unknown job, 400 for bad input', async () => {
      expect((await get(`/api/onboarding/jobs/${s.jobId}/targets`)).json.targets).toEqual([]);
      expectError(await get('/api/onboarding/jobs/424242/targets'), 404, /^scheduled job 424242 not found$/);
      expectError(await get('/api/onboarding/jobs/abc/targets'), 400, /^job_id: "abc" is not accepted/);
      expectError(await get(`/api/onboarding/jobs/${s.onboardingJobId}/targets?run_id=-3`), 400, /^run_id: -3 is out of range/);
    });
  });

  it('never exposes the credentials table', async () => {
    const paths = [
      '/api/server/workers?history_seconds=604800',
      '/api/server/services',
      '/api/work-items?limit=1000',
      `/api/scheduled-jobs/${s.jobId}/runs`,
      `/api/runs/${s.runId}`,
      `/api/onboarding/jobs/${s.onboardingJobId}/targets`,
      '/metrics',
    ];
    for (const path of paths) {
      const r = await get(path);
      expect(r.status).toBe(200);
      expect(r.text).not.toContain(CREDENTIAL_NAME);
      expect(r.text).not.toContain('s3cret');
    }
    expectError(await get('/api/credentials'), 404, /no route/);
  });
});

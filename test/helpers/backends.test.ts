/**
 * truncateAll is what gives tests a clean slate: it must empty every table the migrations
 * created, including one a future migration adds, whatever its foreign keys.
 */
import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { toJson } from '../../src/db/dialect.js';
import { assignDeviceToSite, upsertDevice } from '../../src/inventory/devices.js';
import { createSite } from '../../src/inventory/sites.js';
import { enqueueWorkItems } from '../../src/queue/index.js';
import { describeBackends, type BackendContext } from './backends.js';
import { insertJob } from './jobs.js';
import { migratedTables } from './tables.js';

const T = 1_800_000_000_000;

/** The tables `fillTables` puts rows in: every table of the schema when this test was written. */
const FILLED = [
  'activity_history',
  'credentials',
  'device_approvals',
  'device_filter_sites',
  'device_filters',
  'device_sites',
  'devices',
  'job_scheduler_service_snapshots',
  'job_scheduler_work_items',
  'job_scheduler_workers',
  'scheduled_job_onboarding_target_events',
  'scheduled_job_onboarding_targets',
  'scheduled_job_run_activity',
  'scheduled_job_run_targets',
  'scheduled_job_runs',
  'scheduled_jobs',
  'sites',
];

/** A row (at least) in each FILLED table, through the real foreign keys. */
async function fillTables(ctx: BackendContext): Promise<void> {
  const db = ctx.db;
  const site = await createSite(ctx.store, { name: 'hq' }, T);
  await upsertDevice(ctx.store, { guid: 'g-1', hostname: 'ws-1', status: 'online', last_seen: T }, T);
  await assignDeviceToSite(ctx.store, 'ws-1', site.id, T);
  const filter = await db
    .insertInto('device_filters')
    .values({ name: 'all', basic_criteria_json: toJson({ match: 'all', rules: [] }), created_at: T, updated_at: T })
    .returning('id')
    .executeTakeFirstOrThrow();
  await db.insertInto('device_filter_sites').values({ filter_id: filter.id, site_id: site.id }).execute();
  await db.insertInto('device_approvals').values({ approval_reference: 'ref-1', site_id: site.id, status: 'pending', created_at: T, updated_at: T }).execute();
  await db.insertInto('credentials').values({ name: 'cred', site_id: site.id, created_at: T, updated_at: T }).execute();
  const job = await insertJob(db, { at: T, targets_json: toJson({ sites: [site.id] }) });
  const run = await db
    .insertInto('scheduled_job_runs')
    .values({ job_id: job.id, scheduled_ts: T, status: 'Running', created_at: T, updated_at: T })
    .returning('id')
    .executeTakeFirstOrThrow();
  await db
    .insertInto('scheduled_job_run_targets')
    .values({ run_id: run.id, device_guid: 'g-1', hostname: 'ws-1', site_id: site.id, resolution_status: 'resolved', resolved_from_filter_ids_json: toJson(null), status: 'Running', created_at: T })
    .execute();
  const activity = await db
    .insertInto('activity_history')
    .values({ hostname: 'ws-1', script_name: 'true', script_type: 'command', ran_at: T, status: 'success' })
    .returning('id')
    .executeTakeFirstOrThrow();
  await db
    .insertInto('scheduled_job_run_activity')
    .values({ run_id: run.id, activity_id: activity.id, component_kind: 'command', component_name: 'true', script_type: 'command', created_at: T })
    .execute();
  const target = await db
    .insertInto('scheduled_job_onboarding_targets')
    .values({ run_id: run.id, job_id: job.id, scheduled_ts: T, site_id: site.id, target_input: '10.0.0.1', target_address: '10.0.0.1', ssh_port: 22, status: 'Running', created_at: T, updated_at: T })
    .returning('id')
    .executeTakeFirstOrThrow();
  await db
    .insertInto('scheduled_job_onboarding_target_events')
    .values({ target_row_id: target.id, run_id: run.id, job_id: job.id, status: 'Running', task: 'connect', started_at: T, created_at: T, updated_at: T })
    .execute();
  await enqueueWorkItems(ctx.store, [{ kind: 'scheduled_run', siteId: site.id, jobId: job.id, runId: run.id }], { now: T });
  await db
    .insertInto('job_scheduler_workers')
    .values({ worker_guid: 'w-1', site_id: site.id, status: 'running', current_lanes_json: toJson(null), created_at: T, updated_at: T })
    .execute();
  await db.insertInto('job_scheduler_service_snapshots').values({ service_key: 'svc', payload_json: toJson({ up: true }), updated_at: T }).execute();
}

async function rowCounts(ctx: BackendContext): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of await migratedTables(ctx.store)) {
    const r = await sql<{ n: number | string }>`select count(*) as n from ${sql.table(table)}`.execute(ctx.db);
    counts[table] = Number(r.rows[0]!.n);
  }
  return counts;
}

describeBackends('truncateAll', (ctx) => {
  it('empties every table, one added by a later migration included, whatever the foreign keys', async () => {
    // A table as a new migration might add it: it references jobs and sites with the default
    // rule (NO ACTION), so deleting either parent before it would fail.
    await ctx.db.schema
      .createTable('added_later')
      .addColumn('id', 'integer', (c) => c.primaryKey())
      .addColumn('job_id', 'integer', (c) => c.notNull().references('scheduled_jobs.id'))
      .addColumn('site_id', 'integer', (c) => c.notNull().references('sites.id'))
      .execute();
    await fillTables(ctx);
    const job = await ctx.db.selectFrom('scheduled_jobs').select('id').executeTakeFirstOrThrow();
    const site = await ctx.db.selectFrom('sites').select('id').executeTakeFirstOrThrow();
    await sql`insert into added_later (id, job_id, site_id) values (1, ${job.id}, ${site.id})`.execute(ctx.db);

    const before = await rowCounts(ctx);
    expect([...FILLED, 'added_later'].filter((t) => !(before[t]! > 0))).toEqual([]);

    await ctx.truncateAll();

    const after = await rowCounts(ctx);
    expect(Object.keys(after).sort()).toEqual(Object.keys(before).sort());
    expect(Object.entries(after).filter(([, n]) => n !== 0)).toEqual([]);
  });
});

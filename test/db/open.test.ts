import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { toJson } from '../../src/db/dialect.js';
import { openDatabase } from '../../src/db/open.js';
import { createSite, findSiteByName } from '../../src/inventory/sites.js';
import { assignDeviceToSite, findDeviceByHostname, upsertDevice } from '../../src/inventory/devices.js';
import { describeBackends } from '../helpers/backends.js';
import { TEST_POSTGRES_URL } from '../helpers/env.js';
import { insertJob } from '../helpers/jobs.js';

describe('openDatabase on SQLite', () => {
  it('creates the parent folder and sets WAL, busy_timeout, foreign_keys and synchronous', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jobyard-open-'));
    const path = join(dir, 'nested', 'deeper', 'jy.db');
    const store = openDatabase(`sqlite:${path}`);
    try {
      const pragma = async (name: string) =>
        Object.values((await sql.raw<Record<string, unknown>>(`pragma ${name}`).execute(store.db)).rows[0]!)[0];
      expect(await pragma('journal_mode')).toBe('wal');
      expect(await pragma('busy_timeout')).toBe(15000);
      expect(await pragma('foreign_keys')).toBe(1);
      expect(await pragma('synchronous')).toBe(1); // NORMAL
      expect(existsSync(path)).toBe(true);
      expect(store.dialect.backend).toBe('sqlite');
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('opens sqlite::memory:', async () => {
    const store = openDatabase('sqlite::memory:');
    const r = await sql<{ v: number }>`select 1 + 1 as v`.execute(store.db);
    expect(r.rows[0]!.v).toBe(2);
    await store.close();
  });
});

describe('openDatabase on PostgreSQL', () => {
  it('sets application_name, the idle-in-transaction guard and the pool max from the profile', async () => {
    const store = openDatabase(TEST_POSTGRES_URL, {
      env: { DB_POOL_SIZE: '4', DB_MAX_OVERFLOW: '2' },
      host: { vcpus: 2, memoryBytes: 24 * 1024 ** 3 },
    });
    try {
      const show = async (name: string) =>
        Object.values((await sql.raw<Record<string, string>>(`show ${name}`).execute(store.db)).rows[0]!)[0];
      expect(await show('application_name')).toBe('jobyard');
      expect(await show('idle_in_transaction_session_timeout')).toBe('10s');
      expect(store.pool).toMatchObject({ profile: 'Homelab', poolSize: 4, maxOverflow: 2, poolMax: 6 });
      // int8 comes back as a JS number, so timestamps and ids compare as numbers.
      const r = await sql<{ big: number }>`select cast(1732350000000 as bigint) as big`.execute(store.db);
      expect(r.rows[0]!.big).toBe(1732350000000);
    } finally {
      await store.close();
    }
  });

  it('never shows the password in its description', () => {
    const store = openDatabase('postgres://jy:topsecret@127.0.0.1:1/none');
    expect(store.description).toBe('postgres://jy:***@127.0.0.1:1/none');
    void store.close();
  });
});

describeBackends('dialect conventions', (ctx) => {
  it('round-trips JSON columns as values, booleans as booleans and timestamps as numbers', async () => {
    const now = 1_795_000_000_123;
    const job = await insertJob(ctx.db, {
      at: now,
      name: 'json-bool',
      components_json: toJson([{ kind: 'command', argv: ['echo', 'hi'] }]),
      targets_json: toJson({ hostnames: ['a'], nested: { n: 1, ok: true } }),
      enabled: false,
      next_run_at: now + 1,
    });
    expect(job.components_json).toEqual([{ kind: 'command', argv: ['echo', 'hi'] }]);
    expect(job.targets_json).toEqual({ hostnames: ['a'], nested: { n: 1, ok: true } });
    expect(job.enabled).toBe(false);
    expect(job.duration_stop_enabled).toBe(false); // column default
    expect(job.created_at).toBe(now);
    const byBool = await ctx.db.selectFrom('scheduled_jobs').select('id').where('enabled', '=', false).execute();
    expect(byBool.map((r) => r.id)).toContain(job.id);
    const due = await ctx.db.selectFrom('scheduled_jobs').select('id').where('next_run_at', '<=', now + 1).execute();
    expect(due.map((r) => r.id)).toContain(job.id);
  });

  it('upserts the same way on both backends', async () => {
    await ctx.db
      .insertInto('job_scheduler_service_snapshots')
      .values({ service_key: 'p/api', payload_json: toJson({ state: 'running' }), updated_at: 1 })
      .execute();
    await ctx.db
      .insertInto('job_scheduler_service_snapshots')
      .values({ service_key: 'p/api', payload_json: toJson({ state: 'exited' }), updated_at: 2 })
      .onConflict((oc) =>
        oc.column('service_key').doUpdateSet((eb) => ({
          payload_json: eb.ref('excluded.payload_json'),
          updated_at: eb.ref('excluded.updated_at'),
        })),
      )
      .execute();
    const rows = await ctx.db.selectFrom('job_scheduler_service_snapshots').selectAll().execute();
    expect(rows).toEqual([{ service_key: 'p/api', payload_json: { state: 'exited' }, updated_at: 2 }]);
  });

  it('finds sites and devices case-insensitively through pre-lowercased columns', async () => {
    const site = await createSite(ctx.store, { name: 'Berlin-Office' });
    await upsertDevice(ctx.store, { guid: 'g-1', hostname: 'WS-Alpha', status: 'online' });
    await assignDeviceToSite(ctx.store, 'WS-Alpha', site.id);
    expect((await findSiteByName(ctx.store, 'berlin-OFFICE'))?.id).toBe(site.id);
    expect((await findDeviceByHostname(ctx.store, 'ws-alpha'))?.guid).toBe('g-1');
    await upsertDevice(ctx.store, { guid: 'g-1', hostname: 'WS-ALPHA-2', status: 'offline' });
    expect((await findDeviceByHostname(ctx.store, 'ws-alpha-2'))?.status).toBe('offline');
  });

  it('classifies unique violations', async () => {
    await createSite(ctx.store, { name: 'dup' });
    const err = await createSite(ctx.store, { name: 'dup' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeDefined();
    expect(ctx.store.dialect.isUniqueViolation(err)).toBe(true);
    expect(ctx.store.dialect.isUniqueViolation(new Error('other'))).toBe(false);
  });

  it('enforces foreign keys: deleting a site deletes its device mappings and sets site_id of its credentials to null; a mapping to no site is refused', async () => {
    const site = await createSite(ctx.store, { name: 'fk-site' });
    await assignDeviceToSite(ctx.store, 'fk-host', site.id);
    await ctx.db
      .insertInto('credentials')
      .values({ name: 'fk-cred', site_id: site.id, created_at: 1, updated_at: 1 })
      .execute();
    await ctx.db.deleteFrom('sites').where('id', '=', site.id).execute();
    const mapped = await ctx.db.selectFrom('device_sites').selectAll().where('device_hostname', '=', 'fk-host').execute();
    expect(mapped).toEqual([]); // CASCADE
    const cred = await ctx.db.selectFrom('credentials').select('site_id').where('name', '=', 'fk-cred').executeTakeFirst();
    expect(cred?.site_id).toBeNull(); // SET NULL
    const orphan = ctx.db
      .insertInto('device_sites')
      .values({ device_hostname: 'nowhere', site_id: 999_999, assigned_at: 1 })
      .execute();
    await expect(orphan).rejects.toThrow();
  });
});

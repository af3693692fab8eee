/**
 * While locked, an item whose job needs a credential never runs without it: each attempt fails
 * with "credentials locked: …" before any command starts (a retryable failure, backed off), and
 * the item ends dead with that message when its attempts are used up. Once the worker has the
 * key, the next attempt runs with the credential.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, expect, it } from 'vitest';
import { addCredential, CredentialLock, createDatabaseCredentialProvider, unlockCredentials } from '../../src/credentials/index.js';
import { toJson } from '../../src/db/dialect.js';
import type { WorkItem } from '../../src/db/schema.js';
import { defaultExecutorConfig, executorHandlers } from '../../src/executors/index.js';
import { silentLogger } from '../../src/log.js';
import { failWorkItem } from '../../src/queue/index.js';
import { callHandler } from '../../src/queue/handler.js';
import { tick } from '../../src/schedule/ticker.js';
import { claimOne, siteWithDevices, TEST_KDF_COST } from '../fixtures/executors/executor-helpers.js';
import { describeBackends } from '../helpers/backends.js';
import { insertJob } from '../helpers/jobs.js';

const dir = mkdtempSync(join(tmpdir(), 'jobyard-locked-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeBackends('credentials locked', (ctx) => {
  beforeEach(() => ctx.truncateAll());

  /** One attempt as a site worker makes it: the handler, then the queue's failure path. */
  async function attempt(lock: CredentialLock, item: WorkItem, now: number) {
    const handlers = executorHandlers({ store: ctx.store, credentials: createDatabaseCredentialProvider(ctx.store, lock), config: defaultExecutorConfig(), workerGuid: 'w' });
    const verdict = await callHandler(handlers, item, new AbortController().signal, silentLogger, 'w');
    if (verdict.kind !== 'fail') return verdict;
    return { ...verdict, ...(await failWorkItem(ctx.store, 'worker-test', item, verdict.error, { retryable: verdict.retryable, now })) };
  }

  async function setUp(name: string, maxAttempts: number) {
    const T = 4_102_444_800_000;
    const { site } = await siteWithDevices(ctx, name, [`${name}-1`], T);
    const { key } = await unlockCredentials(ctx.store, 'operator secret', { kdfCost: TEST_KDF_COST });
    const cred = await addCredential(ctx.store, { name: `${name}-cred`, site: site.id }, { password: 'pw-locked-test' }, { actor: 'cli:test', key });
    const marker = join(dir, `${name}-${ctx.backend}.ran`);
    // The command leaves a file behind and prints how long the password it got is.
    const script = `require('fs').writeFileSync(${JSON.stringify(marker)}, ''); console.log('len=' + (process.env.JOBYARD_CREDENTIAL_PASSWORD || '').length)`;
    await insertJob(ctx.db, {
      at: T,
      targets_json: toJson({ sites: [site.id] }),
      credential_id: cred.id,
      components_json: toJson([{ kind: 'command', argv: [process.execPath, '-e', script] }]),
    });
    await tick(ctx.store, { now: T });
    await ctx.db.updateTable('job_scheduler_work_items').set({ max_attempts: maxAttempts }).execute();
    return { T, site, key, marker };
  }

  const itemRow = () => ctx.db.selectFrom('job_scheduler_work_items').select(['status', 'error', 'attempt_count', 'available_at']).executeTakeFirstOrThrow();

  it('fails each attempt with "credentials locked", backs off, and ends dead with that message; nothing ran', async () => {
    const { T, site, marker } = await setUp('locked', 2);
    const locked = new CredentialLock();

    const first = await attempt(locked, await claimOne(ctx, site.id, T + 1), T + 1);
    expect(first).toMatchObject({ kind: 'fail', retryable: true, outcome: 'retry_scheduled' });
    const queued = await itemRow();
    expect(queued.status).toBe('queued');
    expect(queued.error).toMatch(/^credentials locked: credential \d+ \(locked-cred\) cannot be decrypted until an operator unlocks/);
    expect(Number(queued.available_at)).toBeGreaterThan(T + 1);

    const at = Number(queued.available_at);
    const second = await attempt(locked, await claimOne(ctx, site.id, at), at);
    expect(second).toMatchObject({ outcome: 'dead' });
    const dead = await itemRow();
    expect(dead.status).toBe('dead');
    expect(dead.error).toMatch(/^credentials locked: .* \(attempt 2 of 2; no attempts left\)$/);
    expect(existsSync(marker)).toBe(false);
    expect(await ctx.db.selectFrom('scheduled_job_run_activity').select('id').execute()).toEqual([]);
  });

  it('runs on the next attempt once the worker has the key', async () => {
    const { T, site, key, marker } = await setUp('later', 3);
    const lock = new CredentialLock();
    await attempt(lock, await claimOne(ctx, site.id, T + 1), T + 1);
    expect(existsSync(marker)).toBe(false);
    lock.unlock(key);
    const at = Number((await itemRow()).available_at);
    expect(await attempt(lock, await claimOne(ctx, site.id, at), at)).toMatchObject({ kind: 'complete' });
    expect(existsSync(marker)).toBe(true);
    const activity = await ctx.db.selectFrom('activity_history').select(['status', 'stdout']).execute();
    expect(activity).toEqual([{ status: 'Success', stdout: `len=${'pw-locked-test'.length}\n` }]);
  });
});

/**
 * Credentials are scoped to their site: a credential with a site_id is handed to items of that
 * site only, a global one (site_id NULL) to every site. An item whose job names another site's
 * credential (the job predates a change, or was written around `jobs create`) fails permanently,
 * naming the credential and both sites, and runs nothing.
 */
import { expect, it } from 'vitest';
import { toJson } from '../../src/db/dialect.js';
import { createDatabaseCredentialProvider } from '../../src/executors/credentials.js';
import { executeScheduledRun } from '../../src/executors/scheduled-run.js';
import { PermanentError } from '../../src/queue/index.js';
import { tick } from '../../src/schedule/ticker.js';
import { claimOne, executorContext, insertCredential, siteWithDevices, testCredentialLock } from '../fixtures/executors/executor-helpers.js';
import { insertJob } from '../helpers/jobs.js';
import { describeBackends } from '../helpers/backends.js';

describeBackends('credentials scoped to their site', (ctx) => {
  it('a site credential serves only items of its site; a global one serves every site', async () => {
    const T = Date.now();
    const { site: one } = await siteWithDevices(ctx, 'scope-one', [], T);
    const { site: two } = await siteWithDevices(ctx, 'scope-two', [], T);
    const ofTwo = await insertCredential(ctx, T, { name: 'two-admin', password: 'pw-two' });
    await ctx.db.updateTable('credentials').set({ site_id: two.id }).where('id', '=', ofTwo.id).execute();
    const global = await insertCredential(ctx, T, { name: 'global', password: 'pw-all' });
    const provider = createDatabaseCredentialProvider(ctx.store, testCredentialLock(ctx));

    expect((await provider.get(ofTwo.id, { siteId: two.id }))?.secrets).toEqual({ password: 'pw-two' });
    for (const scope of [{ siteId: one.id }, { siteId: null }, undefined]) {
      const refused = await provider.get(ofTwo.id, scope).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(PermanentError);
      expect(String(refused)).toMatch(new RegExp(`credential ${ofTwo.id} \\(two-admin\\) belongs to site ${two.id}; it is not used for `));
      expect(String(refused)).not.toContain('pw-two');
    }
    expect((await provider.get(global.id, { siteId: one.id }))?.secrets).toEqual({ password: 'pw-all' });
    expect((await provider.get(global.id, { siteId: two.id }))?.secrets).toEqual({ password: 'pw-all' });
  });

  it("fails an item of site 1 whose job names site 2's credential, before running anything", async () => {
    const T = Date.now();
    const { site: one } = await siteWithDevices(ctx, 'exec-one', ['exec-host-1'], T);
    const { site: two } = await siteWithDevices(ctx, 'exec-two', [], T);
    const ofTwo = await insertCredential(ctx, T, { name: 'two-only', password: 'pw-two' });
    await ctx.db.updateTable('credentials').set({ site_id: two.id }).where('id', '=', ofTwo.id).execute();
    const job = await insertJob(ctx.db, {
      at: T,
      targets_json: toJson({ sites: [one.id] }),
      credential_id: ofTwo.id,
      components_json: toJson([{ kind: 'command', argv: [process.execPath, '-e', 'console.log(process.env.JOBYARD_CREDENTIAL_PASSWORD)'] }]),
    });
    await tick(ctx.store, { now: T });
    const item = await claimOne(ctx, one.id, T + 1);
    const failure = await executeScheduledRun(executorContext(ctx, item)).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(PermanentError);
    expect(String(failure)).toContain(`credential ${ofTwo.id} (two-only) belongs to site ${two.id}; it is not used for an item of site ${one.id}`);
    const activity = await ctx.db.selectFrom('scheduled_job_run_activity').select('id').where('run_id', '=', item.run_id!).execute();
    expect(activity).toEqual([]);
    expect(job.credential_id).toBe(ofTwo.id);
  });
});

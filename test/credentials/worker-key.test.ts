/**
 * Site workers and credentials (process launcher, both backends): the scheduler hands a worker
 * the derived key on its stdin (never the operator's secret, never in its environment or argv);
 * the worker decrypts the credential only for the item that uses it, whose command gets it in its
 * environment; another item's command on the same worker, looking everywhere a command can
 * (secret-probe), finds no trace of it. The tests run as root, so commands run as `nobody`.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { addCredential, CredentialLock, unlockCredentials, workerKeyEnv } from '../../src/credentials/index.js';
import { toJson } from '../../src/db/dialect.js';
import { Fleet } from '../../src/fleet/fleet.js';
import { createProcessLauncher } from '../../src/fleet/process-launcher.js';
import { jobyardEntrypoint } from '../../src/fleet/select-launcher.js';
import { silentLogger } from '../../src/log.js';
import { tick } from '../../src/schedule/ticker.js';
import { siteWithDevices, TEST_KDF_COST } from '../fixtures/executors/executor-helpers.js';
import { expectNothingFound, SECRET_PROBE, testSecrets } from '../fixtures/secret-probe.js';
import { until, stopAndRemoveWorkers } from '../fleet/scenarios.js';
import { describeBackends } from '../helpers/backends.js';
import { insertJob } from '../helpers/jobs.js';

const UNLOCK_SECRET = 'operator-unlock-secret-xyz';

describeBackends('credentials reach only the item that uses them (process launcher)', (ctx) => {
  it('the worker gets the key on stdin; the credential item sees its secret, a later probe item sees none', async () => {
    const secrets = testSecrets();
    const { site } = await siteWithDevices(ctx, 'cred-site', ['cred-host'], Date.now());
    const { key } = await unlockCredentials(ctx.store, UNLOCK_SECRET, { kdfCost: TEST_KDF_COST });
    const cred = await addCredential(ctx.store, { name: 'deploy', site: site.id, username: 'deploy' }, { password: secrets.password }, { actor: 'cli:test', key });
    const lock = new CredentialLock(key);
    const launcher = createProcessLauncher({ entrypoint: jobyardEntrypoint(), stdio: 'ignore' });
    const fleet = new Fleet({
      store: ctx.store,
      launcher,
      logger: silentLogger,
      workerEnv: { DATABASE_URL: ctx.url, WORKER_IDLE_SECONDS: '5', LOG_LEVEL: 'warn' },
      workerEnvAtLaunch: () => workerKeyEnv(lock),
    });
    const environ: string[] = [];
    const watchWorkers = async () => {
      for (const w of await launcher.list()) {
        if (!w.pid || !w.running) continue;
        try {
          environ.push(readFileSync(`/proc/${w.pid}/environ`, 'latin1') + readFileSync(`/proc/${w.pid}/cmdline`, 'latin1'));
        } catch {
          // exited meanwhile
        }
      }
    };
    const finished = (jobId: number) =>
      until(
        `job ${jobId}'s item finished`,
        async () => {
          await watchWorkers();
          return ctx.db
            .selectFrom('job_scheduler_work_items as w')
            .innerJoin('scheduled_job_runs as r', 'r.id', 'w.run_id')
            .select(['w.status', 'w.error', 'w.run_id'])
            .where('r.job_id', '=', jobId)
            .where('w.status', 'in', ['succeeded', 'failed', 'dead'])
            .executeTakeFirst();
        },
        120_000,
      );
    try {
      const user = await insertJob(ctx.db, {
        at: Date.now(),
        name: 'uses the credential',
        credential_id: cred.id,
        schedule_type: 'immediately',
        targets_json: toJson({ sites: [site.id] }),
        components_json: toJson([
          {
            kind: 'command',
            argv: [process.execPath, '-e', "console.log('sha=' + require('crypto').createHash('sha256').update(process.env.JOBYARD_CREDENTIAL_PASSWORD || '').digest('hex'))"],
          },
        ]),
      });
      await tick(ctx.store, { now: Date.now() });
      expect(await fleet.launchNeeded()).toBe(1);
      expect(await finished(user.id)).toMatchObject({ status: 'succeeded' });

      const probe = await insertJob(ctx.db, {
        at: Date.now(),
        name: 'secret probe',
        schedule_type: 'immediately',
        targets_json: toJson({ sites: [site.id] }),
        components_json: toJson([{ kind: 'command', name: 'probe', argv: ['node', '-e', SECRET_PROBE], env: secrets.probeEnv, timeout_seconds: 120 }]),
      });
      await tick(ctx.store, { now: Date.now() });
      await fleet.launchNeeded(); // the first worker may have idled out meanwhile
      const probeItem = await finished(probe.id);
      expect(probeItem).toMatchObject({ status: 'succeeded' });

      const activity = await ctx.db.selectFrom('activity_history').select(['script_name', 'status', 'stdout']).orderBy('id').execute();
      expect(activity).toHaveLength(2);
      // The item that uses the credential got exactly the stored password.
      expect(activity[0]!.stdout).toBe(`sha=${createHash('sha256').update(secrets.password).digest('hex')}\n`);
      expectNothingFound(activity[1]!.stdout ?? '', secrets);
      // The worker's own environment and argv hold neither the key nor the unlock secret.
      expect(environ.length).toBeGreaterThan(0);
      for (const text of environ) {
        expect(text).toContain('WORKER_SECRETS=stdin');
        expect(text).not.toContain(key.export());
        expect(text).not.toContain(UNLOCK_SECRET);
        expect(text).not.toContain(secrets.marker);
      }
    } finally {
      await stopAndRemoveWorkers(launcher);
      await ctx.truncateAll();
    }
  }, 300_000);
});

/**
 * `jobyard jobs create` checks what a definition names in the database before writing anything:
 * unknown sites, filters and credentials are one line, exit 2; a credential that belongs to
 * another site than the job's targets is refused; unknown hostnames are a warning (the device may
 * enrol later) and the job is created. Errors never quote the file's content.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, expect, it } from 'vitest';
import { assignDeviceToSite, upsertDevice } from '../../src/inventory/devices.js';
import { createSite } from '../../src/inventory/sites.js';
import { describeBackends } from '../helpers/backends.js';
import { runJobyard as jobyard } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'jobyard-jobs-checks-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
function jobFile(content: unknown): string {
  const path = join(dir, `job-${++files}.json`);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

const job = (overrides: Record<string, unknown>) => ({
  name: 'checks',
  schedule_type: 'daily',
  start_ts: '2099-01-01T00:00:00Z',
  components: [{ kind: 'command', argv: ['true'] }],
  ...overrides,
});

function oneLineExit2(r: { code: number; stdout: string; stderr: string }): string {
  expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 2, stdout: '' });
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  return lines[0]!;
}

describeBackends('jobyard jobs create: references and content', (ctx) => {
  const env = () => ({ DATABASE_URL: ctx.url });
  const countJobs = async () => (await ctx.db.selectFrom('scheduled_jobs').select('id').execute()).length;
  let site1 = 0;
  let site2 = 0;
  let credentialOf2 = 0;
  let globalCredential = 0;
  beforeEach(async () => {
    await ctx.truncateAll();
    site1 = (await createSite(ctx.store, { name: 'one' })).id;
    site2 = (await createSite(ctx.store, { name: 'two' })).id;
    await upsertDevice(ctx.store, { guid: 'g-1', hostname: 'ws-1', status: 'online', last_seen: 1 });
    await assignDeviceToSite(ctx.store, 'ws-1', site1);
    const credential = (name: string, siteId: number | null) =>
      ctx.db.insertInto('credentials').values({ name, site_id: siteId, username: 'u', created_at: 1, updated_at: 1 }).returning('id').executeTakeFirstOrThrow();
    credentialOf2 = (await credential('two-admin', site2)).id;
    globalCredential = (await credential('everywhere', null)).id;
  });

  it('refuses unknown sites, filters and credentials in one line, writing nothing', async () => {
    const line = oneLineExit2(await jobyard(['jobs', 'create', '--file', jobFile(job({ targets: { sites: [99999], filters: [88888] }, credential_id: 77777 }))], env()));
    expect(line).toBe(
      'jobyard: invalid job definition: targets.sites: no site with id 99999; targets.filters: no device filter with id 88888; credential_id: no credential with id 77777',
    );
    expect(await countJobs()).toBe(0);
  });

  it("refuses a credential of another site than the job's targets, naming both", async () => {
    const bySite = oneLineExit2(await jobyard(['jobs', 'create', '--file', jobFile(job({ targets: { sites: [site1] }, credential_id: credentialOf2 }))], env()));
    expect(bySite).toBe(
      `jobyard: invalid job definition: credential_id: credential ${credentialOf2} ("two-admin") belongs to site ${site2} but the job targets site ${site1}; use a credential of that site or one without a site`,
    );
    // ws-1 is on site 1: targeting it by hostname is the same.
    const byHost = oneLineExit2(await jobyard(['jobs', 'create', '--file', jobFile(job({ targets: { hostnames: ['ws-1'] }, credential_id: credentialOf2 }))], env()));
    expect(byHost).toContain(`belongs to site ${site2} but the job targets site ${site1}`);
    expect(await countJobs()).toBe(0);

    const own = await jobyard(['jobs', 'create', '--file', jobFile(job({ targets: { sites: [site2] }, credential_id: credentialOf2 }))], env());
    const global = await jobyard(['jobs', 'create', '--file', jobFile(job({ targets: { sites: [site1, site2] }, credential_id: globalCredential }))], env());
    expect([own, global].map((r) => [r.code, r.stderr])).toEqual([[0, ''], [0, '']]);
    expect(await countJobs()).toBe(2);
  });

  it('creates a job naming a hostname not known yet, with a warning on stderr', async () => {
    const r = await jobyard(['jobs', 'create', '--file', jobFile(job({ targets: { hostnames: ['ws-1', 'not-enrolled-yet'] } }))], env());
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\d+\n$/);
    expect(r.stderr).toBe('jobyard: warning: targets.hostnames: no device named "not-enrolled-yet" is known yet; the job targets it once it enrols\n');
    expect(await countJobs()).toBe(1);
  });

  it('refuses NUL characters, a once job in the past and oversized files with one line, writing nothing', async () => {
    const nul = oneLineExit2(await jobyard(['jobs', 'create', '--file', jobFile(job({ name: 'a\u0000b', targets: { sites: [site1] } }))], env()));
    expect(nul).toBe('jobyard: invalid job definition: name: contains a NUL character (\\u0000), which cannot be stored');
    const past = oneLineExit2(await jobyard(['jobs', 'create', '--file', jobFile(job({ schedule_type: 'once', start_ts: '2000-01-01T00:00:00Z', targets: { sites: [site1] } }))], env()));
    expect(past).toMatch(/^jobyard: invalid job definition: start_ts: 2000-01-01T00:00:00\.000Z is in the past/);
    const huge = oneLineExit2(await jobyard(['jobs', 'create', '--file', jobFile(JSON.stringify(job({ name: 'n'.repeat(2 * 1024 * 1024) })))], env()));
    expect(huge).toMatch(/^jobyard: jobs create: --file .*: \d+ bytes; the limit is 1048576 \(1 MiB\)$/);
    expect(await countJobs()).toBe(0);
  });

  it('never quotes the content of a file that is not JSON', async () => {
    const shadow = 'root:$6$Zq1saltsalt$hashhashhashhash:19000:0:99999:7:::\nbin:*:19000:0:99999:7:::\n';
    const line = oneLineExit2(await jobyard(['jobs', 'create', '--file', jobFile(shadow)], env()));
    expect(line).toMatch(/^jobyard: jobs create: .*job-\d+\.json is not valid JSON$/);
    expect(line).not.toMatch(/root|hash|\$6\$/);
  });
});

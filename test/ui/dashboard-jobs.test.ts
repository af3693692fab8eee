/**
 * The dashboard's job form, export, job and run pages over HTTP, on both backends: a job created
 * and edited through the form (validated by the CLI's function, messages beside their fields,
 * nothing written on error, audit rows as the API writes), export equal to `jobs export`, roles
 * and CSRF enforced by the server, paged occurrences, and a run's targets explained.
 */
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { validateJobDefinition } from '../../src/schedule/job-definition.js';
import { exportJob } from '../../src/schedule/job-export.js';
import { describeBackends } from '../helpers/backends.js';
import { UiClient } from './client.js';
import { OPERATOR, seedSiteAndJob, startUiServer, VIEWER, type UiServer } from './harness.js';

const NOW = Date.UTC(2099, 0, 5, 12, 0, 0);

/** How hono/html writes text into a page. */
const escaped = (s: string) => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&#39;');

/** The text of the problem list printed under one field. */
function problemsUnder(page: string, field: string): string {
  const m = new RegExp(`<ul class="problem" id="${field}-problems">([\\s\\S]*?)</ul>`).exec(page);
  return m?.[1] ?? '';
}

const goodForm = (siteId: number) => ({
  name: 'nightly uptime',
  job_kind: 'automation',
  schedule_type: 'cron',
  cron_expression: '30 2 * * 1-5',
  time_zone: 'Europe/Berlin',
  start_ts: '',
  expiration: '',
  missed_policy: 'run_once',
  enabled: 'on',
  hostnames: 'web-1, db-9',
  sites: String(siteId),
  filters: '',
  onboarding_scope: '',
  components: '[{"kind":"command","name":"uptime","argv":["uptime"]}]',
  execution_context: '',
  credential_id: '',
});

describeBackends('dashboard jobs over HTTP', (ctx) => {
  let server: UiServer;
  beforeAll(async () => {
    server = await startUiServer(ctx.store, { clock: () => NOW });
  });
  afterAll(() => server.close());
  beforeEach(() => ctx.truncateAll());

  const signedIn = async (token: string) => {
    const client = new UiClient(server.url);
    await client.signIn(token);
    return { client, csrf: await client.csrf() };
  };
  const jobCount = async () => Number((await ctx.db.selectFrom('scheduled_jobs').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
  const auditActions = async () => (await ctx.db.selectFrom('audit_log').select(['action', 'actor', 'object_id']).orderBy('id').execute()).filter((a) => a.action.startsWith('job.'));

  it('creates a job from the form as the CLI would, audited, with the unknown hostname as a warning', async () => {
    const { site } = await seedSiteAndJob(ctx.store, NOW);
    const { client, csrf } = await signedIn(OPERATOR);
    const res = await client.post('/ui/jobs/new', { _csrf: csrf, ...goodForm(site.id) });
    expect(res.status).toBe(303);
    const location = res.headers.get('location')!;
    expect(location).toMatch(/^\/ui\/jobs\/\d+\?saved=created$/);
    const id = Number(/jobs\/(\d+)/.exec(location)![1]);
    const job = await ctx.db.selectFrom('scheduled_jobs').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    // The row the CLI writes from the same definition.
    const expected = validateJobDefinition(
      { name: 'nightly uptime', schedule_type: 'cron', cron_expression: '30 2 * * 1-5', time_zone: 'Europe/Berlin', missed_policy: 'run_once', targets: { hostnames: ['web-1', 'db-9'], sites: [site.id] }, components: [{ kind: 'command', name: 'uptime', argv: ['uptime'] }] },
      { now: NOW },
    );
    if (!expected.ok) throw new Error(expected.problems.join('; '));
    expect(exportJob(job)).toEqual(exportJob({ ...job, ...expected.values, targets_json: expected.definition.targets, components_json: expected.definition.components } as typeof job));
    expect(Number(job.next_run_at)).toBe(Number(expected.values.next_run_at));
    expect(await auditActions()).toEqual([{ action: 'job.create', actor: 'token:otto', object_id: String(id) }]);

    const page = await (await client.get(location)).text();
    expect(page).toContain('Job created.');
    expect(page).toContain(escaped('warning: targets.hostnames: no device named "db-9" is known yet; the job targets it once it enrols'));
    expect(page).toContain('every weekday at 02:30 (Europe/Berlin)');
    expect(page).toContain('<code>30 2 * * 1-5</code>');
  });

  it('shows every problem next to its field in the CLI\'s words, keeps the form, and writes nothing', async () => {
    const { site } = await seedSiteAndJob(ctx.store, NOW);
    const before = await jobCount();
    const { client, csrf } = await signedIn(OPERATOR);
    const form = { ...goodForm(site.id), cron_expression: '61 * * * *', time_zone: 'Mars/Olympus', sites: `${site.id}, 999`, name: 'keep my name' };
    const res = await client.post('/ui/jobs/new', { _csrf: csrf, ...form });
    expect(res.status).toBe(400);
    const page = await res.text();
    // The validator's own messages, as `jobs create --file` prints them.
    const cli = validateJobDefinition({ name: 'x', schedule_type: 'cron', cron_expression: '61 * * * *', time_zone: 'Mars/Olympus', targets: { sites: [site.id] }, components: [{ kind: 'command', argv: ['x'] }] }, { now: NOW });
    expect(cli.ok).toBe(false);
    const problems = cli.ok ? [] : cli.problems;
    const cronProblem = problems.find((p) => p.startsWith('cron_expression:'))!;
    const zoneProblem = problems.find((p) => p.startsWith('time_zone:'))!;
    expect(cronProblem).toBeDefined();
    expect(zoneProblem).toBeDefined();
    expect(problemsUnder(page, 'cron_expression')).toContain(escaped(cronProblem));
    expect(problemsUnder(page, 'time_zone')).toContain(escaped(zoneProblem));
    expect(page).toContain('aria-describedby="cron_expression-hint cron_expression-problems"');
    expect(page).toContain('value="keep my name"');
    expect(page).toContain('Nothing was saved.');
    expect(await jobCount()).toBe(before);
    expect(await auditActions()).toEqual([]);

    // What the definition names in the database: checked only once the definition itself is valid.
    const ref = await client.post('/ui/jobs/new', { _csrf: csrf, ...goodForm(site.id), sites: `${site.id}, 999` });
    expect(ref.status).toBe(400);
    expect(problemsUnder(await ref.text(), 'sites')).toContain('targets.sites: no site with id 999');
    expect(await jobCount()).toBe(before);
  });

  it('reports components that are not JSON once, beside the field, with the other problems', async () => {
    const { client, csrf } = await signedIn(OPERATOR);
    const res = await client.post('/ui/jobs/new', { _csrf: csrf, ...goodForm(1), sites: 'abc', components: '[{"kind": "command",' });
    expect(res.status).toBe(400);
    const page = await res.text();
    expect(problemsUnder(page, 'components')).toMatch(/^<li>components: not valid JSON \([^<]+\)<\/li>$/);
    expect(problemsUnder(page, 'sites')).toContain('targets.sites.0: must be a positive integer');
    expect(await jobCount()).toBe(0);
  });

  it('edits a job through the form pre-filled from its export, audited with the changed fields', async () => {
    const { job } = await seedSiteAndJob(ctx.store, NOW);
    const { client, csrf } = await signedIn(OPERATOR);
    const edit = await (await client.get(`/ui/jobs/${job.id}/edit`)).text();
    expect(edit).toContain('value="disk report"');
    expect(edit).toContain('<option value="daily" selected>');
    expect(edit).toContain(escaped('"argv": [\n      "df",'));

    const bad = await client.post(`/ui/jobs/${job.id}/edit`, { _csrf: csrf, name: '', job_kind: 'automation', schedule_type: 'daily', start_ts: '2099-12-01T02:30:00Z', time_zone: 'Europe/Berlin', missed_policy: 'skip', enabled: 'on', hostnames: 'web-1', components: '[{"kind":"command","name":"df","argv":["df","-h"]}]' });
    expect(bad.status).toBe(400);
    expect(problemsUnder(await bad.text(), 'name')).toContain('name:');
    expect((await ctx.db.selectFrom('scheduled_jobs').select('name').where('id', '=', job.id).executeTakeFirstOrThrow()).name).toBe('disk report');

    const ok = await client.post(`/ui/jobs/${job.id}/edit`, { _csrf: csrf, name: 'disk report v2', job_kind: 'automation', schedule_type: 'daily', start_ts: '2099-12-01T02:30:00Z', time_zone: 'Europe/Berlin', missed_policy: 'skip', enabled: 'on', hostnames: 'web-1', components: '[{"kind":"command","name":"df","argv":["df","-h"]}]' });
    expect(ok.status, (await ok.clone().text()).match(/<ul class="problem"[\s\S]*?<\/ul>/g)?.join(' ')).toBe(303);
    expect(ok.headers.get('location')).toBe(`/ui/jobs/${job.id}?saved=updated`);
    const row = await ctx.db.selectFrom('audit_log').selectAll().where('action', '=', 'job.update').executeTakeFirstOrThrow();
    expect(row.actor).toBe('token:otto');
    expect(JSON.stringify(row.summary_json ?? row)).toContain('disk report v2');
    expect(Object.keys((typeof row.summary_json === 'string' ? JSON.parse(row.summary_json) : row.summary_json).changed)).toEqual(['name']);
  });

  it('exports the document `jobs export` prints, and a pasted export creates the same job', async () => {
    const { job } = await seedSiteAndJob(ctx.store, NOW);
    const { client, csrf } = await signedIn(VIEWER);
    const res = await client.get(`/ui/jobs/${job.id}/export`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="job-${job.id}.json"`);
    const text = await res.text();
    expect(text).toBe(`${JSON.stringify(exportJob(job), null, 2)}\n`);
    // A viewer may read it, not create from it.
    expect((await client.post('/ui/jobs/new', { _csrf: csrf, definition: text })).status).toBe(403);

    const operator = await signedIn(OPERATOR);
    const created = await operator.client.post('/ui/jobs/new', { _csrf: operator.csrf, definition: text });
    expect(created.status).toBe(303);
    const id = Number(/jobs\/(\d+)/.exec(created.headers.get('location')!)![1]);
    const copy = await ctx.db.selectFrom('scheduled_jobs').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(exportJob(copy)).toEqual(exportJob(job));

    const broken = await operator.client.post('/ui/jobs/new', { _csrf: operator.csrf, definition: text.replace('"daily"', '"fortnightly"') });
    expect(broken.status).toBe(400);
    const page = await broken.text();
    expect(problemsUnder(page, 'schedule_type')).toContain('schedule_type: unknown value &quot;fortnightly&quot;');
    expect(page).toContain('value="disk report"'); // the pasted definition fills the form
  });

  it('refuses a viewer the form and its actions (403, nothing written) and shows no controls', async () => {
    const { job, site } = await seedSiteAndJob(ctx.store, NOW);
    const { client, csrf } = await signedIn(VIEWER);
    expect((await client.get('/ui/jobs/new')).status).toBe(403);
    expect((await client.get(`/ui/jobs/${job.id}/edit`)).status).toBe(403);
    expect((await client.post('/ui/jobs/new', { _csrf: csrf, ...goodForm(site.id) })).status).toBe(403);
    expect((await client.post(`/ui/jobs/${job.id}/edit`, { _csrf: csrf, ...goodForm(site.id) })).status).toBe(403);
    expect(await jobCount()).toBe(1);
    const list = await (await client.get('/ui/jobs')).text();
    expect(list).not.toContain('/ui/jobs/new');
    const detail = await (await client.get(`/ui/jobs/${job.id}`)).text();
    expect(detail).not.toContain(`/ui/jobs/${job.id}/edit`);
    expect(detail).toContain(`/ui/jobs/${job.id}/export`);
    expect(await auditActions()).toEqual([]);
  });

  it('refuses a form post without the CSRF token or from another origin', async () => {
    const { site } = await seedSiteAndJob(ctx.store, NOW);
    const { client, csrf } = await signedIn(OPERATOR);
    expect((await client.post('/ui/jobs/new', { ...goodForm(site.id) })).status).toBe(403);
    expect((await client.post('/ui/jobs/new', { _csrf: 'x'.repeat(43), ...goodForm(site.id) })).status).toBe(403);
    expect((await client.post('/ui/jobs/new', { _csrf: csrf, ...goodForm(site.id) }, { origin: 'http://evil.example' })).status).toBe(403);
    expect(await jobCount()).toBe(1);
  });

  it('renders the form pages under the strict CSP with no inline script or style', async () => {
    const { job } = await seedSiteAndJob(ctx.store, NOW);
    const { client } = await signedIn(OPERATOR);
    for (const path of ['/ui/jobs/new', `/ui/jobs/${job.id}/edit`, `/ui/jobs/${job.id}`]) {
      const res = await client.get(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-security-policy'), path).toContain("script-src 'self'");
      const text = await res.text();
      expect(text, path).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
      expect(text, path).not.toMatch(/\sstyle=/);
      if (path.endsWith('/new') || path.endsWith('/edit')) expect(text.match(/<label for="f-[a-z_]+"/g)?.length, path).toBeGreaterThanOrEqual(17);
    }
  });

  it('pages a job\'s occurrences, newest first, with their targets counted by outcome', async () => {
    const { job } = await seedSiteAndJob(ctx.store, NOW);
    const runs = Array.from({ length: 55 }, (_, i) => ({ job_id: job.id, scheduled_ts: NOW - i * 60_000, status: i === 0 ? 'Skipped' : 'Success', skip_reason: i === 0 ? 'the previous occurrence was still running' : null, error: null, started_ts: null, finished_ts: null, created_at: NOW, updated_at: NOW, target_hostname: null, component_index: null, component_kind: null, component_name: null, rerun_of_run_id: null }));
    const ids = (await ctx.db.insertInto('scheduled_job_runs').values(runs).returning('id').execute()).map((r) => r.id);
    await ctx.db.insertInto('scheduled_job_run_targets').values({ run_id: ids[1]!, hostname: 'web-1', status: 'Success', created_at: NOW, device_guid: null, site_id: null, resolved_from_filter_id: null, inventory_hostname: null, wireguard_peer_ip: null, resolved_connection: null, resolution_status: 'online', resolution_reason: null, resolved_from_filter_ids_json: null, finished_at: NOW, detail: null, exit_code: null, duration_ms: null }).execute();
    const { client } = await signedIn(OPERATOR);
    const first = await (await client.get(`/ui/jobs/${job.id}`)).text();
    const rowsOn = (page: string) => [...page.matchAll(/<tr><td><a href="\/ui\/runs\/(\d+)">/g)].map((m) => Number(m[1]));
    expect(rowsOn(first)).toEqual(ids.slice(0, 50));
    expect(first).toContain('the previous occurrence was still running');
    expect(first).toContain('<td>1 Success</td>');
    const next = /href="(\/ui\/jobs\/\d+\?cursor=[^"]+)">Older occurrences/.exec(first)![1]!;
    expect(rowsOn(await (await client.get(next.replaceAll('&amp;', '&'))).text())).toEqual(ids.slice(50));
  });

  it('explains a run: Skipped in words, each frozen target with its resolution, reason, filter, exit code and output', async () => {
    const { job } = await seedSiteAndJob(ctx.store, NOW);
    const run = await ctx.db.insertInto('scheduled_job_runs').values({ job_id: job.id, scheduled_ts: NOW, status: 'Skipped', skip_reason: 'every target was offline', error: null, started_ts: null, finished_ts: null, created_at: NOW, updated_at: NOW, target_hostname: null, component_index: null, component_kind: null, component_name: null, rerun_of_run_id: null }).returning('id').executeTakeFirstOrThrow();
    const base = { run_id: run.id, created_at: NOW, device_guid: null, site_id: 1, inventory_hostname: null, wireguard_peer_ip: null, resolved_connection: null, resolved_from_filter_ids_json: null, finished_at: NOW, detail: null, duration_ms: null };
    await ctx.db.insertInto('scheduled_job_run_targets').values([
      { ...base, hostname: 'web-1', resolution_status: 'online', resolution_reason: null, resolved_from_filter_id: null, status: 'Failed', exit_code: 3, duration_ms: 1500, detail: 'exit code 3' },
      { ...base, hostname: 'web-2', resolution_status: 'offline', resolution_reason: 'last seen 2 h ago (offline after 10 min)', resolved_from_filter_id: 7, status: 'Skipped', exit_code: null },
    ]).execute();
    const { client } = await signedIn(VIEWER);
    const page = await (await client.get(`/ui/runs/${run.id}`)).text();
    expect(page).toContain('Skipped: this occurrence was not run (every target was offline)');
    expect(page).toMatch(/<td>web-2<\/td><td>1<\/td><td><span class="s-offline">offline<\/span><\/td><td>last seen 2 h ago \(offline after 10 min\)<\/td>\s*<td>filter 7<\/td>/);
    expect(page).toMatch(/<td>web-1<\/td>[\s\S]*?<td><span class="s-Failed">Failed<\/span><\/td><td>3<\/td><td>1 s<\/td>\s*<td>exit code 3<\/td>/);
  });
});

describeBackends('dashboard job form and secrets', (ctx) => {
  let server: UiServer;
  beforeAll(async () => {
    server = await startUiServer(ctx.store, { clock: () => NOW });
  });
  afterAll(() => server.close());

  it('refuses a secret in the components and never shows it back', async () => {
    await ctx.truncateAll();
    const client = new UiClient(server.url);
    await client.signIn(OPERATOR);
    const csrf = await client.csrf();
    const components = JSON.stringify([{ kind: 'command', argv: ['deploy'], env: { DB_PASSWORD: 'hunter2-secret' } }]);
    const bodies: Array<Record<string, string>> = [{ ...goodForm(1), sites: '', hostnames: 'web-1', components }, { definition: JSON.stringify({ name: 'x', schedule_type: 'daily', targets: { hostnames: ['web-1'] }, components: JSON.parse(components) }) }];
    for (const body of bodies) {
      const res = await client.post('/ui/jobs/new', { _csrf: csrf, ...body });
      expect(res.status).toBe(400);
      const page = await res.text();
      expect(page).toContain('components.0.env.DB_PASSWORD: secrets never enter job definitions; use credential_id');
      expect(page).not.toContain('hunter2');
    }
    expect(Number((await ctx.db.selectFrom('scheduled_jobs').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n)).toBe(0);
  });
});

/**
 * The dashboard's scheduled-jobs and runs pages: list, new/edit form, export, a job with its
 * occurrences, run now, enable/disable, and a run's detail. Thin over src/schedule: the form's
 * definition goes through createJob/updateJob (the CLI's and the API's validation, reference
 * checks and audit rows), export is exportJob (what `jobyard jobs export` prints).
 */
import { JobDefinitionError, createJob, getJobOrThrow, updateJob } from '../../schedule/job-lifecycle.js';
import { validateJobDefinition, type JobDefinition } from '../../schedule/job-definition.js';
import { exportJob } from '../../schedule/job-export.js';
import { listJobLines, listOccurrences } from '../../schedule/job-list.js';
import { checkJobReferences } from '../../schedule/job-references.js';
import { runNowAsOperator, setEnabledAsOperator } from '../../schedule/operator-actions.js';
import { readRunDetail } from '../../schedule/run-detail.js';
import { jsonSyntaxProblem } from '../../cli/options.js';
import { NotFoundError, ValidationError } from '../../errors.js';
import { blankForm, definitionFromForm, formFields, formFromDefinition, mergeProblems, redactForm, redactJsonText, type JobFormFields } from './job-form.js';
import { jobFormPage } from './pages/job-form.js';
import { jobPage, jobsPage } from './pages/jobs.js';
import { runPage } from './pages/runs.js';
import { back, need, positiveId, render, type RouteKit, type UiContext, type UiHono } from './route-kit.js';

const SAVED: Record<string, string> = { created: 'Job created.', updated: 'Job saved.' };

export function registerJobRoutes(app: UiHono, kit: RouteKit): void {
  const { store, clock } = kit;

  app.get('/jobs', async (c) => {
    const after = Number(c.req.query('after'));
    const data = await listJobLines(store, { ...(after > 0 ? { after } : {}), limit: 50 });
    return render(c, 'Scheduled jobs', '/jobs', jobsPage(c.var.view, data), { live: true });
  });

  app.get('/jobs/new', (c) => {
    need(c, 'operator');
    return render(c, 'New job', '/jobs', jobFormPage(c.var.view, { fields: blankForm(), problems: [] }));
  });
  app.post('/jobs/new', async (c) => {
    need(c, 'operator');
    const pasted = c.var.form.definition;
    if (typeof pasted === 'string') return createFromDefinitionText(c, pasted);
    const fields = formFields(c.var.form);
    const problems = await saveProblems(fields, async (definition) => {
      const { job } = await createJob(store, definition, { actor: c.var.session.actor, now: clock() });
      return job.id;
    });
    if (typeof problems === 'number') return c.redirect(`${c.var.base}/jobs/${problems}?saved=created`, 303);
    return render(c, 'New job', '/jobs', jobFormPage(c.var.view, { fields: redactForm(fields), problems }), { status: 400 });
  });

  app.get('/jobs/:id/edit', async (c) => {
    need(c, 'operator');
    const job = await findJob(c.req.param('id'));
    const fields = formFromDefinition(exportJob(job));
    return render(c, `Edit ${job.name}`, '/jobs', jobFormPage(c.var.view, { jobId: job.id, jobName: job.name, fields, problems: [] }));
  });
  app.post('/jobs/:id/edit', async (c) => {
    need(c, 'operator');
    const job = await findJob(c.req.param('id'));
    const fields = formFields(c.var.form);
    const problems = await saveProblems(fields, async (definition) => {
      await updateJob(store, job.id, definition, { actor: c.var.session.actor, now: clock() });
      return job.id;
    });
    if (typeof problems === 'number') return c.redirect(`${c.var.base}/jobs/${job.id}?saved=updated`, 303);
    return render(c, `Edit ${job.name}`, '/jobs', jobFormPage(c.var.view, { jobId: job.id, jobName: job.name, fields: redactForm(fields), problems }), { status: 400 });
  });

  app.get('/jobs/:id/export', async (c) => {
    const job = await findJob(c.req.param('id'));
    c.header('Content-Disposition', `attachment; filename="job-${job.id}.json"`);
    // The bytes `jobyard jobs export` prints (it adds only the trailing newline).
    return c.body(`${JSON.stringify(exportJob(job), null, 2)}\n`, 200, { 'Content-Type': 'application/json; charset=utf-8' });
  });

  app.get('/jobs/:id', async (c) => {
    const job = await findJob(c.req.param('id'));
    const cursor = c.req.query('cursor') || undefined;
    const occurrences = await listOccurrences(store, { jobId: job.id, limit: 50, ...(cursor ? { cursor } : {}) });
    const last = cursor ? (await listOccurrences(store, { jobId: job.id, limit: 1 })).items[0] : occurrences.items[0];
    const definition = exportJob(job);
    const { warnings } = await checkJobReferences(store, { targets: job.targets_json as JobDefinition['targets'], credential_id: job.credential_id, components: job.components_json as unknown[] });
    const saved = SAVED[c.req.query('saved') ?? ''];
    return render(c, job.name, '/jobs', jobPage(c.var.view, { job, definition, occurrences, warnings, last, ...(saved ? { saved } : {}) }), { live: true });
  });

  app.post('/jobs/:id/:action', async (c) => {
    need(c, 'operator');
    const id = positiveId(c.req.param('id'), 'job id');
    const action = c.req.param('action');
    if (action === 'run-now') {
      const runId = await runNowAsOperator(store, id, c.var.session.actor, { now: clock() });
      return c.redirect(`${c.var.base}/runs/${runId}`, 303);
    }
    if (action !== 'enable' && action !== 'disable') throw new ValidationError([`action: "${action}" is not one of run-now, enable, disable`]);
    await setEnabledAsOperator(store, id, action === 'enable', c.var.session.actor, { now: clock() });
    return c.redirect(back(c, `${c.var.base}/jobs`), 303);
  });

  app.get('/runs/:id', async (c) => {
    const id = positiveId(c.req.param('id'), 'run id');
    const detail = await readRunDetail(store, id);
    if (!detail) throw new NotFoundError(`run ${id}: no such run`);
    return render(c, `Run ${id}`, '/jobs', runPage(c.var.view, detail), { live: true });
  });

  async function findJob(idText: string) {
    return getJobOrThrow(store, positiveId(idText, 'job id'));
  }

  /**
   * Saves the form's definition, or returns every problem: the JSON fields' own, then the domain
   * validator's (which also checks what the definition names); nothing is written on any problem.
   */
  async function saveProblems(fields: JobFormFields, save: (definition: Record<string, unknown>) => Promise<number>): Promise<number | string[]> {
    const { definition, problems, unparsed } = definitionFromForm(fields);
    if (problems.length > 0) {
      const r = validateJobDefinition(definition, { now: clock() });
      return mergeProblems(problems, unparsed, r.ok ? [] : r.problems);
    }
    try {
      return await save(definition);
    } catch (err) {
      if (err instanceof JobDefinitionError) return err.problems;
      throw err;
    }
  }

  async function createFromDefinitionText(c: UiContext, text: string) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      return render(c, 'New job', '/jobs', jobFormPage(c.var.view, { fields: blankForm(), problems: [`definition: ${jsonSyntaxProblem(err, text)}`], definitionText: text }), { status: 400 });
    }
    try {
      const { job } = await createJob(store, parsed, { actor: c.var.session.actor, now: clock() });
      return c.redirect(`${c.var.base}/jobs/${job.id}?saved=created`, 303);
    } catch (err) {
      if (!(err instanceof JobDefinitionError)) throw err;
      const fields = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? formFromDefinition(parsed as Record<string, unknown>) : blankForm();
      return render(c, 'New job', '/jobs', jobFormPage(c.var.view, { fields: redactForm(fields), problems: err.problems, definitionText: redactJsonText(text) }), { status: 400 });
    }
  }
}

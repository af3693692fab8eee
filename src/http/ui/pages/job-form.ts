/**
 * The job form (new and edit): one labelled field per definition field, each validation problem
 * printed under its field (and linked to it with aria-describedby), the rest at the top. A second
 * form on the new-job page takes a whole definition as `jobs export` writes it.
 */
import { html } from 'hono/html';
import { JOB_KINDS } from '../../../schedule/job-definition.js';
import { MISSED_POLICIES } from '../../../schedule/occurrences.js';
import { SCHEDULE_TYPES } from '../../../schedule/recurrence.js';
import { GENERAL, problemsByField, type JobFormFields } from '../job-form.js';
import { csrfField, type Html, type View } from '../layout.js';

export interface JobFormPage {
  /** Absent for a new job. */
  jobId?: number;
  jobName?: string;
  fields: JobFormFields;
  problems: readonly string[];
  /** The definition text of the import form (new job only). */
  definitionText?: string;
}

type Field = keyof JobFormFields;

export function jobFormPage(v: View, p: JobFormPage): Html {
  const byField = problemsByField(p.problems);
  const f = p.fields;
  const problemsOf = (name: string): string[] => byField.get(name) ?? [];
  const described = (name: Field, hint?: string) => {
    const ids = [...(hint ? [`${name}-hint`] : []), ...(problemsOf(name).length > 0 ? [`${name}-problems`] : [])];
    return ids.length > 0 ? html` aria-describedby="${ids.join(' ')}"` : '';
  };
  const after = (name: Field, hint?: string) => html`${hint ? html`<span class="hint muted" id="${name}-hint">${hint}</span>` : ''}${
    problemsOf(name).length > 0 ? html`<ul class="problem" id="${name}-problems">${problemsOf(name).map((m) => html`<li>${m}</li>`)}</ul>` : ''
  }`;
  const invalid = (name: Field) => (problemsOf(name).length > 0 ? html` aria-invalid="true"` : '');
  const text = (name: Field, label: string, hint?: string) =>
    html`<div class="field"><label for="f-${name}">${label}</label><input type="text" id="f-${name}" name="${name}" value="${f[name]}"${invalid(name)}${described(name, hint)}>${after(name, hint)}</div>`;
  const area = (name: Field, label: string, rows: number, hint?: string) =>
    html`<div class="field"><label for="f-${name}">${label}</label><textarea id="f-${name}" name="${name}" rows="${rows}" spellcheck="false"${invalid(name)}${described(name, hint)}>${f[name]}</textarea>${after(name, hint)}</div>`;
  const select = (name: Field, label: string, values: readonly string[], hint?: string) => {
    const options = values.includes(f[name]) ? values : [...values, f[name]];
    return html`<div class="field"><label for="f-${name}">${label}</label><select id="f-${name}" name="${name}"${invalid(name)}${described(name, hint)}>${options.map(
      (o) => html`<option value="${o}"${o === f[name] ? ' selected' : ''}>${o === '' ? '(none)' : o}</option>`,
    )}</select>${after(name, hint)}</div>`;
  };
  const check = (name: Field, label: string, hint?: string) =>
    html`<div class="field"><label for="f-${name}">${label}</label><span><input type="checkbox" id="f-${name}" name="${name}"${f[name] ? ' checked' : ''}${invalid(name)}${described(name, hint)}></span>${after(name, hint)}</div>`;

  const general = problemsOf(GENERAL);
  const action = p.jobId ? `${v.base}/jobs/${p.jobId}/edit` : `${v.base}/jobs/new`;
  const title = p.jobId ? `Edit job ${p.jobId}: ${p.jobName ?? ''}` : 'New job';
  return html`<h1>${title}</h1>
${p.problems.length > 0 ? html`<div class="warn" role="alert"><p><b>Nothing was saved.</b> invalid job definition: ${p.problems.length} problem(s), shown next to their fields.</p>${
    general.length > 0 ? html`<ul id="general-problems">${general.map((m) => html`<li class="err">${m}</li>`)}</ul>` : ''
  }</div>` : ''}
<form class="jobform" method="post" action="${action}" novalidate>${csrfField(v)}
<fieldset><legend>Job</legend>
${text('name', 'Name')}
${select('job_kind', 'Kind', JOB_KINDS)}
${check('enabled', 'Enabled')}
</fieldset>
<fieldset><legend>Schedule</legend>
${select('schedule_type', 'Schedule type', SCHEDULE_TYPES, 'cron uses the expression below; daily, weekly, monthly and yearly repeat the wall-clock time of the start in the zone')}
${text('cron_expression', 'Cron expression', 'five fields, e.g. 30 2 * * 1-5; only for schedule type cron')}
${text('time_zone', 'Time zone', 'IANA name, e.g. Europe/Berlin (default UTC)')}
${text('start_ts', 'Start', 'ISO-8601 with zone or offset, e.g. 2099-12-01T02:30:00Z; empty: from now')}
${text('expiration', 'Stop at', 'optional; ISO-8601 time after which no occurrence is written')}
${select('missed_policy', 'Missed runs', MISSED_POLICIES, 'skip: drop occurrences missed while no scheduler ran; run_once: run one of them; run_all: run each (capped)')}
</fieldset>
<fieldset><legend>Targets</legend>
${area('hostnames', 'Hostnames', 2, 'one per line or comma-separated; unknown ones are a warning (the device may enrol later)')}
${text('sites', 'Site ids', 'comma-separated')}
${text('filters', 'Device filter ids', 'comma-separated')}
${area('onboarding_scope', 'Onboarding scope', 3, 'onboarding jobs only; a JSON object')}
</fieldset>
<fieldset><legend>What runs</legend>
${area('components', 'Components', 8, 'a JSON array, e.g. [{"kind":"command","argv":["df","-h"]}]; kinds: command, script, http, ansible_playbook, device_onboarding')}
${select('execution_context', 'Execution context', ['', 'ssh'], '(none): on the site worker itself; ssh: on each target over SSH')}
${text('credential_id', 'Credential id', 'needed for ssh; the secret stays in the credential store')}
${check('use_service_account', 'Use service account')}
</fieldset>
<p><button type="submit">${p.jobId ? 'Save changes' : 'Create job'}</button> <a href="${p.jobId ? `${v.base}/jobs/${p.jobId}` : `${v.base}/jobs`}">Cancel</a></p>
</form>
${p.jobId ? '' : importForm(v, p.definitionText ?? '')}`;
}

function importForm(v: View, text: string): Html {
  return html`<h2>From a definition</h2>
<form class="jobform" method="post" action="${v.base}/jobs/new">${csrfField(v)}
<div class="field"><label for="f-definition">Definition (JSON)</label><textarea id="f-definition" name="definition" rows="8" spellcheck="false" aria-describedby="definition-hint">${text}</textarea>
<span class="hint muted" id="definition-hint">as <code>jobyard jobs export</code> prints it and <code>jobs create --file</code> reads it; problems are shown in the form above</span></div>
<p><button type="submit">Create from definition</button></p>
</form>`;
}

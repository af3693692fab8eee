/**
 * One run: status explained, each frozen target with its resolution (and why, and which filter
 * brought it in), its outcome, exit code, duration and output, each playbook's per-host recap,
 * the work items, and onboarding timelines. Output is stored masked; it is masked again here in
 * case a row predates a pattern.
 */
import { html } from 'hono/html';
import { maskSecrets } from '../../../executors/sanitize.js';
import type { readRunDetail } from '../../../schedule/run-detail.js';
import { RECAP_FIELDS } from '../../../executors/ansible/recap.js';
import { duration, explainRunStatus, timestamp } from '../format.js';
import { status, type Html, type View } from '../layout.js';

type RunDetail = NonNullable<Awaited<ReturnType<typeof readRunDetail>>>;
type OnboardingTarget = NonNullable<RunDetail['onboarding']>[number];
type OnboardingEvent = { task: string | null; status: string; started_at: number | null; finished_at: number | null; detail: string | null; stdout_snippet: string | null; stderr_snippet: string | null };

const out = (text: string | null) => (text ? html`<pre>${maskSecrets(text)}</pre>` : html`<span class="muted">(none)</span>`);

/** Which filter(s) contributed a target: the recorded list, else the single column. */
function filtersOf(t: RunDetail['targets'][number]): string {
  const many = Array.isArray(t.resolved_from_filter_ids_json) ? (t.resolved_from_filter_ids_json as number[]) : [];
  if (many.length > 0) return many.map((id) => `filter ${id}`).join(', ');
  return t.resolved_from_filter_id !== null ? `filter ${t.resolved_from_filter_id}` : '—';
}

export function runPage(v: View, d: RunDetail): Html {
  const { run } = d;
  const explained = explainRunStatus(run);
  const frozen = new Map(d.targets.map((t) => [t.id, t]));
  return html`<h1>Run ${run.id}${d.job ? html` of <a href="${v.base}/jobs/${d.job.id}">${d.job.name}</a>` : ''}</h1>
<p>Status: <b><span data-run-status="${run.id}" data-refresh class="s-${run.status}">${run.status}</span></b>;
scheduled ${timestamp(run.scheduled_ts)}; started ${timestamp(run.started_ts)}; finished ${timestamp(run.finished_ts)}${
    run.started_ts && run.finished_ts ? html`; took ${duration(run.finished_ts - run.started_ts)}` : ''
  }${run.rerun_of_run_id ? html`; a rerun of <a href="${v.base}/runs/${run.rerun_of_run_id}">run ${run.rerun_of_run_id}</a>` : ''}.</p>
${explained ? html`<p class="warn">${explained}</p>` : ''}
${run.error ? html`<p class="err">${run.error}</p>` : ''}
<h2>Frozen targets</h2>
<p class="muted">The devices this occurrence resolved when it was written; later inventory changes do not move them.</p>
<table><thead><tr><th scope="col">host</th><th scope="col">site</th><th scope="col">resolution</th><th scope="col">why</th><th scope="col">from</th>
<th scope="col">outcome</th><th scope="col">exit code</th><th scope="col">duration</th><th scope="col">detail</th><th scope="col">finished</th></tr></thead><tbody>
${d.target_rows.map((t) => {
  const f = frozen.get(t.id);
  return html`<tr><td>${t.hostname ?? f?.device_guid ?? '—'}</td><td>${t.site_id ?? '—'}</td><td>${status(t.resolution_status)}</td><td>${t.resolution_reason ?? ''}</td>
<td>${f ? filtersOf(f) : '—'}</td><td>${status(t.outcome)}</td><td>${t.exit_code ?? f?.exit_code ?? '—'}</td><td>${duration(t.duration_ms ?? f?.duration_ms)}</td>
<td>${t.detail ?? f?.detail ?? ''}</td><td>${timestamp(t.finished_at)}</td></tr>`;
})}
</tbody></table>
${d.targets.length === 0 ? html`<p class="muted">No target was frozen for this occurrence.</p>` : ''}
<h2>Output per target</h2>
${d.activity.length === 0 ? html`<p class="muted">No output recorded yet.</p>` : ''}
${d.activity.map(
  (a) => html`<details><summary>${a.hostname ?? '—'} · ${a.component_name ?? a.script_name ?? a.component_kind ?? 'step'} · ${status(a.status)}${
    a.exit_code !== null ? ` · exit ${a.exit_code}` : ''
  }${a.duration_ms !== null ? ` · ${duration(a.duration_ms)}` : ''} · ${timestamp(a.ran_at)}</summary>
${a.detail ? html`<p>${a.detail}</p>` : ''}<h3>stdout</h3>${out(a.stdout)}<h3>stderr</h3>${out(a.stderr)}</details>`,
)}
${d.playbooks.length > 0 ? playbooks(d.playbooks) : ''}
<h2>Work items</h2>
<table><thead><tr><th scope="col">item</th><th scope="col">kind</th><th scope="col">site</th><th scope="col">status</th><th scope="col">attempts</th><th scope="col">duration</th><th scope="col">error</th></tr></thead><tbody>
${d.work_items.map(
  (i) => html`<tr><td><a href="${v.base}/items?run=${run.id}">${i.id}</a></td><td>${i.kind}</td><td>${i.site_id ?? '—'}</td><td>${status(i.status)}</td>
<td>${i.attempt_count}/${i.max_attempts}</td><td>${i.started_at && i.finished_at ? duration(i.finished_at - i.started_at) : '—'}</td><td class="err">${i.error ?? ''}</td></tr>`,
)}
</tbody></table>
${d.onboarding && d.onboarding.length > 0 ? onboarding(d.onboarding) : ''}`;
}

function onboarding(targets: OnboardingTarget[]): Html {
  return html`<h2>Onboarding timelines</h2>
${targets.map(
  (target) => html`<h3>${target.target_hostname ?? target.target_address ?? target.target_input ?? 'target'} — ${status(target.status)}</h3>
${target.detail ? html`<p>${target.detail}</p>` : ''}
<table><thead><tr><th scope="col">task</th><th scope="col">status</th><th scope="col">duration</th><th scope="col">detail</th></tr></thead><tbody>
${(target.events as OnboardingEvent[]).map(
  (e) => html`<tr><td>${e.task ?? '—'}</td><td>${status(e.status)}</td><td>${e.started_at && e.finished_at ? duration(e.finished_at - e.started_at) : '—'}</td>
<td>${e.detail ?? ''}${e.stdout_snippet ? out(e.stdout_snippet) : ''}${e.stderr_snippet ? out(e.stderr_snippet) : ''}</td></tr>`,
)}</tbody></table>`,
)}`;
}

function playbooks(list: RunDetail['playbooks']): Html {
  return html`<h2>Ansible play recaps</h2>
${list.map(
  (p) => html`<h3>Playbook ${p.component_index}${p.component_name ? html` (${p.component_name})` : ''} — ${status(p.status)}</h3>
${p.error ? html`<p class="err">${p.error}</p>` : ''}
<table><thead><tr><th scope="col">host</th><th scope="col">target</th>${RECAP_FIELDS.map((f) => html`<th scope="col">${f}</th>`)}</tr></thead><tbody>
${p.hosts.map((h) => html`<tr><td>${h.inventory_hostname}</td><td>${h.hostname ?? '—'}</td>${RECAP_FIELDS.map((f) => html`<td>${h[f]}</td>`)}</tr>`)}
</tbody></table>`,
)}`;
}

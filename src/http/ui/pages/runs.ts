/** One run: status explained, frozen targets with resolution, per-target output, Ansible play recaps, work items, onboarding timelines. */
import { html } from 'hono/html';
import { maskSecrets } from '../../../executors/sanitize.js';
import type { readRunDetail } from '../../../schedule/run-detail.js';
import type { readOnboardingTimelines } from '../../../executors/onboarding/timelines.js';
import { RECAP_FIELDS } from '../../../executors/ansible/recap.js';
import { duration, explainRunStatus, timestamp } from '../format.js';
import { status, type Html, type View } from '../layout.js';

type RunDetail = NonNullable<Awaited<ReturnType<typeof readRunDetail>>>;
type Timelines = Awaited<ReturnType<typeof readOnboardingTimelines>>;

const out = (text: string | null) => (text ? html`<pre>${maskSecrets(text)}</pre>` : html`<span class="muted">(none)</span>`);

export function runPage(v: View, d: RunDetail, timelines: Timelines): Html {
  const { run } = d;
  const explained = explainRunStatus(run);
  return html`<h1>Run ${run.id}${d.job ? html` of <a href="${v.base}/jobs/${d.job.id}">${d.job.name}</a>` : ''}</h1>
<p>Status: <b><span data-run-status="${run.id}" data-refresh class="s-${run.status}">${run.status}</span></b>;
scheduled ${timestamp(run.scheduled_ts)}; started ${timestamp(run.started_ts)}; finished ${timestamp(run.finished_ts)}${
    run.started_ts && run.finished_ts ? html`; took ${duration(run.finished_ts - run.started_ts)}` : ''
  }.</p>
${explained ? html`<p class="warn">${explained}</p>` : ''}
${run.error ? html`<p class="err">${run.error}</p>` : ''}
<h2>Frozen targets</h2>
<table><thead><tr><th scope="col">host</th><th scope="col">site</th><th scope="col">resolution</th><th scope="col">why</th><th scope="col">from filter</th><th scope="col">outcome</th><th scope="col">finished</th></tr></thead><tbody>
${d.targets.map(
  (t) => html`<tr><td>${t.hostname ?? t.device_guid ?? '—'}</td><td>${t.site_id ?? '—'}</td><td>${t.resolution_status ?? '—'}</td><td>${t.resolution_reason ?? ''}</td>
<td>${t.resolved_from_filter_id ?? '—'}</td><td>${status(t.status)}</td><td>${timestamp(t.finished_at)}</td></tr>`,
)}
</tbody></table>
<h2>Output per target</h2>
${d.activity.length === 0 ? html`<p class="muted">No output recorded yet.</p>` : ''}
${d.activity.map(
  (a) => html`<details><summary>${a.hostname ?? '—'} · ${a.component_name ?? a.script_name ?? a.component_kind ?? 'step'} · ${status(a.status)} · ${timestamp(a.ran_at)}</summary>
<h3>stdout</h3>${out(a.stdout)}<h3>stderr</h3>${out(a.stderr)}</details>`,
)}
${d.playbooks.length > 0 ? playbooks(d.playbooks) : ''}
<h2>Work items</h2>
<table><thead><tr><th scope="col">item</th><th scope="col">kind</th><th scope="col">site</th><th scope="col">status</th><th scope="col">attempts</th><th scope="col">duration</th><th scope="col">error</th></tr></thead><tbody>
${d.work_items.map(
  (i) => html`<tr><td><a href="${v.base}/items?run=${run.id}">${i.id}</a></td><td>${i.kind}</td><td>${i.site_id ?? '—'}</td><td>${status(i.status)}</td>
<td>${i.attempt_count}/${i.max_attempts}</td><td>${i.started_at && i.finished_at ? duration(i.finished_at - i.started_at) : '—'}</td><td class="err">${i.error ?? ''}</td></tr>`,
)}
</tbody></table>
${timelines && timelines.targets.length > 0 ? onboarding(timelines) : ''}`;
}

function onboarding(t: NonNullable<Timelines>): Html {
  return html`<h2>Onboarding timelines</h2>
${t.targets.map(
  (target) => html`<h3>${target.target_hostname ?? target.target_address ?? target.target_input ?? 'target'} — ${status(target.status)}</h3>
${target.detail ? html`<p>${target.detail}</p>` : ''}
<table><thead><tr><th scope="col">task</th><th scope="col">status</th><th scope="col">duration</th><th scope="col">detail</th></tr></thead><tbody>
${(target.events as Array<{ task: string | null; status: string; started_at: number | null; finished_at: number | null; detail: string | null; stdout_snippet: string | null; stderr_snippet: string | null }>).map(
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

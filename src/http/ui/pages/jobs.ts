/** Scheduled jobs: the list with schedule in words and a result bar, and one job's history. */
import { html } from 'hono/html';
import type { ScheduledJob } from '../../../db/schema.js';
import type { JobLine } from '../queries/jobs.js';
import { cappedCount, relative, scheduleInWords, timestamp } from '../format.js';
import { csrfField, qs, type Html, type View } from '../layout.js';

const BAR_CLASS: Record<string, string> = { Success: 'b-ok', Failed: 'b-bad', Partial: 'b-warn', Expired: 'b-warn', Skipped: 'b-warn', Running: 'b-run', Pending: 'b-run' };

/** The last runs as a bar, oldest left; each segment is labelled for screen readers through the title list. */
export function resultBar(recent: JobLine['recent']): Html {
  if (recent.length === 0) return html`<span class="muted">no runs yet</span>`;
  const ordered = [...recent].reverse();
  const words = ordered.map((r) => r.status).join(', ');
  return html`<span class="bar" role="img" aria-label="last runs, oldest first: ${words}" title="${words}">${ordered.map(
    (r) => html`<span class="${BAR_CLASS[r.status] ?? ''}"></span>`,
  )}</span>`;
}

export function jobActions(v: View, job: ScheduledJob): Html {
  if (!v.canAct) return html``;
  return html`<form class="inline" method="post" action="${v.base}/jobs/${job.id}/run-now">${csrfField(v)}<button type="submit">Run now</button></form>
<form class="inline" method="post" action="${v.base}/jobs/${job.id}/${job.enabled ? 'disable' : 'enable'}"${job.enabled ? html` data-confirm="Disable ${job.name}? Its next occurrence is dropped."` : ''}>${csrfField(v)}<button type="submit">${job.enabled ? 'Disable' : 'Enable'}</button></form>`;
}

export function jobsPage(v: View, data: { lines: JobLine[]; total: number; next_after: number | null }): Html {
  return html`<h1>Scheduled jobs</h1>
<p>${cappedCount(data.total)} job(s).</p>
<table><thead><tr><th scope="col">id</th><th scope="col">name</th><th scope="col">schedule</th><th scope="col">cron / zone</th><th scope="col">missed runs</th>
<th scope="col">enabled</th><th scope="col">next</th><th scope="col">last</th><th scope="col">last runs</th>${v.canAct ? html`<th scope="col">actions</th>` : ''}</tr></thead><tbody>
${data.lines.map(({ job, recent }) => {
  const last = recent[0];
  return html`<tr><td>${job.id}</td><td><a href="${v.base}/jobs/${job.id}">${job.name}</a></td><td>${scheduleInWords(job)}</td>
<td><code>${job.cron_expression ?? '—'}</code> ${job.time_zone}</td><td>${job.missed_policy}</td><td>${job.enabled ? 'yes' : 'no'}</td>
<td title="${timestamp(job.next_run_at)}">${relative(job.next_run_at, v.now)}</td>
<td>${last ? html`<a href="${v.base}/runs/${last.id}"><span data-run-status="${last.id}" class="s-${last.status}">${last.status}</span></a> ${relative(last.scheduled_ts, v.now)}` : '—'}</td>
<td>${resultBar(recent)}</td>${v.canAct ? html`<td>${jobActions(v, job)}</td>` : ''}</tr>`;
})}
</tbody></table>
${data.next_after !== null ? html`<p class="pager"><a href="${v.base}/jobs${qs({ after: data.next_after })}">More jobs →</a></p>` : ''}`;
}

export function jobPage(
  v: View,
  job: ScheduledJob,
  runs: Array<{ id: number; status: string; scheduled_ts: number; started_ts: number | null; finished_ts: number | null; error: string | null }>,
): Html {
  return html`<h1>Job ${job.id}: ${job.name}</h1>
<p>${scheduleInWords(job)}${job.cron_expression ? html` — <code>${job.cron_expression}</code>` : ''} in ${job.time_zone}; missed runs: ${job.missed_policy};
${job.enabled ? 'enabled' : 'disabled'}; next ${relative(job.next_run_at, v.now)} (${timestamp(job.next_run_at)}).</p>
<p>${jobActions(v, job)}</p>
<h2>Occurrences</h2>
<table><thead><tr><th scope="col">run</th><th scope="col">status</th><th scope="col">scheduled</th><th scope="col">duration</th><th scope="col">error</th></tr></thead><tbody>
${runs.map(
  (r) => html`<tr><td><a href="${v.base}/runs/${r.id}">${r.id}</a></td><td><span data-run-status="${r.id}" class="s-${r.status}">${r.status}</span></td>
<td>${timestamp(r.scheduled_ts)}</td><td>${r.started_ts && r.finished_ts ? `${((r.finished_ts - r.started_ts) / 1000).toFixed(1)} s` : '—'}</td><td class="err">${r.error ?? ''}</td></tr>`,
)}
</tbody></table>
<h2>Definition</h2>
<pre>${JSON.stringify({ components: job.components_json, targets: job.targets_json }, null, 2)}</pre>`;
}

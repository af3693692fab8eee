/** Scheduled jobs: the list with schedule in words and a result bar, and one job's page with its occurrences. */
import { html } from 'hono/html';
import type { ScheduledJob } from '../../../db/schema.js';
import { describeSchedule, type ExportedJob } from '../../../schedule/job-export.js';
import type { JobLine, Occurrence } from '../../../schedule/job-list.js';
import { cappedCount, duration, relative, scheduleInWords, timestamp } from '../format.js';
import { csrfField, qs, type Html, type View } from '../layout.js';

const BAR_CLASS: Record<string, string> = { Success: 'b-ok', Failed: 'b-bad', Partial: 'b-warn', Expired: 'b-warn', Skipped: 'b-warn', Running: 'b-run', Pending: 'b-run' };

/** Cron spelt out in words where it has a common shape; other schedules as the API describes them. */
export function plainSchedule(job: ScheduledJob): string {
  return job.schedule_type === 'cron' ? scheduleInWords(job) : describeSchedule(job);
}

/** The last runs as a bar, oldest left; each segment is labelled for screen readers through the title list. */
export function resultBar(recent: JobLine['recent']): Html {
  if (recent.length === 0) return html`<span class="muted">no runs yet</span>`;
  const ordered = [...recent].reverse();
  const words = ordered.map((r) => r.status).join(', ');
  return html`<span class="bar" role="img" aria-label="last runs, oldest first: ${words}" title="${words}">${ordered.map(
    (r) => html`<span class="${BAR_CLASS[r.status] ?? ''}"></span>`,
  )}</span>`;
}

export function jobActions(v: View, job: ScheduledJob, options: { edit?: boolean } = {}): Html {
  if (!v.canAct) return html``;
  return html`<form class="inline" method="post" action="${v.base}/jobs/${job.id}/run-now">${csrfField(v)}<button type="submit">Run now</button></form>
<form class="inline" method="post" action="${v.base}/jobs/${job.id}/${job.enabled ? 'disable' : 'enable'}"${job.enabled ? html` data-confirm="Disable ${job.name}? Its next occurrence is dropped."` : ''}>${csrfField(v)}<button type="submit">${job.enabled ? 'Disable' : 'Enable'}</button></form>${
    options.edit ? html` <a class="button" href="${v.base}/jobs/${job.id}/edit">Edit</a>` : ''
  }`;
}

export function jobsPage(v: View, data: { lines: JobLine[]; total: number; next_after: number | null }): Html {
  return html`<h1>Scheduled jobs</h1>
<p>${cappedCount(data.total)} job(s).${v.canAct ? html` <a class="button" href="${v.base}/jobs/new">New job</a>` : ''}</p>
<table><thead><tr><th scope="col">id</th><th scope="col">name</th><th scope="col">schedule</th><th scope="col">cron / zone</th><th scope="col">missed runs</th>
<th scope="col">enabled</th><th scope="col">next</th><th scope="col">last</th><th scope="col">last runs</th>${v.canAct ? html`<th scope="col">actions</th>` : ''}</tr></thead><tbody>
${data.lines.map(({ job, recent }) => {
  const last = recent[0];
  return html`<tr><td>${job.id}</td><td><a href="${v.base}/jobs/${job.id}">${job.name}</a></td><td>${plainSchedule(job)}</td>
<td><code>${job.cron_expression ?? '—'}</code> ${job.time_zone}</td><td>${job.missed_policy}</td><td>${job.enabled ? 'yes' : 'no'}</td>
<td title="${timestamp(job.next_run_at)}">${relative(job.next_run_at, v.now)}</td>
<td>${last ? html`<a href="${v.base}/runs/${last.id}"><span data-run-status="${last.id}" class="s-${last.status}">${last.status}</span></a> ${relative(last.scheduled_ts, v.now)}` : '—'}</td>
<td>${resultBar(recent)}</td>${v.canAct ? html`<td>${jobActions(v, job)}</td>` : ''}</tr>`;
})}
</tbody></table>
${data.next_after !== null ? html`<p class="pager"><a href="${v.base}/jobs${qs({ after: data.next_after })}">More jobs →</a></p>` : ''}`;
}

const targetCounts = (t: Record<string, number>): string =>
  Object.entries(t)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([s, n]) => `${n} ${s}`)
    .join(', ') || '—';

export interface JobPageData {
  job: ScheduledJob;
  definition: ExportedJob;
  occurrences: { items: Occurrence[]; next_cursor: string | null };
  /** The reference warnings of the saved definition, as the CLI prints them after create. */
  warnings: string[];
  /** The newest occurrence (whatever page of the history is shown). */
  last: { id: number; status: string; scheduled_ts: number } | undefined;
  /** Set after a create or an edit: what was done. */
  saved?: string;
}

export function jobPage(v: View, d: JobPageData): Html {
  const { job } = d;
  return html`<h1>Job ${job.id}: ${job.name}</h1>
${d.saved ? html`<p class="ok" role="status">${d.saved}</p>` : ''}
${d.warnings.length > 0 ? html`<ul class="warn" aria-label="warnings">${d.warnings.map((w) => html`<li>warning: ${w}</li>`)}</ul>` : ''}
<p>${plainSchedule(job)}${job.cron_expression ? html` — <code>${job.cron_expression}</code> in ${job.time_zone}` : ''}; missed runs: ${job.missed_policy};
${job.enabled ? 'enabled' : 'disabled'}; next ${job.next_run_at === null ? 'none' : html`${relative(job.next_run_at, v.now)} (${timestamp(job.next_run_at)})`}${
    d.last ? html`; last <a href="${v.base}/runs/${d.last.id}"><span data-run-status="${d.last.id}" class="s-${d.last.status}">${d.last.status}</span></a> ${relative(d.last.scheduled_ts, v.now)}` : ''
  }.</p>
<p>${jobActions(v, job, { edit: true })} <a class="button" href="${v.base}/jobs/${job.id}/export" download="job-${job.id}.json">Export</a></p>
<h2>Occurrences</h2>
<table><thead><tr><th scope="col">run</th><th scope="col">status</th><th scope="col">scheduled</th><th scope="col">duration</th><th scope="col">targets</th><th scope="col">why</th></tr></thead><tbody>
${d.occurrences.items.map(
  (r) => html`<tr><td><a href="${v.base}/runs/${r.id}">${r.id}</a>${r.rerun_of_run_id ? html` <span class="muted">(rerun of ${r.rerun_of_run_id})</span>` : ''}</td>
<td><span data-run-status="${r.id}" class="s-${r.status}">${r.status}</span></td>
<td>${timestamp(r.scheduled_ts)}</td><td>${r.started_ts && r.finished_ts ? duration(r.finished_ts - r.started_ts) : '—'}</td><td>${targetCounts(r.targets)}</td>
<td class="err">${r.error ?? r.skip_reason ?? ''}</td></tr>`,
)}
</tbody></table>
${d.occurrences.items.length === 0 ? html`<p class="muted">No occurrence yet.</p>` : ''}
${d.occurrences.next_cursor ? html`<p class="pager"><a href="${v.base}/jobs/${job.id}${qs({ cursor: d.occurrences.next_cursor })}">Older occurrences →</a></p>` : ''}
<h2>Definition</h2>
<p class="muted">As <code>jobyard jobs export ${job.id}</code> prints it; <code>jobyard jobs create --file</code> accepts it back unchanged.</p>
<pre>${JSON.stringify(d.definition, null, 2)}</pre>`;
}

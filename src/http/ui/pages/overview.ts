/** The overview page: counts that update live from the shared snapshot. */
import { html } from 'hono/html';
import type { Overview } from '../overview-data.js';
import type { MinutePoint } from '../../../queue/minute-rollup.js';
import { chart } from './chart.js';
import { qs, type Html, type View } from '../layout.js';

export function overviewPage(v: View, o: Overview, series: MinutePoint[]): Html {
  const card = (label: string, key: string, value: string | number, href?: string) =>
    html`<div class="card">${href ? html`<a href="${href}">${label}</a>` : label}<b data-stat="${key}">${value}</b></div>`;
  return html`<h1>Overview</h1>
${o.warnings.map((w) => html`<p class="warn" role="status">${w}</p>`)}
<h2>Work items by status</h2>
<div class="cards">${Object.entries(o.by_status).map(([s, n]) => card(s, `by_status.${s}`, n, `${v.base}/items${qs({ status: s })}`))}</div>
<div class="cards">
${card('ready now', 'ready', o.ready)}${card('delayed', 'delayed', o.delayed)}${card('longest ready wait', 'oldest_wait', o.oldest_wait)}
${card('live workers', 'live_workers', o.live_workers, `${v.base}/workers`)}${card('last occurrence written', 'last_write_age', o.last_write_age)}
${card('jobs due', 'due_jobs', o.due_jobs, `${v.base}/jobs`)}
</div>
<h2>Throughput and latency</h2>
<div class="cards">
${chart('Items finished per minute', [{ label: 'succeeded', values: series.map((p) => p.succeeded) }, { label: 'failed', values: series.map((p) => p.failed), bad: true }], '')}
${chart('Mean wait from claimable to claimed', [{ label: 'wait', values: series.map((p) => Math.round(p.wait_ms ?? 0)) }], ' ms')}
</div>
<h2>Sites</h2>
<table><thead><tr><th scope="col">site</th><th scope="col">queued</th><th scope="col">running</th><th scope="col">live workers</th></tr></thead><tbody>
${o.sites.map(
  (s) => html`<tr><td>${s.name}</td><td><a href="${v.base}/items${qs({ status: 'queued', site: s.site_id ?? 'none' })}">${s.queued}</a></td>
<td><a href="${v.base}/items${qs({ status: 'running', site: s.site_id ?? 'none' })}">${s.running}</a></td><td>${s.live_workers}</td></tr>`,
)}
</tbody></table>
<p class="muted">Counts stop at 10,000 ("10,000+") so this page stays fast at any queue size.</p>`;
}

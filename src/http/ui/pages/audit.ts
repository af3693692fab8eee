/** The Audit log page (admins): who did what, filterable by actor and action. */
import { html } from 'hono/html';
import type { AuditRow } from '../../../audit/audit-log.js';
import { timestamp } from '../format.js';
import { qs, type Html, type View } from '../layout.js';

export function auditPage(v: View, rows: AuditRow[], next: string | null, filter: { actor?: string; action?: string }): Html {
  return html`<h1>Audit log</h1>
<form class="filters" method="get" action="${v.base}/audit" aria-label="Filter the audit log">
<label>actor<input name="actor" value="${filter.actor ?? ''}"></label><label>action<input name="action" value="${filter.action ?? ''}" placeholder="work_item.cancel"></label>
<button type="submit">Filter</button></form>
<table><thead><tr><th scope="col">when</th><th scope="col">actor</th><th scope="col">action</th><th scope="col">object</th><th scope="col">summary</th></tr></thead><tbody>
${rows.map(
  (r) => html`<tr><td>${timestamp(r.at)}</td><td>${r.actor}</td><td>${r.action}</td><td>${r.object_type} ${r.object_id ?? ''}</td><td><code>${JSON.stringify(r.summary)}</code></td></tr>`,
)}</tbody></table>
${rows.length === 0 ? html`<p class="muted">No entries${filter.actor || filter.action ? ' match the filter' : ''}.</p>` : ''}
${next ? html`<p class="pager"><a href="${v.base}/audit${qs({ ...filter, cursor: next })}">Older entries →</a></p>` : ''}`;
}

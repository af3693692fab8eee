/** The read pages: workers, services, inventory and credentials, audit log. */
import { html } from 'hono/html';
import type { AuditRow } from '../../../audit/audit-log.js';
import type { Worker } from '../../../db/schema.js';
import type { readInventory } from '../queries/inventory.js';
import { cappedCount, duration, relative, timestamp } from '../format.js';
import { qs, status, type Html, type View } from '../layout.js';

export function workersPage(v: View, live: Worker[], ended: Worker[]): Html {
  const table = (rows: Worker[]) => html`<table><thead><tr><th scope="col">worker</th><th scope="col">site</th><th scope="col">status</th><th scope="col">lanes</th>
<th scope="col">claimed</th><th scope="col">heartbeat</th><th scope="col">launcher state</th><th scope="col">exit code</th><th scope="col">started</th><th scope="col">stopped</th></tr></thead><tbody>
${rows.map(
  (w) => html`<tr><td><a href="${v.base}/items${qs({ worker: w.worker_guid })}">${w.worker_guid}</a></td><td>${w.site_id ?? '—'}</td><td>${status(w.status)}</td>
<td>${(w.current_lanes_json ?? []).join(', ')}</td><td>${w.claimed_count}</td><td>${w.last_seen_at ? duration(v.now - w.last_seen_at) : '—'}</td>
<td>${w.docker_state ?? '—'}</td><td>${w.exit_code ?? '—'}</td><td>${relative(w.started_at, v.now)}</td><td>${relative(w.stopped_at, v.now)}</td></tr>`,
)}</tbody></table>`;
  return html`<h1>Workers</h1><h2>Live (${live.length})</h2>${table(live)}<h2>Stopped or lost in the last hour (${ended.length})</h2>${table(ended)}`;
}

export function servicesPage(v: View, rows: Array<{ service_key: string; payload_json: Record<string, unknown>; updated_at: number }>): Html {
  return html`<h1>Services</h1>
<p class="muted">Compose services as the scheduler last saw them. Service actions (restart, stop, start) are admin-only and go through the service allow-list; use <code>jobyard services</code> until the dashboard's action buttons land.</p>
<table><thead><tr><th scope="col">service</th><th scope="col">snapshot</th><th scope="col">updated</th></tr></thead><tbody>
${rows.map((r) => html`<tr><td>${r.service_key}</td><td><pre>${JSON.stringify(r.payload_json, null, 1)}</pre></td><td>${relative(r.updated_at, v.now)}</td></tr>`)}
</tbody></table>`;
}

export function inventoryPage(v: View, inv: Awaited<ReturnType<typeof readInventory>>): Html {
  return html`<h1>Inventory</h1>
<h2>Sites</h2><table><thead><tr><th scope="col">id</th><th scope="col">name</th><th scope="col">description</th></tr></thead><tbody>
${inv.sites.map((s) => html`<tr><td>${s.id}</td><td>${s.name}</td><td>${s.description ?? ''}</td></tr>`)}</tbody></table>
<h2>Devices (${cappedCount(inv.deviceCount)}; first ${inv.devices.length} by name)</h2>
<table><thead><tr><th scope="col">hostname</th><th scope="col">site</th><th scope="col">online</th><th scope="col">last seen</th><th scope="col">os</th><th scope="col">connection</th></tr></thead><tbody>
${inv.devices.map(
  (d) => html`<tr><td>${d.hostname}</td><td>${d.site_id ?? '—'}</td><td>${d.online ? html`<span class="s-succeeded">online</span>` : html`<span class="s-failed">offline</span>`}</td>
<td>${relative(d.last_seen, v.now)}</td><td>${d.operating_system ?? ''}</td><td>${d.connection_type ?? ''}</td></tr>`,
)}</tbody></table>
<h2>Device filters</h2><table><thead><tr><th scope="col">id</th><th scope="col">name</th><th scope="col">criteria</th><th scope="col">sites</th><th scope="col">archived</th></tr></thead><tbody>
${inv.filters.map((f) => html`<tr><td>${f.id}</td><td>${f.name}</td><td>${f.criteria_mode ?? ''}</td><td>${f.site_mode ?? ''}</td><td>${f.archived ? 'yes' : 'no'}</td></tr>`)}</tbody></table>
<h2>Credentials</h2>
${inv.credentials === null ? html`<p class="muted">Credentials are listed for admins only.</p>` : html`<p class="muted">Secrets are never shown here.</p>
<table><thead><tr><th scope="col">id</th><th scope="col">name</th><th scope="col">site</th><th scope="col">type</th><th scope="col">connection</th><th scope="col">username</th><th scope="col">updated</th></tr></thead><tbody>
${inv.credentials.map(
  (c) => html`<tr><td>${c.id}</td><td>${c.name}</td><td>${c.site_id ?? '—'}</td><td>${c.credential_type ?? ''}</td><td>${c.connection_type ?? ''}</td><td>${c.username ?? ''}</td><td>${timestamp(c.updated_at)}</td></tr>`,
)}</tbody></table>`}`;
}

export function auditPage(v: View, rows: AuditRow[], next: string | null, filter: { actor?: string; action?: string }): Html {
  return html`<h1>Audit log</h1>
<form class="filters" method="get" action="${v.base}/audit" aria-label="Filter the audit log">
<label>actor<input name="actor" value="${filter.actor ?? ''}"></label><label>action<input name="action" value="${filter.action ?? ''}" placeholder="work_item.cancel"></label>
<button type="submit">Filter</button></form>
<table><thead><tr><th scope="col">when</th><th scope="col">actor</th><th scope="col">action</th><th scope="col">object</th><th scope="col">summary</th></tr></thead><tbody>
${rows.map(
  (r) => html`<tr><td>${timestamp(r.at)}</td><td>${r.actor}</td><td>${r.action}</td><td>${r.object_type} ${r.object_id ?? ''}</td><td><code>${JSON.stringify(r.summary)}</code></td></tr>`,
)}</tbody></table>
${next ? html`<p class="pager"><a href="${v.base}/audit${qs({ ...filter, cursor: next })}">Older entries →</a></p>` : ''}`;
}

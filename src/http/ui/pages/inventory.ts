/** The Inventory page: sites, devices (online/offline), device filters with "which devices match now", and (admins) credentials without secrets. */
import { html } from 'hono/html';
import type { CredentialInfo } from '../../../credentials/credential-store.js';
import type { DeviceView } from '../../../inventory/device-admin.js';
import type { FilterView } from '../../../inventory/filter-admin.js';
import type { ExplainedDevice, FilterExplanation } from '../../../inventory/filter-explain.js';
import type { Site } from '../../../inventory/sites.js';
import { duration, relative, timestamp } from '../format.js';
import { qs, type Html, type View } from '../layout.js';

export interface DeviceFilterForm {
  hostname?: string;
  site?: string;
  state?: string;
}

export interface InventoryData {
  sites: Site[];
  devices: { items: DeviceView[]; next_cursor: string | null };
  deviceFilter: DeviceFilterForm;
  problems: string[];
  filters: FilterView[];
  /** The filter tested now (?test=<id>), with its matches and why. */
  tested: FilterExplanation | null;
  /** null: not an admin (credentials are an admin read, as in the API). */
  credentials: CredentialInfo[] | null;
  offlineAfterMs: number;
}

export function inventoryPage(v: View, d: InventoryData): Html {
  const f = d.deviceFilter;
  return html`<h1>Inventory</h1>
<h2>Sites (${d.sites.length})</h2><table><thead><tr><th scope="col">id</th><th scope="col">name</th><th scope="col">description</th><th scope="col">devices</th></tr></thead><tbody>
${d.sites.map((s) => html`<tr><td>${s.id}</td><th scope="row">${s.name}</th><td>${s.description ?? ''}</td><td><a href="${v.base}/inventory${qs({ site: s.name })}#devices">devices</a></td></tr>`)}</tbody></table>
<h2 id="devices">Devices</h2>
<p class="muted">A device is offline when it was last seen more than ${duration(d.offlineAfterMs)} ago, as the scheduler judges it when it freezes a run's targets.</p>
<form class="filters" method="get" action="${v.base}/inventory" aria-label="Filter devices">
<label>hostname contains<input name="hostname" value="${f.hostname ?? ''}"></label>
<label>site<input name="site" value="${f.site ?? ''}" placeholder="name, id or none"></label>
<label>state<select name="state"><option value="">any</option>${['online', 'offline'].map((s) => html`<option${f.state === s ? ' selected' : ''}>${s}</option>`)}</select></label>
<button type="submit">Filter</button></form>
${d.problems.map((p) => html`<p class="err" role="alert">${p}</p>`)}
<table><thead><tr><th scope="col">hostname</th><th scope="col">site</th><th scope="col">state</th><th scope="col">last seen</th><th scope="col">os</th><th scope="col">connection</th></tr></thead><tbody>
${d.devices.items.map(
  (x) => html`<tr><th scope="row">${x.hostname}</th><td>${x.site_name ?? '—'}</td><td><span class="s-${x.state}">${x.state}</span></td>
<td>${relative(x.last_seen, v.now)}</td><td>${x.operating_system ?? ''}</td><td>${x.connection_type ?? ''}${x.connection_endpoint ? html` ${x.connection_endpoint}` : ''}</td></tr>`,
)}</tbody></table>
${d.devices.items.length === 0 ? html`<p class="muted">No device matches.</p>` : ''}
${d.devices.next_cursor ? html`<p class="pager"><a href="${v.base}/inventory${qs({ ...f, cursor: d.devices.next_cursor })}#devices">More devices →</a></p>` : ''}
<h2 id="filters">Device filters</h2><table><thead><tr><th scope="col">id</th><th scope="col">name</th><th scope="col">criteria</th><th scope="col">sites</th><th scope="col">archived</th><th scope="col">matches now</th></tr></thead><tbody>
${d.filters.map(
  (x) => html`<tr><td>${x.id}</td><th scope="row">${x.name}</th><td>${x.criteria_mode}${x.problems.length > 0 ? html` <span class="err">(${x.problems.join('; ')})</span>` : ''}</td>
<td>${x.site_mode === 'all' ? 'all' : x.sites.join(', ')}</td><td>${x.archived ? 'yes' : 'no'}</td>
<td><a href="${v.base}/inventory${qs({ ...f, test: x.id })}#match">Which devices match now<span class="sr"> ${x.name}</span></a></td></tr>`,
)}</tbody></table>
${d.tested ? matchSection(d.tested, new Map(d.sites.map((x) => [x.id, x.name]))) : ''}
<h2>Credentials</h2>
${d.credentials === null ? html`<p class="muted">Credentials are listed for admins only.</p>` : credentialTable(d.credentials)}`;
}

/** What `jobyard filters test` prints, as a section. */
function matchSection(t: FilterExplanation, siteNames: Map<number, string>): Html {
  const rows = (list: ExplainedDevice[]) =>
    html`<table><thead><tr><th scope="col">hostname</th><th scope="col">site</th><th scope="col">state</th><th scope="col">why</th></tr></thead><tbody>
${list.map((x) => html`<tr><th scope="row">${x.hostname}</th><td>${x.site_id === null ? '—' : (siteNames.get(x.site_id) ?? x.site_id)}</td><td><span class="s-${x.state}">${x.state}</span></td><td>${x.reasons.join('; ')}</td></tr>`)}</tbody></table>`;
  return html`<section id="match" aria-labelledby="match-h"><h3 id="match-h">Filter ${t.filter.id} “${t.filter.name}” matches ${t.matches.length} of ${t.examined} devices now</h3>
${t.problems.map((p) => html`<p class="err">${p}</p>`)}
${t.matches.length > 0 ? rows(t.matches) : html`<p class="muted">No device matches.</p>`}
${t.near_misses.length > 0 ? html`<h4>Near misses</h4>${rows(t.near_misses)}` : ''}</section>`;
}

function credentialTable(list: CredentialInfo[]): Html {
  if (list.length === 0) return html`<p class="muted">No credentials.</p>`;
  return html`<p class="muted">Secrets are never shown here: only which ones are set.</p>
<table><thead><tr><th scope="col">id</th><th scope="col">name</th><th scope="col">site</th><th scope="col">type</th><th scope="col">connection</th><th scope="col">username</th><th scope="col">secrets set</th><th scope="col">updated</th></tr></thead><tbody>
${list.map(
  (c) => html`<tr><td>${c.id}</td><th scope="row">${c.name}</th><td>${c.site_name ?? '—'}</td><td>${c.credential_type ?? ''}</td><td>${c.connection_type ?? ''}</td><td>${c.username ?? ''}</td>
<td>${c.secrets_set.join(', ') || '—'}</td><td>${timestamp(c.updated_at)}</td></tr>`,
)}</tbody></table>`;
}

/** The Workers page: per site, the live workers and those stopped or lost recently. */
import { html } from 'hono/html';
import type { Worker } from '../../../db/schema.js';
import { duration, relative } from '../format.js';
import { qs, status, type Html, type View } from '../layout.js';

export interface WorkersData {
  live: Worker[];
  /** Stopped or lost since `endedSince`. */
  ended: Worker[];
  endedSince: number;
  siteNames: Map<number, string>;
  /** A live worker whose heartbeat is older than this is about to be judged lost. */
  staleAfterMs: number;
}

/** Rows grouped by site id (null last), in site-name order. Pure. */
export function bySite(rows: Worker[], siteNames: Map<number, string>): Array<{ siteId: number | null; name: string; rows: Worker[] }> {
  const groups = new Map<number | null, Worker[]>();
  for (const w of rows) groups.set(w.site_id, [...(groups.get(w.site_id) ?? []), w]);
  const name = (id: number | null) => (id === null ? 'no site' : (siteNames.get(id) ?? `site ${id}`));
  return [...groups.entries()]
    .map(([siteId, list]) => ({ siteId, name: name(siteId), rows: list }))
    .sort((a, b) => (a.siteId === null ? 1 : b.siteId === null ? -1 : a.name.localeCompare(b.name)));
}

export function workersPage(v: View, d: WorkersData): Html {
  const table = (rows: Worker[], caption: string) => html`<table><caption class="sr">${caption}</caption><thead><tr><th scope="col">worker</th><th scope="col">status</th><th scope="col">lanes</th>
<th scope="col">claimed</th><th scope="col">heartbeat</th><th scope="col">launcher state</th><th scope="col">exit code</th><th scope="col">started</th><th scope="col">stopped</th></tr></thead><tbody>
${rows.map((w) => {
  const age = w.last_seen_at === null ? null : v.now - w.last_seen_at;
  const stale = age !== null && age > d.staleAfterMs && (w.status === 'running' || w.status === 'idle');
  return html`<tr><th scope="row"><a href="${v.base}/items${qs({ worker: w.worker_guid })}">${w.worker_guid}</a>${w.container_name ? html`<br><span class="muted">${w.container_name}</span>` : ''}</th>
<td>${status(w.status)}${w.status === 'idle' && w.idle_since ? html` <span class="muted">since ${relative(w.idle_since, v.now)}</span>` : ''}</td>
<td>${(w.current_lanes_json ?? []).join(', ') || '—'}</td><td>${w.claimed_count}</td>
<td>${age === null ? '—' : html`<span class="${stale ? 'err' : ''}">${duration(age)} ago${stale ? ' (stale)' : ''}</span>`}</td>
<td>${w.docker_state ?? '—'}</td><td>${w.exit_code ?? '—'}</td><td>${relative(w.started_at, v.now)}</td><td>${relative(w.stopped_at, v.now)}</td></tr>`;
})}</tbody></table>`;
  const liveGroups = bySite(d.live, d.siteNames);
  const endedGroups = bySite(d.ended, d.siteNames);
  return html`<h1>Workers</h1>
<p class="muted">${d.live.length} live worker${d.live.length === 1 ? '' : 's'} in ${liveGroups.length} site${liveGroups.length === 1 ? '' : 's'}; a heartbeat older than ${duration(d.staleAfterMs)} is marked stale.</p>
<h2>Live</h2>
${liveGroups.length === 0 ? html`<p class="muted">No live worker.</p>` : ''}
${liveGroups.map((g) => html`<h3>${g.name} <span class="muted">(${g.rows.length} live, ${g.rows.reduce((n, w) => n + w.claimed_count, 0)} claimed)</span></h3>${table(g.rows, `Live workers of ${g.name}`)}`)}
<h2>Stopped or lost in the last ${duration(v.now - d.endedSince)}</h2>
${endedGroups.length === 0 ? html`<p class="muted">None.</p>` : ''}
${endedGroups.map((g) => html`<h3>${g.name}</h3>${table(g.rows, `Ended workers of ${g.name}`)}`)}`;
}

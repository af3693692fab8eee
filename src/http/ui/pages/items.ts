/** Work items: filters in the URL, one keyset page, per-item and bulk actions, batch progress. */
import { html } from 'hono/html';
import type { WorkItem } from '../../../db/schema.js';
import { WORK_STATUSES } from '../../../queue/kinds.js';
import type { BulkBatch } from '../bulk.js';
import { ITEM_ACTIONS } from '../../../queue/item-actions.js';
import { filterToQuery } from '../item-filter.js';
import type { ItemFilter, ItemPage } from '../../../queue/work-item-list.js';
import { cappedCount, duration, relative, timestamp } from '../format.js';
import { csrfField, qs, status, type Html, type View } from '../layout.js';

const ACTION_LABEL = { retry: 'Retry', requeue: 'Run now', cancel: 'Cancel' } as const;

function actionsFor(item: WorkItem): Array<keyof typeof ACTION_LABEL> {
  if (item.status === 'queued') return ['requeue', 'cancel'];
  if (item.status === 'running') return ['cancel'];
  return ['retry'];
}

export function itemsPage(v: View, f: ItemFilter, page: ItemPage, problems: string[], raw: URLSearchParams): Html {
  const fq = filterToQuery(f);
  const field = (name: string, label: string, placeholder = '') =>
    html`<label>${label}<input name="${name}" value="${raw.get(name) ?? ''}" placeholder="${placeholder}"></label>`;
  return html`<h1>Work items</h1>
${problems.map((p) => html`<p class="err" role="alert">${p}</p>`)}
<form class="filters" method="get" action="${v.base}/items" aria-label="Filter work items">
<label>status<select name="status"><option value="">any</option>${WORK_STATUSES.map((s) => html`<option${f.status === s ? html` selected` : ''}>${s}</option>`)}</select></label>
${field('kind', 'kind')}${field('site', 'site id', 'id or none')}${field('lane', 'lane')}${field('worker', 'worker / lease owner')}
${field('run', 'run id')}${field('from', 'created from (UTC)', '2026-12-02T08:00')}${field('to', 'created before (UTC)')}${field('payload', 'payload path=value', 'host.name=web-1')}
<button type="submit">Filter</button> <a href="${v.base}/items">clear</a>
</form>
<p><b>${cappedCount(page.total)}</b> item(s) match${page.scanned !== undefined ? html` the other filters; the payload search is bounded: this page searched the newest ${page.scanned.toLocaleString('en-US')} of them (Next searches older ones)` : ''}.</p>
${v.canAct ? bulkForm(v, fq, page) : ''}
${v.canAct ? html`<form id="selection" method="post" action="${v.base}/items/bulk">${csrfField(v)}</form>` : ''}
<table><thead><tr>${v.canAct ? html`<th scope="col"><input type="checkbox" data-select-all aria-label="Select every item on this page"></th>` : ''}
<th scope="col">id</th><th scope="col">status</th><th scope="col">kind</th><th scope="col">site</th><th scope="col">lane</th><th scope="col">attempts</th>
<th scope="col">lease owner</th><th scope="col">heartbeat</th><th scope="col">lease expires</th><th scope="col">created</th><th scope="col">last error</th>${v.canAct ? html`<th scope="col">actions</th>` : ''}</tr></thead>
<tbody>${page.items.map((i) => row(v, i))}</tbody></table>
${v.canAct && page.items.length > 0
  ? html`<p><span data-selected-count>0</span> selected:
${ITEM_ACTIONS.map((a) => html` <button type="submit" form="selection" name="action" value="${a}" data-confirm="${ACTION_LABEL[a]} the selected items?">${ACTION_LABEL[a]} selected</button>`)}</p>`
  : ''}
${page.next_before !== null ? html`<p class="pager"><a href="${v.base}/items${qs({ ...fq, before: page.next_before })}">Older items →</a></p>` : ''}`;
}

function row(v: View, i: WorkItem): Html {
  return html`<tr>${v.canAct ? html`<td><input type="checkbox" name="id" value="${i.id}" form="selection" aria-label="Select item ${i.id}"></td>` : ''}
<td>${i.id}</td><td>${status(i.status)}</td><td>${i.kind}</td><td>${i.site_id ?? '—'}</td><td>${i.lane}</td><td>${i.attempt_count}/${i.max_attempts}</td>
<td>${i.lease_owner ?? '—'}</td><td>${i.heartbeat_at ? duration(v.now - i.heartbeat_at) : '—'}</td>
<td>${i.lease_expires_at ? html`<span data-expires="${i.lease_expires_at}">${relative(i.lease_expires_at, v.now)}</span>` : '—'}</td>
<td title="${timestamp(i.created_at)}">${relative(i.created_at, v.now)}</td>
<td>${i.error ? html`<span class="err">${i.error.slice(0, 200)}</span>` : ''}${i.run_id ? html` <a href="${v.base}/runs/${i.run_id}">run ${i.run_id}</a>` : ''}</td>
${v.canAct
  ? html`<td>${actionsFor(i).map(
      (a) => html`<form class="inline" method="post" action="${v.base}/items/${i.id}/${a}"${a === 'cancel' ? html` data-confirm="Cancel item ${i.id}?"` : ''}>${csrfField(v)}<button type="submit"${a === 'cancel' ? html` class="danger"` : ''}>${ACTION_LABEL[a]}</button></form> `,
    )}</td>`
  : ''}</tr>`;
}

function bulkForm(v: View, fq: Record<string, string>, page: ItemPage): Html {
  if (page.total === 0) return html``;
  return html`<form method="post" action="${v.base}/items/bulk" class="filters" data-confirm="Apply to every item matching this filter (${cappedCount(page.total)})?">
${csrfField(v)}<input type="hidden" name="scope" value="filter">
${Object.entries(fq).map(([k, val]) => html`<input type="hidden" name="f_${k}" value="${val}">`)}
<label>on all ${cappedCount(page.total)} matching<select name="action">${ITEM_ACTIONS.map((a) => html`<option value="${a}">${ACTION_LABEL[a]}</option>`)}</select></label>
<button type="submit">Apply to all matching</button></form>`;
}

export function batchPage(v: View, b: BulkBatch): Html {
  return html`<h1>Bulk ${b.action}</h1>
<p>${b.scope}, started by ${b.actor} at ${timestamp(b.startedAt)}.</p>
<p role="status" id="batch-status">${b.finished ? 'Finished' : 'Running'}: <b>${b.done}</b> done, <b>${b.conflicts.length}</b> conflict(s)${b.error ? html`; stopped: <span class="err">${b.error}</span>` : ''}.</p>
${b.conflicts.length > 0
  ? html`<h2>Conflicts</h2><table><thead><tr><th scope="col">item</th><th scope="col">why nothing was done</th></tr></thead><tbody>
${b.conflicts.map((c) => html`<tr><td>${c.id}</td><td>${c.reason}</td></tr>`)}</tbody></table>`
  : ''}
<p><a href="${v.base}/items">Back to work items</a></p>`;
}

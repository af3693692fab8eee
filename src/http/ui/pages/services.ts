/** The Services page: compose services with their snapshot, the actions queued on them, and the confirmation step before an action. */
import { html } from 'hono/html';
import type { WorkItem } from '../../../db/schema.js';
import type { ServiceSnapshot } from '../../../services/snapshots.js';
import { SERVICE_ACTIONS, type ServiceAction } from '../../../services/service-key.js';
import { relative, timestamp } from '../format.js';
import { csrfField, qs, status, type Html, type View } from '../layout.js';

export interface ServiceRow {
  service_key: string;
  payload_json: unknown;
  updated_at: number;
}

const VERB: Record<ServiceAction, string> = { restart: 'Restart', stop: 'Stop', start: 'Start' };
const EFFECT: Record<ServiceAction, string> = {
  restart: 'restarts every container of the service, one after the other',
  stop: 'stops every container of the service; it stays down until started',
  start: 'starts every stopped container of the service',
};

/** Queued or running actions keep the page reloading (live without script). */
export const actionsInFlight = (actions: WorkItem[]): boolean => actions.some((a) => a.status === 'queued' || a.status === 'running');

export function servicesPage(v: View, rows: ServiceRow[], allow: ReadonlySet<string>, actions: WorkItem[], canAct: boolean): Html {
  return html`<h1>Services</h1>
${actionsInFlight(actions) ? html`<p class="warn" role="status">${actions.filter((a) => a.status === 'queued' || a.status === 'running').length} service action(s) queued or running; this page reloads until they finish (see <a href="#actions">Recent service actions</a>).</p>` : ''}
<p class="muted">Compose services as the scheduler last saw them. ${
    allow.size === 0
      ? html`No service is on the action allow-list (<code>SERVICE_ACTION_ALLOW</code>), so none can be restarted, stopped or started from here.`
      : html`Actions are offered for the allow-listed services: ${[...allow].join(', ')}.${canAct ? '' : ' They need the admin role.'}`
  }</p>
<table><thead><tr><th scope="col">service</th><th scope="col">state</th><th scope="col">containers</th><th scope="col">updated</th>${canAct ? html`<th scope="col">actions</th>` : ''}</tr></thead><tbody>
${rows.map((r) => {
  const snap = r.payload_json as Partial<ServiceSnapshot>;
  const allowed = allow.has(r.service_key);
  return html`<tr><th scope="row">${r.service_key}</th><td>${status(snap.state)}${snap.health ? html` (${snap.health})` : ''}</td>
<td>${snap.running ?? '?'} of ${snap.total ?? '?'} running${(snap.containers ?? []).map((c) => html`<br><span class="muted">${c.name}: ${c.status}</span>`)}</td>
<td>${relative(r.updated_at, v.now)}</td>${
    canAct
      ? html`<td>${
          allowed
            ? SERVICE_ACTIONS.map((a) => html`<a class="button" href="${v.base}/services/confirm${qs({ service: r.service_key, action: a })}">${VERB[a]}<span class="sr"> ${r.service_key}</span></a> `)
            : html`<span class="muted">not allow-listed</span>`
        }</td>`
      : ''
  }</tr>`;
})}
</tbody></table>
${rows.length === 0 ? html`<p class="muted">No snapshot yet: the scheduler writes one per compose service when it can reach the Docker Engine.</p>` : ''}
<h2 id="actions">Recent service actions</h2>
${actions.length === 0 ? html`<p class="muted">None.</p>` : actionTable(v, actions)}`;
}

function actionTable(v: View, actions: WorkItem[]): Html {
  return html`<table><thead><tr><th scope="col">item</th><th scope="col">action</th><th scope="col">service</th><th scope="col">state</th><th scope="col">queued</th><th scope="col">finished</th><th scope="col">outcome</th></tr></thead><tbody>
${actions.map((a) => {
  const p = (a.payload_json ?? {}) as { action?: string; service?: string };
  return html`<tr data-service-action="${a.id}"><td><a href="${v.base}/items${qs({ kind: a.kind, status: a.status })}">${a.id}</a></td><td>${p.action ?? '?'}</td><td>${p.service ?? '?'}</td>
<td>${status(a.status)}</td><td>${timestamp(a.created_at)}</td><td>${timestamp(a.finished_at)}</td><td>${outcome(a)}</td></tr>`;
})}</tbody></table>`;
}

function outcome(a: WorkItem): Html | string {
  if (a.status === 'failed' || a.status === 'dead') return html`<span class="err">${a.error ?? 'failed'}</span>`;
  const result = a.result_json as { containers?: Array<{ name: string; previous_state: string; new_state: string }> } | null;
  if (!result?.containers) return '';
  return html`${result.containers.map((c) => html`${c.name}: ${c.previous_state} → ${c.new_state}<br>`)}`;
}

/** The confirmation step: says what the action does and asks once more (works without script). */
export function confirmServicePage(v: View, service: string, action: ServiceAction): Html {
  return html`<h1>${VERB[action]} ${service}?</h1>
<p>This ${EFFECT[action]}. The scheduler's service-action consumer runs it; the action is written to the audit log with your name.</p>
<form method="post" action="${v.base}/services/actions">${csrfField({ ...v, here: `${v.base}/services` })}
<input type="hidden" name="service" value="${service}"><input type="hidden" name="action" value="${action}">
<button type="submit" class="danger">${VERB[action]} ${service}</button> <a href="${v.base}/services">Cancel</a>
</form>`;
}

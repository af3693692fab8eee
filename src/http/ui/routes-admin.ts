/**
 * The dashboard's admin-side pages and their actions: workers, services (with the confirmed
 * restart/stop/start), inventory and credentials, audit log. Each route is a thin adapter over
 * the function the CLI and the operator API call, with the API's role for it.
 */
import type { Context, Hono } from 'hono';
import { listAudit } from '../../audit/audit-log.js';
import { listCredentials } from '../../credentials/credential-store.js';
import { UserError, ValidationError } from '../../errors.js';
import { listRecentWorkers, listWorkers, TERMINAL_WORKER_STATUSES } from '../../fleet/worker-rows.js';
import { listDevicePage, type DeviceQuery } from '../../inventory/device-admin.js';
import { listFilterPage, testFilter } from '../../inventory/filter-admin.js';
import { listSites } from '../../inventory/sites.js';
import { listWorkItems } from '../../queue/admin.js';
import { WORK_STATUSES } from '../../queue/kinds.js';
import { refusalReason } from '../../services/allow-list.js';
import { enqueueServiceActionAsOperator } from '../../services/enqueue.js';
import { isServiceAction, SERVICE_ACTION_KIND, SERVICE_ACTIONS } from '../../services/service-key.js';
import { listServiceSnapshots } from '../../services/snapshots.js';
import type { UiEnv } from './app.js';
import type { Role, UiDeps } from './deps.js';
import type { Html } from './layout.js';
import { auditPage } from './pages/audit.js';
import { inventoryPage, type DeviceFilterForm } from './pages/inventory.js';
import { actionsInFlight, confirmServicePage, servicesPage } from './pages/services.js';
import { workersPage } from './pages/workers.js';

/** Service actions are an admin action in the API (POST /api/services/{name}/actions); the same here. */
export const SERVICE_ACTION_ROLE: Role = 'admin';
/** Stopped or lost workers are listed for this long. */
const ENDED_WINDOW_MS = 60 * 60 * 1000;
/** A heartbeat older than this is marked stale (the fleet judges a worker lost a little later). */
const STALE_HEARTBEAT_MS = 60_000;

export interface AdminRouteKit {
  clock: () => number;
  offlineAfterMs: number;
  need(c: Context<UiEnv>, role: Role): void;
  render(c: Context<UiEnv>, title: string, section: string, body: Html, extra?: { live?: boolean; refreshSeconds?: number; status?: 200 | 400 }): Response | Promise<Response>;
}

export function registerAdminRoutes(app: Hono<UiEnv>, deps: UiDeps, kit: AdminRouteKit): void {
  const { store } = deps;
  const allow: ReadonlySet<string> = deps.serviceAllow ?? new Set();

  app.get('/workers', async (c) => {
    const now = kit.clock();
    const endedSince = now - ENDED_WINDOW_MS;
    const [live, recent, sites] = [await listWorkers(store), await listRecentWorkers(store, { endedSince }), await listSites(store)];
    const ended = recent.filter((w) => (TERMINAL_WORKER_STATUSES as readonly string[]).includes(w.status));
    const siteNames = new Map(sites.map((s) => [s.id, s.name]));
    return kit.render(c, 'Workers', '/workers', workersPage(c.var.view, { live, ended, endedSince, siteNames, staleAfterMs: STALE_HEARTBEAT_MS }), { live: true });
  });

  // Every status listed, so the (status, kind) index finds the few service actions among millions of items (no walk down the id index).
  const serviceActions = () => listWorkItems(store, { statuses: WORK_STATUSES, kinds: [SERVICE_ACTION_KIND], siteId: null, limit: 20 });
  app.get('/services', async (c) => {
    const actions = await serviceActions();
    const canAct = c.var.view.canAdmin;
    const body = servicesPage(c.var.view, await listServiceSnapshots(store), allow, actions, canAct);
    // While an action is queued or running the page reloads itself, so its state moves without a click.
    return kit.render(c, 'Services', '/services', body, actionsInFlight(actions) ? { refreshSeconds: 2 } : {});
  });
  app.get('/services/confirm', async (c) => {
    kit.need(c, SERVICE_ACTION_ROLE);
    const { service, action } = checkServiceForm(c.req.query('service'), c.req.query('action'), allow);
    return kit.render(c, `Confirm ${action}`, '/services', confirmServicePage(c.var.view, service, action));
  });
  app.post('/services/actions', async (c) => {
    kit.need(c, SERVICE_ACTION_ROLE);
    const form = c.var.form;
    const { service, action } = checkServiceForm(form.service, form.action, allow);
    await enqueueServiceActionAsOperator(store, { action, service }, c.var.session.actor, { now: kit.clock(), allow });
    // No fragment: the page's refresh while the action runs must be a real reload, and a refresh to the same URL with a fragment is not one.
    return c.redirect(`${c.var.base}/services`, 303);
  });

  app.get('/inventory', async (c) => {
    const q = new URL(c.req.url).searchParams;
    const clock = { now: kit.clock(), offlineAfterMs: kit.offlineAfterMs };
    const form: DeviceFilterForm = { ...pick(q, 'hostname'), ...pick(q, 'site'), ...pick(q, 'state') };
    const problems: string[] = [];
    const query: DeviceQuery = { limit: 100, ...(form.hostname ? { hostname: form.hostname } : {}) };
    if (form.state) {
      if (form.state === 'online' || form.state === 'offline') query.state = form.state;
      else problems.push(`state: "${form.state}" is not one of online, offline`);
    }
    if (form.site) query.site = form.site === 'none' ? null : /^\d+$/.test(form.site) ? Number(form.site) : form.site;
    const cursor = q.get('cursor');
    if (cursor) query.cursor = cursor;
    let devices: Awaited<ReturnType<typeof listDevicePage>> = { items: [], next_cursor: null };
    if (problems.length === 0) {
      try {
        devices = await listDevicePage(store, query, clock);
      } catch (err) {
        if (!(err instanceof UserError)) throw err;
        problems.push(err.message);
      }
    }
    const testText = q.get('test');
    const testId = testText ? positiveId(testText, 'test (filter id)') : undefined;
    const data = {
      sites: await listSites(store),
      devices,
      deviceFilter: form,
      problems,
      filters: (await listFilterPage(store, { limit: 200 })).items,
      tested: testId !== undefined ? await testFilter(store, testId, clock) : null,
      credentials: c.var.view.canAdmin ? (await listCredentials(store.db, { limit: 200 })).items : null,
      offlineAfterMs: kit.offlineAfterMs,
    };
    return kit.render(c, 'Inventory', '/inventory', inventoryPage(c.var.view, data), { status: problems.length > 0 ? 400 : 200 });
  });

  app.get('/audit', async (c) => {
    kit.need(c, 'admin'); // as /api/audit: the audit log is an admin read
    const actor = c.req.query('actor') || undefined;
    const action = c.req.query('action') || undefined;
    const cursor = c.req.query('cursor') || undefined;
    const result = await listAudit(store.db, { limit: 50, ...(actor ? { actor } : {}), ...(action ? { action } : {}), ...(cursor ? { cursor } : {}) });
    return kit.render(c, 'Audit log', '/audit', auditPage(c.var.view, result.items, result.next_cursor, { ...(actor ? { actor } : {}), ...(action ? { action } : {}) }));
  });
}

/** A service action request from a form or query: a known action on an allow-listed service, or a 400 naming both. */
function checkServiceForm(service: unknown, action: unknown, allow: ReadonlySet<string>) {
  const problems: string[] = [];
  if (typeof action !== 'string' || !isServiceAction(action)) problems.push(`action: "${String(action ?? '')}" is not one of ${SERVICE_ACTIONS.join(', ')}`);
  if (typeof service !== 'string' || service === '') problems.push('service: missing; expected <project>/<service>');
  else {
    const refused = refusalReason(allow, service);
    if (refused) problems.push(`service: ${refused}`);
  }
  if (problems.length > 0) throw new ValidationError(problems);
  return { service: service as string, action: action as (typeof SERVICE_ACTIONS)[number] };
}

function pick(q: URLSearchParams, key: keyof DeviceFilterForm): DeviceFilterForm {
  const value = q.get(key)?.trim();
  return value ? { [key]: value } : {};
}

function positiveId(text: string, name: string): number {
  if (!/^\d{1,15}$/.test(text) || Number(text) <= 0) throw new ValidationError([`${name}: "${text}" is not a positive integer`]);
  return Number(text);
}

/**
 * The dashboard served alone for tests: the UI sub-app mounted at /ui on a Hono app over
 * node:http, with three fixed tokens (viewer, operator, admin) standing in for the API's tokens;
 * plus a fixture that puts a site, an online device and a job in the database.
 */
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import type { AddressInfo } from 'node:net';
import { createSite, upsertDevice, assignDeviceToSite } from '../../src/inventory/index.js';
import type { Store } from '../../src/db/open.js';
import { toJson } from '../../src/db/dialect.js';
import { createScheduledJob } from '../../src/schedule/jobs.js';
import { createUiApp, type UiApp } from '../../src/http/ui/app.js';
import type { UiDeps, UiPrincipal } from '../../src/http/ui/deps.js';

export const TOKENS: Record<string, UiPrincipal> = {
  'viewer-token-0123456789': { actor: 'token:vera', role: 'viewer' },
  'operator-token-0123456789': { actor: 'token:otto', role: 'operator' },
  'admin-token-0123456789': { actor: 'token:ada', role: 'admin' },
};
export const VIEWER = 'viewer-token-0123456789';
export const OPERATOR = 'operator-token-0123456789';
export const ADMIN = 'admin-token-0123456789';

export interface UiServer {
  url: string;
  ui: UiApp;
  close(): Promise<void>;
}

/** `deps` overrides the dashboard's dependencies (e.g. the real token checks, SERVICE_ACTION_ALLOW). */
export async function startUiServer(store: Store, options: { liveIntervalMs?: number; clock?: () => number; deps?: Partial<UiDeps> } = {}): Promise<UiServer> {
  const ui = createUiApp({
    store,
    authenticate: (t) => TOKENS[t],
    liveIntervalMs: options.liveIntervalMs ?? 200,
    ...(options.clock ? { clock: options.clock } : {}),
    ...options.deps,
  });
  const root = new Hono();
  root.route('/ui', ui.app);
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: root.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    ui,
    close: () =>
      new Promise<void>((resolve) => {
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

/** A service snapshot row as the scheduler's snapshotter writes it (no Docker Engine needed to read the page). */
export async function seedServiceSnapshot(store: Store, key: string, now: number, state: 'running' | 'stopped' = 'running') {
  const [project, service] = key.split('/') as [string, string];
  const container = { name: `${project}-${service}-1`, id: `id-${service}`, state, status: state === 'running' ? 'Up 3 minutes' : 'Exited (0)', health: null, image: 'local/node-base', started_at: null, restart_count: 0 };
  const payload = { project, service, state, health: null, running: state === 'running' ? 1 : 0, total: 1, containers: [container] };
  await store.db.insertInto('job_scheduler_service_snapshots').values({ service_key: key, payload_json: toJson(payload), updated_at: now }).execute();
}

/** Site "north" with online device web-1, and an hourly job on it (first due in 2099). */
export async function seedSiteAndJob(store: Store, now: number) {
  const site = await createSite(store, { name: 'north' }, now);
  await upsertDevice(store, { guid: 'g-web-1', hostname: 'web-1', last_seen: now, status: 'online' }, now);
  await assignDeviceToSite(store, 'web-1', site.id, now);
  const job = await createScheduledJob(
    store,
    { name: 'disk report', schedule_type: 'daily', start_ts: '2099-12-01T02:30:00Z', time_zone: 'Europe/Berlin', targets: { hostnames: ['web-1'] }, components: [{ kind: 'command', name: 'df', argv: ['df', '-h'] }] },
    { now },
  );
  return { site, job };
}

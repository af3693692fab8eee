/**
 * A scheduled job's targets and how an occurrence freezes them (pure — no database, no clock).
 *
 * `targets_json` is `{ "hostnames"?: string[], "sites"?: number[], "filters"?: number[] }`
 * (onboarding jobs carry `onboarding_scope` instead, handled elsewhere; other keys are ignored).
 * `parseTargets` checks the shape; `resolveTargets` expands it against one inventory snapshot
 * (src/inventory/snapshot.ts) into the rows an occurrence freezes in scheduled_job_run_targets:
 *
 * - one row per device, however many routes reached it (explicit hostname, sites, filters); its
 *   reason lists the routes and it carries every contributing filter id;
 * - a device last seen before `now - offlineAfterMs` (or never) is `offline`: still frozen, so
 *   the occurrence shows it, and the scheduler marks its outcome Expired. Exactly at the
 *   threshold still counts as online;
 * - a device without a site assignment (or whose site no longer exists) is `unassigned`: no site
 *   worker can run it. Unassigned wins over offline; the reason mentions both;
 * - one row for each input that yields no device: an unknown hostname (`not_found`), an unknown
 *   site (`unknown_site`), an unknown filter (`unknown_filter`), an archived filter
 *   (`archived_filter`, contributes nothing) and a filter with invalid criteria
 *   (`invalid_filter`, reason lists the problems).
 *
 * Order: devices by site id (no site last), then by hostname (case-insensitive), then guid;
 * then the non-device rows in input order (hostnames, sites, filters).
 */
import { InvalidJson } from '../db/dialect.js';
import { UserError } from '../errors.js';
import { compileFilter, describeFilter, type InventoryDevice, type InventorySnapshot } from '../inventory/index.js';
import { isOffline } from '../inventory/presence.js';

export interface TargetSpec {
  hostnames: string[];
  sites: number[];
  filters: number[];
}

export const RESOLUTION_STATUSES = [
  'resolved',
  'offline',
  'unassigned',
  'not_found',
  'archived_filter',
  'unknown_filter',
  'invalid_filter',
  'unknown_site',
] as const;
export type ResolutionStatus = (typeof RESOLUTION_STATUSES)[number];

export interface FrozenTarget {
  deviceGuid: string | null;
  hostname: string | null;
  siteId: number | null;
  /** The first filter (in the job's order) that contributed it, if any. */
  resolvedFromFilterId: number | null;
  /** All filters that contributed it, in the job's order. */
  resolvedFromFilterIds: number[];
  resolutionStatus: ResolutionStatus;
  /** Human-readable: the routes of a resolved device, or why a row is not deliverable. */
  resolutionReason: string | null;
}

export interface ResolveOptions {
  /** Epoch ms the occurrence is resolved at. */
  now: number;
  /** A device last seen more than this long before `now` is offline. */
  offlineAfterMs: number;
}

/**
 * Reads a job's `targets_json`. Missing (or null) arrays become empty; a wrong type throws a
 * UserError naming the field, e.g. `targets.sites.0: expected a positive integer, got "3"`.
 * Hostnames are trimmed; duplicates are kept (the resolver merges them).
 */
export function parseTargets(targetsJson: unknown): TargetSpec {
  if (targetsJson === null || targetsJson === undefined) return { hostnames: [], sites: [], filters: [] };
  if (targetsJson instanceof InvalidJson) throw new UserError(`targets: not valid JSON: ${JSON.stringify(targetsJson.text.slice(0, 80))}`);
  if (typeof targetsJson !== 'object' || Array.isArray(targetsJson)) {
    throw new UserError(`targets: expected an object { "hostnames"?, "sites"?, "filters"? }, got ${describeType(targetsJson)}`);
  }
  const raw = targetsJson as Record<string, unknown>;
  const hostnames = arrayField(raw, 'hostnames').map((h, i) => {
    if (typeof h !== 'string' || h.trim() === '') {
      throw new UserError(`targets.hostnames.${i}: expected a non-empty string, got ${describeType(h)}`);
    }
    return h.trim();
  });
  const ids = (field: 'sites' | 'filters'): number[] =>
    arrayField(raw, field).map((v, i) => {
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) {
        throw new UserError(`targets.${field}.${i}: expected a positive integer, got ${describeType(v)}`);
      }
      return v;
    });
  return { hostnames, sites: ids('sites'), filters: ids('filters') };
}

function arrayField(raw: Record<string, unknown>, field: string): unknown[] {
  const value = raw[field];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new UserError(`targets.${field}: expected an array, got ${describeType(value)}`);
  return value;
}

interface DeviceEntry {
  device: InventoryDevice;
  routes: string[];
  filterIds: number[];
}

/**
 * Expands a target spec against an inventory snapshot into the frozen target list of one
 * occurrence (see the header for the rules). Pure: the same inputs give the same rows.
 */
export function resolveTargets(spec: TargetSpec, inventory: InventorySnapshot, options: ResolveOptions): FrozenTarget[] {
  const entries = new Map<string, DeviceEntry>();
  const others: FrozenTarget[] = [];
  const reach = (device: InventoryDevice, route: string, filterId: number | null): void => {
    let entry = entries.get(device.guid);
    if (!entry) {
      entry = { device, routes: [], filterIds: [] };
      entries.set(device.guid, entry);
    }
    if (!entry.routes.includes(route)) entry.routes.push(route);
    if (filterId !== null && !entry.filterIds.includes(filterId)) entry.filterIds.push(filterId);
  };

  // Explicit hostnames, case-insensitively (an exact-case device wins if two differ only in case).
  const seenHostnames = new Set<string>();
  for (const hostname of spec.hostnames) {
    const lower = hostname.toLowerCase();
    if (seenHostnames.has(lower)) continue;
    seenHostnames.add(lower);
    let device = inventory.byHostnameLower.get(lower);
    if (device && device.hostname !== hostname) {
      device = inventory.devices.find((d) => d.hostname === hostname) ?? device;
    }
    if (device) reach(device, 'explicit hostname', null);
    else others.push(nonDevice({ hostname, resolutionStatus: 'not_found', resolutionReason: `no device with hostname ${JSON.stringify(hostname)}` }));
  }

  // Sites.
  for (const siteId of unique(spec.sites)) {
    if (!inventory.siteIds.has(siteId)) {
      others.push(nonDevice({ siteId, resolutionStatus: 'unknown_site', resolutionReason: `site ${siteId} does not exist` }));
      continue;
    }
    for (const device of inventory.bySite.get(siteId) ?? []) reach(device, `site ${siteId}`, null);
  }

  // Saved filters.
  for (const filterId of unique(spec.filters)) {
    const filter = inventory.filters.get(filterId);
    const filterRow = (resolutionStatus: ResolutionStatus, resolutionReason: string): FrozenTarget =>
      nonDevice({ resolvedFromFilterId: filterId, resolvedFromFilterIds: [filterId], resolutionStatus, resolutionReason });
    if (!filter) {
      others.push(filterRow('unknown_filter', `filter #${filterId} does not exist`));
      continue;
    }
    const name = describeFilter(filter);
    if (filter.archived) {
      others.push(filterRow('archived_filter', `${name} is archived; it contributes no devices`));
      continue;
    }
    const compiled = compileFilter(filter);
    if (compiled.problems.length > 0) {
      others.push(filterRow('invalid_filter', `${name} has invalid criteria; it contributes no devices: ${compiled.problems.join('; ')}`));
      continue;
    }
    const candidates =
      compiled.siteScope === null
        ? inventory.devices
        : [...compiled.siteScope].sort((a, b) => a - b).flatMap((siteId) => inventory.bySite.get(siteId) ?? []);
    for (const device of candidates) {
      if (compiled.matches(device)) reach(device, name, filterId);
    }
  }

  const devices = [...entries.values()].sort(compareEntries).map(({ device, routes, filterIds }): FrozenTarget => {
    const via = routes.join(', ');
    const offline = isOffline(device.lastSeen, options.now, options.offlineAfterMs);
    const offlineText =
      device.lastSeen === null
        ? 'never seen'
        : `last seen ${new Date(device.lastSeen).toISOString()}, more than ${formatDuration(options.offlineAfterMs)} ago`;
    const siteExists = device.siteId !== null && inventory.siteIds.has(device.siteId);
    let resolutionStatus: ResolutionStatus;
    let resolutionReason: string;
    if (!siteExists) {
      resolutionStatus = 'unassigned';
      const why =
        device.siteId === null
          ? 'no site assigned; it cannot be routed to a site worker'
          : `its site ${device.siteId} no longer exists; it cannot be routed to a site worker`;
      resolutionReason = `${why}${offline ? ` (also offline: ${offlineText})` : ''}; via ${via}`;
    } else if (offline) {
      resolutionStatus = 'offline';
      resolutionReason = `${offlineText}; via ${via}`;
    } else {
      resolutionStatus = 'resolved';
      resolutionReason = via;
    }
    return {
      deviceGuid: device.guid,
      hostname: device.hostname,
      siteId: device.siteId,
      resolvedFromFilterId: filterIds[0] ?? null,
      resolvedFromFilterIds: filterIds,
      resolutionStatus,
      resolutionReason,
    };
  });
  return [...devices, ...others];
}

/** The targets an occurrence actually runs on: the `resolved` ones. */
export function deliverableTargets(targets: readonly FrozenTarget[]): FrozenTarget[] {
  return targets.filter((t) => t.resolutionStatus === 'resolved');
}

/** Resolved targets by site (each site's worker gets its list), in the order given. */
export function groupBySite(targets: readonly FrozenTarget[]): Map<number, FrozenTarget[]> {
  const out = new Map<number, FrozenTarget[]>();
  for (const target of targets) {
    if (target.resolutionStatus !== 'resolved' || target.siteId === null) continue;
    const list = out.get(target.siteId);
    if (list) list.push(target);
    else out.set(target.siteId, [target]);
  }
  return out;
}

/** `10 min`, `2 h`, `1 h 30 min`, `45 s`, `1500 ms` — for reasons. */
export function formatDuration(ms: number): string {
  if (ms > 0 && ms % 60_000 === 0) {
    const hours = Math.floor(ms / 3_600_000);
    const minutes = (ms % 3_600_000) / 60_000;
    if (hours === 0) return `${minutes} min`;
    return minutes === 0 ? `${hours} h` : `${hours} h ${minutes} min`;
  }
  if (ms > 0 && ms % 1000 === 0) return `${ms / 1000} s`;
  return `${ms} ms`;
}

function nonDevice(row: Partial<FrozenTarget> & Pick<FrozenTarget, 'resolutionStatus' | 'resolutionReason'>): FrozenTarget {
  return { deviceGuid: null, hostname: null, siteId: null, resolvedFromFilterId: null, resolvedFromFilterIds: [], ...row };
}

function compareEntries(a: DeviceEntry, b: DeviceEntry): number {
  const sa = a.device.siteId;
  const sb = b.device.siteId;
  if (sa !== sb) {
    if (sa === null) return 1;
    if (sb === null) return -1;
    return sa - sb;
  }
  return cmp(a.device.hostnameLower, b.device.hostnameLower) || cmp(a.device.hostname, b.device.hostname) || cmp(a.device.guid, b.device.guid);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function unique<T>(list: readonly T[]): T[] {
  return [...new Set(list)];
}

function describeType(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'an array';
  if (typeof x === 'object') return 'an object';
  if (typeof x === 'string') return JSON.stringify(x.length > 40 ? `${x.slice(0, 37)}...` : x);
  return `${typeof x} ${String(x)}`;
}

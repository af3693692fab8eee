/**
 * `seen` reports from inventory sync or agents: "this hostname was seen at T (with these
 * addresses)". A report updates last_seen (never backwards: a late report cannot make a device
 * look older) and the addresses it carries. Unknown hostnames are reported back and NOT created:
 * a device enters the inventory through `devices add`, the import or onboarding, so a typo or a
 * stray agent cannot add devices that jobs then target.
 *
 * Every report is checked before anything is written (one bad report: nothing written); the
 * known ones are then written in one transaction with one audit row.
 */
import { recordAudit, type Actor } from '../audit/audit-log.js';
import { lowerEq } from '../db/dialect.js';
import type { Store } from '../db/open.js';
import { ValidationError } from '../errors.js';
import { checkHostname, DEVICE_ADDRESS_FIELDS, parseInstant, show } from './device-fields.js';
import { isIP } from 'node:net';

export const SEEN_FIELDS = ['hostname', 'last_seen', ...DEVICE_ADDRESS_FIELDS] as const;

/** A report may be at most this far ahead of the clock (agents' clocks drift a little). */
export const MAX_SEEN_AHEAD_MS = 5 * 60 * 1000;

export interface SeenReport {
  hostname: string;
  /** Epoch ms; defaults to now. */
  last_seen?: number;
  internal_ip?: string;
  external_ip?: string;
}

export interface SeenResult {
  updated: Array<{ hostname: string; guid: string; last_seen: number }>;
  /** Hostnames no device has; nothing was created for them. */
  unknown: string[];
}

/** Checks raw reports (pure). `where` names each one in problems (`line 3`, `entry 2`, or the field alone). */
export function checkSeenReports(raws: Array<{ where?: string; raw: Record<string, unknown> | null }>, now: number): SeenReport[] {
  const problems: string[] = [];
  const reports: SeenReport[] = [];
  for (const { where, raw } of raws) {
    const at = (p: string) => (where ? `${where}: ${p}` : p);
    if (raw === null) {
      problems.push(at('expected an object with hostname, last_seen, internal_ip, external_ip'));
      continue;
    }
    const before = problems.length;
    for (const key of Object.keys(raw)) if (!(SEEN_FIELDS as readonly string[]).includes(key)) problems.push(at(`${key}: unknown field; expected one of ${SEEN_FIELDS.join(', ')}`));
    const hostname = typeof raw.hostname === 'string' ? raw.hostname.trim() : raw.hostname;
    problems.push(...checkHostname(hostname).map(at));
    const report: SeenReport = { hostname: hostname as string };
    if (raw.last_seen !== undefined) {
      const t = parseInstant(raw.last_seen);
      if (t === undefined || t === null) problems.push(at(`last_seen: expected epoch milliseconds or an ISO-8601 date-time with Z or an offset, got ${show(raw.last_seen)}`));
      else if (t > now + MAX_SEEN_AHEAD_MS) problems.push(at(`last_seen: ${new Date(t).toISOString()} is in the future (more than 5 minutes ahead of this clock)`));
      else report.last_seen = t;
    }
    for (const field of DEVICE_ADDRESS_FIELDS) {
      const v = raw[field];
      if (v === undefined || v === '' || v === null) continue;
      if (typeof v !== 'string' || isIP(v.trim()) === 0) problems.push(at(`${field}: ${show(v)} is not an IPv4 or IPv6 address`));
      else report[field] = v.trim();
    }
    if (problems.length === before) reports.push(report);
  }
  if (problems.length > 0) throw new ValidationError(problems);
  return reports;
}

export async function recordSeen(store: Store, reports: SeenReport[], options: { actor: Actor; now: number }): Promise<SeenResult> {
  return store.db.transaction().execute(async (trx) => {
    const result: SeenResult = { updated: [], unknown: [] };
    for (const report of reports) {
      const matches = await trx.selectFrom('devices').select(['guid', 'hostname', 'last_seen']).where((eb) => lowerEq(eb, 'hostname_lower', report.hostname)).execute();
      const device = matches.find((d) => d.hostname === report.hostname) ?? matches[0];
      if (!device) {
        if (!result.unknown.includes(report.hostname)) result.unknown.push(report.hostname);
        continue;
      }
      const reported = report.last_seen ?? options.now;
      const lastSeen = device.last_seen === null ? reported : Math.max(Number(device.last_seen), reported);
      await trx
        .updateTable('devices')
        .set({
          last_seen: lastSeen,
          ...(report.internal_ip !== undefined ? { internal_ip: report.internal_ip } : {}),
          ...(report.external_ip !== undefined ? { external_ip: report.external_ip } : {}),
        })
        .where('guid', '=', device.guid)
        .execute();
      result.updated.push({ hostname: device.hostname, guid: device.guid, last_seen: lastSeen });
    }
    if (result.updated.length > 0) {
      await recordAudit(trx, {
        actor: options.actor,
        action: 'device.seen',
        objectType: 'device',
        objectId: result.updated.length === 1 ? result.updated[0]!.guid : null,
        summary: { updated: result.updated.length, hostnames: result.updated.slice(0, 100).map((u) => u.hostname), unknown: result.unknown.slice(0, 100) },
        at: options.now,
      });
    }
    return result;
  });
}

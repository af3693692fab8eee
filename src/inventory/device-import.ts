/**
 * Bulk device import from CSV or JSON (device-file.ts reads the file). Each record is keyed by
 * hostname (case-insensitive): a new hostname is added, a known one changed in the fields the
 * record sets, or left unchanged. A record is refused, with its reasons, when a field is invalid,
 * its site does not exist, its hostname repeats an earlier record, or its guid belongs to another
 * device.
 *
 * The plan is made and applied in one transaction: a dry run reports it and writes nothing; an
 * apply writes every record or, when any record is refused, none (all or nothing), with one audit
 * row for the whole import.
 */
import type { Kysely } from 'kysely';
import { recordAudit, type Actor } from '../audit/audit-log.js';
import type { Store } from '../db/open.js';
import type { Database } from '../db/schema.js';
import { checkDeviceFields, type DeviceChanges } from './device-fields.js';
import type { DeviceRecord } from './device-file.js';
import { writeDevice } from './device-admin.js';
import type { Device } from './devices.js';
import { conflictOnDuplicate } from './unique.js';

export type ImportOutcome = 'add' | 'change' | 'unchanged' | 'refuse';

export interface ImportLine {
  where: string;
  hostname: string | null;
  outcome: ImportOutcome;
  /** What changes (`site 1 → 2`), or why the record is refused. */
  detail: string;
}

export interface ImportReport {
  dry_run: boolean;
  /** True when the import was written (never on a dry run, never when a record is refused). */
  applied: boolean;
  added: number;
  changed: number;
  unchanged: number;
  refused: number;
  lines: ImportLine[];
}

/** What the planner needs from the database (loaded in the import's transaction). */
export interface ImportContext {
  devicesByHostnameLower: Map<string, Device>;
  guidOwners: Map<string, string>;
  sitesById: Map<number, { id: number; name: string }>;
  sitesByNameLower: Map<string, { id: number; name: string }>;
  /** Current site of a hostname (exact hostname, as device_sites keys it). */
  siteOf: Map<string, number>;
}

interface Planned {
  line: ImportLine;
  existing?: Device;
  changes?: DeviceChanges;
  siteId?: number | null;
}

export async function importDevices(store: Store, records: DeviceRecord[], options: { actor: Actor; dryRun: boolean; now: number }): Promise<ImportReport> {
  const checked = records.map((r) => ({ where: r.where, ...(r.raw === null ? { changes: undefined, problems: ['expected an object of device fields'] } : checkDeviceFields(r.raw, { requireHostname: true })) }));
  return conflictOnDuplicate(store, 'hostname', () => store.db.transaction().execute(async (trx) => {
    const plan = planImport(checked, await loadContext(trx, checked.flatMap((c) => (c.changes?.hostname ? [c.changes.hostname] : [])), checked.flatMap((c) => (c.changes?.guid ? [c.changes.guid] : []))));
    const report = summarise(plan, options.dryRun);
    if (options.dryRun || report.refused > 0) return report;
    for (const p of plan) {
      if (p.line.outcome === 'add' || p.line.outcome === 'change') await writeDevice(trx, p.existing, p.changes!, p.siteId, options.now);
    }
    const hostnames = (outcome: ImportOutcome) => plan.filter((p) => p.line.outcome === outcome).map((p) => p.line.hostname);
    await recordAudit(trx, {
      actor: options.actor,
      action: 'device.import',
      objectType: 'device',
      summary: { added: report.added, changed: report.changed, unchanged: report.unchanged, added_hostnames: hostnames('add').slice(0, 100), changed_hostnames: hostnames('change').slice(0, 100) },
      at: options.now,
    });
    return { ...report, applied: true };
  }));
}

/** The plan for each record, in file order (pure). */
export function planImport(checked: Array<{ where: string; changes?: DeviceChanges | undefined; problems: string[] }>, ctx: ImportContext): Planned[] {
  const firstSeen = new Map<string, string>();
  const firstGuid = new Map<string, string>();
  return checked.map(({ where, changes, problems }): Planned => {
    const reasons = [...problems];
    const hostname = changes?.hostname ?? null;
    const refuse = (): Planned => ({ line: { where, hostname, outcome: 'refuse', detail: `refused: ${reasons.join('; ')}` } });
    if (!changes || hostname === null) return refuse();
    const lower = hostname.toLowerCase();
    const earlier = firstSeen.get(lower);
    if (earlier) reasons.push(`hostname: ${JSON.stringify(hostname)} is also on ${earlier}`);
    else firstSeen.set(lower, where);
    let siteId: number | null | undefined;
    if (changes.site === null) siteId = null;
    else if (typeof changes.site === 'number') {
      if (ctx.sitesById.has(changes.site)) siteId = changes.site;
      else reasons.push(`site_id: no site with id ${changes.site}`);
    } else if (typeof changes.site === 'string') {
      const site = ctx.sitesByNameLower.get(changes.site.toLowerCase()) ?? (/^\d+$/.test(changes.site) ? ctx.sitesById.get(Number(changes.site)) : undefined);
      if (site) siteId = site.id;
      else reasons.push(`site: no site ${JSON.stringify(changes.site)}`);
    }
    const existing = ctx.devicesByHostnameLower.get(lower);
    if (changes.guid !== undefined) {
      const earlierGuid = firstGuid.get(changes.guid);
      if (earlierGuid) reasons.push(`guid: ${changes.guid} is also on ${earlierGuid}`);
      else firstGuid.set(changes.guid, where);
      const owner = ctx.guidOwners.get(changes.guid);
      if (existing && existing.guid !== changes.guid) reasons.push(`guid: device ${JSON.stringify(existing.hostname)} has guid ${existing.guid}, not ${changes.guid}`);
      else if (!existing && owner !== undefined) reasons.push(`guid: ${changes.guid} belongs to device ${JSON.stringify(owner)}`);
    }
    if (reasons.length > 0) return refuse();
    if (!existing) {
      const site = siteId === undefined || siteId === null ? '' : ` (site ${ctx.sitesById.get(siteId)!.name})`;
      return { line: { where, hostname, outcome: 'add', detail: `add ${hostname}${site}` }, changes, siteId };
    }
    const diffs: string[] = [];
    if (hostname !== existing.hostname) diffs.push(`hostname ${JSON.stringify(existing.hostname)} → ${JSON.stringify(hostname)}`);
    for (const [field, to] of Object.entries(changes.fields)) {
      const from = existing[field as keyof Device] ?? null;
      if (from !== to) diffs.push(`${field} ${JSON.stringify(from)} → ${JSON.stringify(to)}`);
    }
    if (changes.last_seen !== undefined && (existing.last_seen === null ? null : Number(existing.last_seen)) !== changes.last_seen) {
      diffs.push(`last_seen ${existing.last_seen ?? 'null'} → ${changes.last_seen ?? 'null'}`);
    }
    if (siteId !== undefined) {
      const current = ctx.siteOf.get(existing.hostname) ?? null;
      if (current !== siteId) diffs.push(`site ${current ?? 'none'} → ${siteId ?? 'none'}`);
    }
    if (diffs.length === 0) return { line: { where, hostname, outcome: 'unchanged', detail: `unchanged ${hostname}` } };
    return { line: { where, hostname, outcome: 'change', detail: `change ${hostname}: ${diffs.join(', ')}` }, existing, changes, siteId };
  });
}

function summarise(plan: Planned[], dryRun: boolean): ImportReport {
  const count = (o: ImportOutcome) => plan.filter((p) => p.line.outcome === o).length;
  return { dry_run: dryRun, applied: false, added: count('add'), changed: count('change'), unchanged: count('unchanged'), refused: count('refuse'), lines: plan.map((p) => p.line) };
}

async function loadContext(db: Kysely<Database>, hostnames: string[], guids: string[]): Promise<ImportContext> {
  const devicesByHostnameLower = new Map<string, Device>();
  const guidOwners = new Map<string, string>();
  const siteOf = new Map<string, number>();
  const lowers = [...new Set(hostnames.map((h) => h.toLowerCase()))];
  for (let i = 0; i < lowers.length; i += 500) {
    const part = lowers.slice(i, i + 500);
    const rows = await db.selectFrom('devices').selectAll().where('hostname_lower', 'in', part).orderBy('guid').execute();
    for (const d of rows) {
      // An exact-case match wins when two devices differ only in case.
      const current = devicesByHostnameLower.get(d.hostname_lower);
      if (!current || hostnames.includes(d.hostname)) devicesByHostnameLower.set(d.hostname_lower, d);
    }
  }
  for (let i = 0; i < guids.length; i += 500) {
    for (const d of await db.selectFrom('devices').select(['guid', 'hostname']).where('guid', 'in', guids.slice(i, i + 500)).execute()) guidOwners.set(d.guid, d.hostname);
  }
  const names = [...devicesByHostnameLower.values()].map((d) => d.hostname);
  for (let i = 0; i < names.length; i += 500) {
    const rows = await db.selectFrom('device_sites').select(['device_hostname', 'site_id']).where('device_hostname', 'in', names.slice(i, i + 500)).execute();
    for (const r of rows) siteOf.set(r.device_hostname, r.site_id);
  }
  const sites = await db.selectFrom('sites').select(['id', 'name', 'name_lower']).execute();
  return {
    devicesByHostnameLower,
    guidOwners,
    sitesById: new Map(sites.map((s) => [s.id, { id: s.id, name: s.name }])),
    sitesByNameLower: new Map(sites.map((s) => [s.name_lower, { id: s.id, name: s.name }])),
    siteOf,
  };
}

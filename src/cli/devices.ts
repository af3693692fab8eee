import type { Command } from 'commander';
import { cliActor } from '../audit/audit-log.js';
import { loadConfig } from '../config.js';
import { NotFoundError, UserError, ValidationError } from '../errors.js';
import type { DeviceView } from '../inventory/device-admin.js';
import type { DeviceFileFormat } from '../inventory/device-file.js';
import { DEVICE_STATES, type DeviceState } from '../inventory/presence.js';
import { readInputFile } from './input-file.js';
import { iso, parsePositiveInt, print, printTable } from './output.js';
import { parseChoice } from './options.js';
import { withStore } from './store.js';

/** As device-file.ts reads them (not imported here: it loads the CSV parser, and every command starts through this program). */
const DEVICE_FILE_FORMATS: readonly DeviceFileFormat[] = ['csv', 'json'];

/** Options that set a device field, and the field each sets ("" clears it). */
const FIELD_OPTIONS = [
  ['--status <text>', 'status'],
  ['--operating-system <text>', 'operating_system'],
  ['--device-type <text>', 'device_type'],
  ['--agent-id <text>', 'agent_id'],
  ['--connection-type <text>', 'connection_type'],
  ['--connection-endpoint <text>', 'connection_endpoint'],
  ['--internal-ip <address>', 'internal_ip'],
  ['--external-ip <address>', 'external_ip'],
] as const;

const camel = (field: string) => field.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

function fieldsFrom(options: Record<string, unknown>): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  for (const [, field] of FIELD_OPTIONS) if (options[camel(field)] !== undefined) raw[field] = options[camel(field)];
  if (options.site !== undefined) raw.site = options.site === 'none' ? null : options.site;
  return raw;
}

/** The clock and OFFLINE_AFTER_SECONDS, as the scheduler applies them. */
function presence() {
  return { now: Date.now(), offlineAfterMs: loadConfig().OFFLINE_AFTER_SECONDS * 1000 };
}

/** Registers `jobyard devices add|update|remove|list|show|import|seen`. A <device> is a hostname or a guid. */
export function registerDevicesCommand(program: Command): Command {
  const devices = program.command('devices').description('add, update, remove, list, import devices and report them seen');

  const add = devices
    .command('add')
    .description('add a device')
    .argument('<hostname>', 'its hostname (unique, regardless of case)')
    .option('--site <site>', 'assign it to this site (id or name) (default: no site)')
    .option('--guid <guid>', 'its guid (default: a new UUID)');
  for (const [flags, field] of FIELD_OPTIONS) add.option(flags, `sets ${field} (default: unchanged; "" clears it)`);
  add.option('--json', 'print the device as JSON (default: one line)').action(async (hostname: string, options: Record<string, unknown>) => {
    const raw = { hostname, ...fieldsFrom(options), ...(options.guid !== undefined ? { guid: options.guid } : {}) };
    await withStore(async (store) => {
      const { addDevice } = await import('../inventory/device-admin.js');
      const device = await addDevice(store, raw, { actor: cliActor(), ...presence() });
      print(options.json ? JSON.stringify(device) : `device ${device.hostname} added (guid ${device.guid}${device.site_name ? `, site ${device.site_name}` : ''})`);
    });
  });

  const update = devices
    .command('update')
    .description('change a device\'s fields ("" clears a field)')
    .argument('<device>', 'hostname or guid')
    .option('--hostname <hostname>', 'rename it (its site assignment follows) (default: unchanged)')
    .option('--site <site>', 'move it to this site (id or name), or "none" to unassign it (default: unchanged)');
  for (const [flags, field] of FIELD_OPTIONS) update.option(flags, `sets ${field} (default: unchanged; "" clears it)`);
  update.option('--json', 'print the device as JSON (default: one line)').action(async (ref: string, options: Record<string, unknown>) => {
    const raw = { ...fieldsFrom(options), ...(options.hostname !== undefined ? { hostname: options.hostname } : {}) };
    if (Object.keys(raw).length === 0) throw new ValidationError([`devices update: nothing to change; give at least one of --hostname, --site, ${FIELD_OPTIONS.map(([f]) => f.split(' ')[0]).join(', ')}`]);
    await withStore(async (store) => {
      const { updateDevice } = await import('../inventory/device-admin.js');
      const device = await updateDevice(store, ref, raw, { actor: cliActor(), ...presence() });
      print(options.json ? JSON.stringify(device) : `device ${device.hostname} updated`);
    });
  });

  devices
    .command('remove')
    .description('remove a device and its site assignment')
    .argument('<device>', 'hostname or guid')
    .option('--json', 'print the removed device as JSON (default: one line)')
    .action(async (ref: string, options: { json?: boolean }) => {
      await withStore(async (store) => {
        const { removeDevice } = await import('../inventory/device-admin.js');
        const removed = await removeDevice(store, ref, { actor: cliActor() });
        print(options.json ? JSON.stringify(removed) : `device ${removed.hostname} removed`);
      });
    });

  devices
    .command('list')
    .description('list or search devices, by hostname')
    .option('--hostname <text>', 'hostname contains this text (case-insensitive) (default: any hostname)')
    .option('--site <site>', 'only devices of this site (id or name), or "none" for unassigned ones (default: every site)')
    .option('--state <state>', `only ${DEVICE_STATES.join(' or ')} devices (as the scheduler judges them: OFFLINE_AFTER_SECONDS) (default: both)`)
    .option('--limit <n>', 'at most this many devices (1–1000)', '50')
    .option('--cursor <cursor>', 'the next page (the cursor a previous page printed) (default: the first page)')
    .option('--json', 'print { items, next_cursor } as JSON (default: a table)')
    .action(async (options: { hostname?: string; site?: string; state?: string; limit: string; cursor?: string; json?: boolean }) => {
      const state = options.state === undefined ? undefined : parseChoice<DeviceState>(options.state, 'devices list: --state', DEVICE_STATES);
      const limit = parsePositiveInt(options.limit, 'devices list: --limit', 1000);
      await withStore(async (store) => {
        const { listDevicePage } = await import('../inventory/device-admin.js');
        const query = {
          limit,
          ...(options.hostname !== undefined ? { hostname: options.hostname } : {}),
          ...(options.site !== undefined ? { site: options.site === 'none' ? null : options.site } : {}),
          ...(state !== undefined ? { state } : {}),
          ...(options.cursor !== undefined ? { cursor: options.cursor } : {}),
        };
        const page = await listDevicePage(store, query, presence());
        if (options.json) return print(JSON.stringify(page));
        if (page.items.length === 0) return print('no devices');
        printTable(
          ['hostname', 'site', 'state', 'last seen', 'internal ip', 'external ip', 'os', 'guid'],
          page.items.map((d) => [d.hostname, siteText(d), d.state, iso(d.last_seen), d.internal_ip, d.external_ip, d.operating_system, d.guid]),
        );
        if (page.next_cursor) print(`more: --cursor ${page.next_cursor}`);
      });
    });

  devices
    .command('show')
    .description('show one device and the SSH host keys pinned for it')
    .argument('<device>', 'hostname or guid')
    .option('--json', 'print JSON (default: a table)')
    .action(async (ref: string, options: { json?: boolean }) => {
      await withStore(async (store) => {
        const { getDeviceDetail } = await import('../operator/device-detail.js');
        const { ssh_host_keys: pins, ...d } = await getDeviceDetail(store, ref, presence());
        if (options.json) return print(JSON.stringify({ ...d, ssh_host_keys: pins }));
        printTable(
          ['field', 'value'],
          Object.entries(d).map(([k, v]) => [k, k === 'last_seen' || k === 'created_at' ? iso(v as number | null) : k === 'site_name' ? siteText(d) : (v ?? '-')]),
        );
        print('');
        if (pins.length === 0) return print('SSH host keys: none pinned yet (the first SSH contact pins one)');
        print('SSH host keys:');
        printTable(
          ['key type', 'fingerprint', 'first seen at', 'pinned', 'last seen'],
          pins.map((p) => [p.key_type, p.fingerprint, p.address, iso(p.pinned_at), iso(p.last_seen_at)]),
        );
      });
    });

  devices
    .command('import')
    .description('add and change devices from a CSV or JSON file, all or nothing (keyed by hostname)')
    .argument('<file>', 'a .csv (header row: hostname, site, …) or .json (array of objects) file; - for stdin')
    .option('--format <format>', `${DEVICE_FILE_FORMATS.join(' or ')} (default: from the file name)`)
    .option('--dry-run', 'print what would be added, changed or refused, and write nothing (default: apply)')
    .option('--json', 'print the report as JSON (default: one line per record)')
    .action(async (file: string, options: { format?: string; dryRun?: boolean; json?: boolean }) => {
      const format = fileFormat(file, options.format, 'devices import');
      const text = await readInputFile(file, 'devices import');
      const { parseDeviceFile } = await import('../inventory/device-file.js');
      const records = parseDeviceFile(text, format);
      await withStore(async (store) => {
        const { importDevices } = await import('../inventory/device-import.js');
        const report = await importDevices(store, records, { actor: cliActor(), dryRun: options.dryRun === true, now: Date.now() });
        if (options.json) print(JSON.stringify(report));
        else {
          for (const l of report.lines) print(`${l.where}: ${l.detail}`);
          const counts = `${report.added} to add, ${report.changed} to change, ${report.unchanged} unchanged, ${report.refused} refused`;
          if (report.dry_run) print(`dry run: ${counts}; nothing written`);
          else if (report.applied) print(`imported: ${report.added} added, ${report.changed} changed, ${report.unchanged} unchanged`);
        }
        if (report.refused > 0) {
          throw new ValidationError([`devices import: ${report.refused} of ${report.lines.length} records refused${report.dry_run ? '' : '; nothing was imported'} (see the report above)`]);
        }
      });
    });

  devices
    .command('seen')
    .description('report devices seen now (or --at): updates last_seen and addresses; unknown hostnames are reported, not created')
    .argument('[hostname]', 'one device (or use --file for many)')
    .option('--at <time>', 'when it was seen: epoch ms or ISO-8601 with Z or an offset (default: now)')
    .option('--internal-ip <address>', 'its internal address now (default: unchanged)')
    .option('--external-ip <address>', 'its external address now (default: unchanged)')
    .option('--file <file>', 'many reports: CSV (hostname, last_seen, internal_ip, external_ip) or a JSON array; - for stdin (default: the one hostname given)')
    .option('--format <format>', `${DEVICE_FILE_FORMATS.join(' or ')} (default: from the file name)`)
    .option('--json', 'print { updated, unknown } as JSON (default: one line per device)')
    .action(async (hostname: string | undefined, options: { at?: string; internalIp?: string; externalIp?: string; file?: string; format?: string; json?: boolean }) => {
      const { checkSeenReports, recordSeen } = await import('../inventory/device-seen.js');
      let raws: Array<{ where?: string; raw: Record<string, unknown> | null }>;
      if (options.file !== undefined) {
        if (hostname !== undefined || options.at !== undefined || options.internalIp !== undefined || options.externalIp !== undefined) {
          throw new ValidationError(['devices seen: give either a hostname (with --at, --internal-ip, --external-ip) or --file, not both']);
        }
        const { parseDeviceFile } = await import('../inventory/device-file.js');
        raws = parseDeviceFile(await readInputFile(options.file, 'devices seen'), fileFormat(options.file, options.format, 'devices seen'), 'file');
      } else {
        if (hostname === undefined) throw new ValidationError(['hostname: required; name the device seen, or give --file']);
        const raw: Record<string, unknown> = { hostname };
        if (options.at !== undefined) raw.last_seen = options.at;
        if (options.internalIp !== undefined) raw.internal_ip = options.internalIp;
        if (options.externalIp !== undefined) raw.external_ip = options.externalIp;
        raws = [{ raw }];
      }
      const reports = checkSeenReports(raws, Date.now());
      await withStore(async (store) => {
        const result = await recordSeen(store, reports, { actor: cliActor(), now: Date.now() });
        if (options.file === undefined && result.unknown.length > 0) {
          throw new NotFoundError(`hostname: no device named ${JSON.stringify(result.unknown[0])}; seen reports do not create devices (add it with jobyard devices add)`);
        }
        if (options.json) return print(JSON.stringify(result));
        for (const u of result.updated) print(`${u.hostname}: last seen ${iso(u.last_seen)}`);
        for (const h of result.unknown) print(`${h}: unknown hostname, not created`);
      });
    });
  return devices;
}

function siteText(d: DeviceView): string {
  return d.site_id === null ? 'none' : `${d.site_name} (${d.site_id})`;
}

function fileFormat(file: string, format: string | undefined, command: string): DeviceFileFormat {
  if (format !== undefined) return parseChoice(format, `${command}: --format`, DEVICE_FILE_FORMATS);
  const fromName = /\.(csv|json)$/i.exec(file)?.[1]?.toLowerCase() as DeviceFileFormat | undefined;
  if (!fromName) throw new UserError(`${command}: --format: required when the file name does not end in .csv or .json; expected one of ${DEVICE_FILE_FORMATS.join(', ')}`);
  return fromName;
}

/**
 * /api/devices: list and search, add, show, update, remove, bulk import (dry run or all-or-nothing
 * apply) and `seen` reports — over the same functions as `jobyard devices` (src/inventory).
 * Online/offline is the scheduler's rule with the server's OFFLINE_AFTER_SECONDS. GET: viewer;
 * writes: operator (inventory sync and agents report `seen` with an operator token).
 */
import { z } from '@hono/zod-openapi';
import { ValidationError } from '../../errors.js';
import { addDevice, listDevicePage, removeDevice, updateDevice } from '../../inventory/device-admin.js';
import { parseDeviceFile } from '../../inventory/device-file.js';
import { importDevices } from '../../inventory/device-import.js';
import { checkSeenReports, recordSeen } from '../../inventory/device-seen.js';
import { DEVICE_STATES } from '../../inventory/presence.js';
import { getDeviceDetail } from '../../operator/device-detail.js';
import { actorOf, type ApiApp, type ApiContext } from '../context.js';
import { pageQuery, querySchema, stringQuery } from '../params.js';
import { apiJson, BODY_ERRORS, CONFLICT, defineRoute, jsonResponse, JsonObject, NOT_FOUND } from '../route.js';

const tags = ['devices'];
const params = z.object({ device: z.string().min(1).max(300).openapi({ description: 'hostname (case-insensitive) or guid' }) });
const json = <S extends z.ZodType>(schema: S) => ({ required: true, content: { 'application/json': { schema } } });
const text = z.string().nullable().optional();

/** The device fields (device-fields.ts checks their values; null or "" clears a field). */
const deviceFields = {
  site: z.union([z.string(), z.number().int()]).nullable().optional().openapi({ description: 'a site name or id; null unassigns' }),
  site_id: z.number().int().nullable().optional(),
  status: text,
  operating_system: text,
  device_type: text,
  agent_id: text,
  connection_type: text,
  connection_endpoint: text,
  internal_ip: text.openapi({ description: 'an IPv4 or IPv6 address' }),
  external_ip: text.openapi({ description: 'an IPv4 or IPv6 address' }),
  last_seen: z.union([z.number().int(), z.string()]).nullable().optional().openapi({ description: 'epoch ms or ISO-8601 with Z or an offset' }),
};
const NewDevice = z.strictObject({ hostname: z.string(), guid: z.string().optional(), ...deviceFields });
const DeviceChange = z.strictObject({ hostname: z.string().optional(), ...deviceFields });
const SeenReport = z.strictObject({ hostname: z.string(), last_seen: z.union([z.number().int(), z.string()]).optional(), internal_ip: z.string().optional(), external_ip: z.string().optional() });

const list = defineRoute('viewer', {
  method: 'get',
  path: '/api/devices',
  tags,
  summary: 'Devices by hostname, searched by hostname substring, site and online/offline',
  request: {
    query: querySchema({
      hostname: stringQuery('hostname contains this text (case-insensitive)'),
      site: stringQuery('a site id or name, or "none" for unassigned devices'),
      state: z.enum(DEVICE_STATES).optional().openapi({ description: 'online or offline, as the scheduler judges it' }),
      ...pageQuery,
    }),
  },
  responses: { 200: jsonResponse('a page of devices', z.object({ items: z.array(JsonObject), next_cursor: z.string().nullable() })), ...NOT_FOUND },
});

const create = defineRoute('operator', {
  method: 'post',
  path: '/api/devices',
  tags,
  summary: 'Add a device',
  request: { body: json(NewDevice) },
  responses: { 201: jsonResponse('the device', JsonObject), ...NOT_FOUND, ...CONFLICT, ...BODY_ERRORS },
});

const show = defineRoute('viewer', {
  method: 'get',
  path: '/api/devices/{device}',
  tags,
  summary: 'One device, with the SSH host keys pinned for it (ssh_host_keys)',
  request: { params },
  responses: { 200: jsonResponse('the device', JsonObject), ...NOT_FOUND },
});

const update = defineRoute('operator', {
  method: 'patch',
  path: '/api/devices/{device}',
  tags,
  summary: 'Change a device\'s fields (a renamed device keeps its site)',
  request: { params, body: json(DeviceChange) },
  responses: { 200: jsonResponse('the device', JsonObject), ...NOT_FOUND, ...CONFLICT, ...BODY_ERRORS },
});

const remove = defineRoute('operator', {
  method: 'delete',
  path: '/api/devices/{device}',
  tags,
  summary: 'Remove a device and its site assignment',
  request: { params },
  responses: { 200: jsonResponse('the removed device', JsonObject), ...NOT_FOUND },
});

const importRoute = defineRoute('operator', {
  method: 'post',
  path: '/api/devices/import',
  tags,
  summary: 'Import devices (keyed by hostname) from a JSON array or CSV text; a dry run reports, an apply writes all or nothing',
  request: {
    body: json(
      z.strictObject({
        devices: z.array(JsonObject).optional().openapi({ description: 'device objects (fields as for POST /api/devices)' }),
        csv: z.string().optional().openapi({ description: 'CSV text with a header row, instead of devices' }),
        dry_run: z.boolean().optional(),
      }),
    ),
  },
  responses: { 200: jsonResponse('the report: added, changed, unchanged, refused, line by line', JsonObject), ...BODY_ERRORS },
});

const seen = defineRoute('operator', {
  method: 'post',
  path: '/api/devices/seen',
  tags,
  summary: 'Report devices seen (last_seen never goes backwards); unknown hostnames are reported back, not created',
  request: { body: json(z.union([SeenReport, z.strictObject({ devices: z.array(JsonObject) })])) },
  responses: { 200: jsonResponse('{ updated, unknown }', JsonObject), ...BODY_ERRORS },
});

const clock = (c: ApiContext) => ({ now: c.get('clock')(), offlineAfterMs: c.get('offlineAfterMs') });

export function registerDeviceRoutes(app: ApiApp): void {
  app.openapi(list, async (c) => {
    const q = c.req.valid('query');
    const query = {
      limit: q.limit,
      ...(q.hostname !== undefined ? { hostname: q.hostname } : {}),
      ...(q.site !== undefined ? { site: q.site === 'none' ? null : q.site } : {}),
      ...(q.state !== undefined ? { state: q.state } : {}),
      ...(q.cursor !== undefined ? { cursor: q.cursor } : {}),
    };
    return c.json(apiJson(await listDevicePage(c.get('store'), query, clock(c))), 200);
  });
  app.openapi(create, async (c) => c.json(apiJson(await addDevice(c.get('store'), c.req.valid('json'), { actor: actorOf(c), ...clock(c) })), 201));
  app.openapi(show, async (c) => c.json(apiJson(await getDeviceDetail(c.get('store'), c.req.valid('param').device, clock(c))), 200));
  app.openapi(update, async (c) => {
    const body = c.req.valid('json');
    if (Object.keys(body).length === 0) throw new ValidationError(['body: nothing to change; give at least one field']);
    return c.json(apiJson(await updateDevice(c.get('store'), c.req.valid('param').device, body, { actor: actorOf(c), ...clock(c) })), 200);
  });
  app.openapi(remove, async (c) => c.json(apiJson(await removeDevice(c.get('store'), c.req.valid('param').device, { actor: actorOf(c), now: c.get('clock')() })), 200));
  app.openapi(importRoute, async (c) => {
    const body = c.req.valid('json');
    if ((body.devices === undefined) === (body.csv === undefined)) throw new ValidationError(['body: give either devices (an array) or csv (text)']);
    const records = body.csv !== undefined ? parseDeviceFile(body.csv, 'csv', 'csv') : parseDeviceFile(JSON.stringify(body.devices), 'json', 'devices');
    const report = await importDevices(c.get('store'), records, { actor: actorOf(c), dryRun: body.dry_run === true, now: c.get('clock')() });
    if (!report.dry_run && report.refused > 0) {
      throw new ValidationError(report.lines.filter((l) => l.outcome === 'refuse').map((l) => `${l.where}: ${l.detail}`));
    }
    return c.json(apiJson(report), 200);
  });
  app.openapi(seen, async (c) => {
    const body = c.req.valid('json') as Record<string, unknown>;
    const now = c.get('clock')();
    const raws = Array.isArray(body.devices) ? parseDeviceFile(JSON.stringify(body.devices), 'json', 'devices') : [{ raw: body }];
    const result = await recordSeen(c.get('store'), checkSeenReports(raws, now), { actor: actorOf(c), now });
    return c.json(apiJson(result), 200);
  });
}

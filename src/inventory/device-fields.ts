/**
 * What an operator may set on a device, and the checks (pure). `devices add|update`, the CSV/JSON
 * import and the API all pass raw values through `checkDeviceFields`, so one device is accepted
 * or refused the same way everywhere; each problem names its field and what it accepts.
 *
 * A key that is absent leaves the field unchanged; null or "" clears a nullable field (the CSV
 * reader drops empty cells before this, so an empty cell leaves the field unchanged).
 */
import { isIP } from 'node:net';

/** Free-text columns (nullable). */
export const DEVICE_TEXT_FIELDS = ['status', 'operating_system', 'device_type', 'agent_id', 'connection_type', 'connection_endpoint'] as const;
/** Address columns: an IPv4 or IPv6 address (nullable). */
export const DEVICE_ADDRESS_FIELDS = ['internal_ip', 'external_ip'] as const;
/** Every key a device input may hold. `site` is a site name or id, `site_id` a site id; null/"" unassigns. */
export const DEVICE_INPUT_FIELDS = ['hostname', 'guid', 'site', 'site_id', ...DEVICE_TEXT_FIELDS, ...DEVICE_ADDRESS_FIELDS, 'last_seen'] as const;

export type DeviceTextField = (typeof DEVICE_TEXT_FIELDS)[number] | (typeof DEVICE_ADDRESS_FIELDS)[number];

/** Checked values; a key is present only when the input set it. */
export interface DeviceChanges {
  hostname?: string;
  guid?: string;
  /** A site id, a site name to look up, or null to unassign. */
  site?: number | string | null;
  last_seen?: number | null;
  fields: Partial<Record<DeviceTextField, string | null>>;
}

const HOSTNAME = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;
const MAX_HOSTNAME = 253;
const MAX_TEXT = 500;

export function checkHostname(value: unknown, field = 'hostname'): string[] {
  if (typeof value !== 'string' || value === '') return [`${field}: required; a hostname (letters, digits, ".", "-", "_")`];
  if (value.length > MAX_HOSTNAME) return [`${field}: at most ${MAX_HOSTNAME} characters, got ${value.length}`];
  if (!HOSTNAME.test(value)) return [`${field}: ${show(value)} is not a hostname; use letters, digits, ".", "-" and "_"`];
  return [];
}

/** Checks raw input; `requireHostname` for a new device. Unknown keys are problems (usually typos). */
export function checkDeviceFields(raw: Record<string, unknown>, options: { requireHostname: boolean }): { changes: DeviceChanges; problems: string[] } {
  const problems: string[] = [];
  const changes: DeviceChanges = { fields: {} };
  for (const key of Object.keys(raw)) {
    if (!(DEVICE_INPUT_FIELDS as readonly string[]).includes(key)) problems.push(`${key}: unknown field; expected one of ${DEVICE_INPUT_FIELDS.join(', ')}`);
  }
  if (raw.hostname !== undefined || options.requireHostname) {
    const found = checkHostname(typeof raw.hostname === 'string' ? raw.hostname.trim() : raw.hostname);
    if (found.length > 0) problems.push(...found);
    else changes.hostname = (raw.hostname as string).trim();
  }
  if (raw.guid !== undefined && raw.guid !== null && raw.guid !== '') {
    const guid = raw.guid;
    if (typeof guid !== 'string' || !/^[\x21-\x7e]{1,100}$/.test(guid)) problems.push('guid: expected 1 to 100 printable characters without spaces');
    else changes.guid = guid;
  }
  if (raw.site !== undefined && raw.site_id !== undefined && raw.site !== raw.site_id) {
    problems.push('site: give site or site_id, not both');
  } else if (raw.site_id !== undefined) {
    const v = raw.site_id;
    if (v === null || v === '') changes.site = null;
    else if (typeof v === 'number' && Number.isSafeInteger(v) && v > 0) changes.site = v;
    else if (typeof v === 'string' && /^\d+$/.test(v.trim()) && Number(v) > 0) changes.site = Number(v);
    else problems.push(`site_id: expected a positive integer (a site id), got ${show(v)}`);
  } else if (raw.site !== undefined) {
    const v = raw.site;
    if (v === null || v === '') changes.site = null;
    else if (typeof v === 'number' && Number.isSafeInteger(v) && v > 0) changes.site = v;
    else if (typeof v === 'string' && v.trim() !== '') changes.site = v.trim();
    else problems.push(`site: expected a site name or id, got ${show(v)}`);
  }
  for (const field of [...DEVICE_TEXT_FIELDS, ...DEVICE_ADDRESS_FIELDS]) {
    const v = raw[field];
    if (v === undefined) continue;
    if (v === null || v === '') {
      changes.fields[field] = null;
      continue;
    }
    if (typeof v !== 'string') {
      problems.push(`${field}: expected a string, got ${show(v)}`);
      continue;
    }
    const text = v.trim();
    // eslint-disable-next-line no-control-regex
    if (text.length > MAX_TEXT || /[\u0000-\u001f\u007f]/.test(text)) {
      problems.push(`${field}: expected at most ${MAX_TEXT} characters without control characters`);
    } else if ((DEVICE_ADDRESS_FIELDS as readonly string[]).includes(field) && text !== '' && isIP(text) === 0) {
      problems.push(`${field}: ${show(text)} is not an IPv4 or IPv6 address`);
    } else {
      changes.fields[field] = text === '' ? null : text;
    }
  }
  if (raw.last_seen !== undefined) {
    const parsed = parseInstant(raw.last_seen);
    if (parsed === undefined) problems.push(`last_seen: expected epoch milliseconds or an ISO-8601 date-time with Z or an offset, got ${show(raw.last_seen)}`);
    else changes.last_seen = parsed;
  }
  return { changes, problems };
}

/**
 * A point in time: epoch milliseconds (a number or digits) or ISO-8601 with Z or an offset;
 * null or "" is null; anything else undefined.
 */
export function parseInstant(value: unknown): number | null | undefined {
  if (value === null || value === '') return null;
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const t = value.trim();
  if (/^\d+$/.test(t)) return Number.isSafeInteger(Number(t)) ? Number(t) : undefined;
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/.test(t)) return undefined;
  const ms = Date.parse(t);
  return Number.isFinite(ms) ? ms : undefined;
}

export function show(x: unknown): string {
  const text = typeof x === 'string' ? JSON.stringify(x) : x === undefined ? 'nothing' : JSON.stringify(x) ?? String(x);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

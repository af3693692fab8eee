/**
 * Where a device is reached over SSH: `devices.connection_endpoint` when set (`host`,
 * `host:port`, `[v6]:port` or `ssh://[user@]host[:port]`), else `internal_ip`, else
 * `external_ip`, else its hostname (left to DNS); port 22 unless the endpoint names one.
 */
import type { Store } from '../../db/open.js';

export const DEFAULT_SSH_PORT = 22;

export interface DeviceAddressColumns {
  hostname: string | null;
  connection_endpoint: string | null;
  internal_ip: string | null;
  external_ip: string | null;
}

/** host and port from a device's columns, or the reason there is none. Pure. */
export function deviceEndpoint(d: DeviceAddressColumns): { host: string; port: number } | { error: string } {
  const endpoint = d.connection_endpoint?.trim();
  if (endpoint) {
    const parsed = parseEndpoint(endpoint);
    if (parsed) return parsed;
    return { error: `connection_endpoint ${JSON.stringify(endpoint)} is not host, host:port, [v6]:port or ssh://host[:port]` };
  }
  for (const candidate of [d.internal_ip, d.external_ip, d.hostname]) {
    const host = candidate?.trim();
    if (host) return { host, port: DEFAULT_SSH_PORT };
  }
  return { error: 'the device has no connection_endpoint, address or hostname' };
}

/** Pure. */
export function parseEndpoint(text: string): { host: string; port: number } | undefined {
  let rest = text;
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(rest);
  if (scheme) {
    if (scheme[1]!.toLowerCase() !== 'ssh') return undefined;
    rest = rest.slice(scheme[0].length).replace(/\/.*$/, '');
    rest = rest.replace(/^[^@]*@/, '');
  }
  const v6 = /^\[([0-9a-f:.]+)\](?::(\d+))?$/i.exec(rest);
  if (v6) return withPort(v6[1]!, v6[2]);
  if ((rest.match(/:/g) ?? []).length > 1) return /^[0-9a-f:.]+$/i.test(rest) ? { host: rest, port: DEFAULT_SSH_PORT } : undefined;
  const m = /^([A-Za-z0-9._-]+)(?::(\d+))?$/.exec(rest);
  return m ? withPort(m[1]!, m[2]) : undefined;
}

function withPort(host: string, port: string | undefined): { host: string; port: number } | undefined {
  if (port === undefined) return { host, port: DEFAULT_SSH_PORT };
  const n = Number(port);
  return Number.isInteger(n) && n > 0 && n < 65536 ? { host, port: n } : undefined;
}

/** The address columns of the given devices, by guid (a short read). */
export async function deviceAddresses(store: Store, guids: readonly string[]): Promise<Map<string, DeviceAddressColumns>> {
  if (guids.length === 0) return new Map();
  const rows = await store.db
    .selectFrom('devices')
    .select(['guid', 'hostname', 'connection_endpoint', 'internal_ip', 'external_ip'])
    .where('guid', 'in', [...guids])
    .execute();
  return new Map(rows.map((r) => [r.guid, r]));
}

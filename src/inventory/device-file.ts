/**
 * Reads a device list from CSV or JSON text (pure), for the bulk import and the bulk `seen`
 * report. Each record keeps where it came from — `line N` of a CSV file (the line its record
 * ends on), `entry N` of a JSON array — so every outcome can be reported against it.
 *
 * CSV: a header row naming the fields, one device per line; cells are trimmed and an empty cell
 * is dropped (it leaves the field unchanged). JSON: an array of objects, or `{ "devices": [...] }`.
 * Problems with the file itself never quote its content, only positions.
 */
import { CsvError, parse } from 'csv-parse/sync';
import { ValidationError } from '../errors.js';

export const DEVICE_FILE_FORMATS = ['csv', 'json'] as const;
export type DeviceFileFormat = (typeof DEVICE_FILE_FORMATS)[number];

/** At most this many records in one file (a larger inventory is imported in parts). */
export const MAX_DEVICE_RECORDS = 10_000;

export interface DeviceRecord {
  /** `line 7` or `entry 3`. */
  where: string;
  /** The record's fields; null when a JSON entry is not an object. */
  raw: Record<string, unknown> | null;
}

/** `inventory.csv` → csv, `x.json` → json; otherwise undefined. */
export function formatFromName(name: string): DeviceFileFormat | undefined {
  const m = /\.(csv|json)$/i.exec(name);
  return m ? (m[1]!.toLowerCase() as DeviceFileFormat) : undefined;
}

export function parseDeviceFile(text: string, format: DeviceFileFormat, field = 'file'): DeviceRecord[] {
  const records = format === 'csv' ? parseCsv(text, field) : parseJson(text, field);
  if (records.length === 0) throw new ValidationError([`${field}: holds no devices`]);
  if (records.length > MAX_DEVICE_RECORDS) throw new ValidationError([`${field}: ${records.length} devices; at most ${MAX_DEVICE_RECORDS} per file`]);
  return records;
}

function parseCsv(text: string, field: string): DeviceRecord[] {
  let rows: Array<{ record: Record<string, string>; info: { lines: number } }>;
  try {
    rows = parse(text, {
      columns: (header: string[]) => header.map((h) => h.trim()),
      bom: true,
      trim: true,
      skip_empty_lines: true,
      info: true,
    }) as unknown as typeof rows;
  } catch (err) {
    if (err instanceof CsvError) {
      const line = (err as CsvError & { lines?: number }).lines;
      throw new ValidationError([`${field}: not valid CSV${line ? ` at line ${line}` : ''} (${err.code})`]);
    }
    throw err;
  }
  return rows.map(({ record, info }) => ({
    where: `line ${info.lines}`,
    raw: Object.fromEntries(Object.entries(record).filter(([, v]) => v !== '')),
  }));
}

function parseJson(text: string, field: string): DeviceRecord[] {
  let value: unknown;
  try {
    value = JSON.parse(text.replace(/^\uFEFF/, '')) as unknown;
  } catch (err) {
    const at = /at position (\d+)/.exec(String(err));
    const line = at ? text.slice(0, Number(at[1])).split('\n').length : undefined;
    throw new ValidationError([`${field}: not valid JSON${line ? ` (error at line ${line})` : ''}`]);
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && 'devices' in value) value = (value as { devices: unknown }).devices;
  if (!Array.isArray(value)) throw new ValidationError([`${field}: expected a JSON array of device objects (or { "devices": [...] })`]);
  return value.map((entry: unknown, i) => {
    const where = `entry ${i + 1}`;
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) return { where, raw: null };
    return { where, raw: entry as Record<string, unknown> };
  });
}

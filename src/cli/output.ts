/** Output helpers shared by the CLI commands: tables for people, one-line errors for bad ids. */
import { UserError } from '../errors.js';

export function printTable(headers: string[], rows: Array<Array<string | number | boolean | null | undefined>>): void {
  const cells = rows.map((row) => row.map((c) => (c == null ? '' : String(c).replace(/\s+/g, ' ').trim())));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((row) => row[i]?.length ?? 0)));
  for (const row of [headers, ...cells]) {
    print(row.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd());
  }
}

/** Epoch milliseconds as ISO-8601, or "-". */
export function iso(ts: number | null | undefined): string {
  return ts == null ? '-' : new Date(ts).toISOString();
}

/** A job id from the command line (a positive integer); UserError otherwise. */
export function parseId(text: string, what: string): number {
  return parsePositiveInt(text, what, 2_147_483_647);
}

export function parsePositiveInt(text: string, what: string, max: number): number {
  const n = /^\d+$/.test(text.trim()) ? Number(text.trim()) : NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > max) {
    throw new UserError(`${what}: expected a positive integer up to ${max}, got ${JSON.stringify(text)}`);
  }
  return n;
}

export function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

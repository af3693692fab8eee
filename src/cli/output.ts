/** Output helpers shared by the CLI commands: tables for people, one-line errors for bad ids. */
import { UserError } from '../errors.js';

/**
 * Control characters (C0 but tab and newline, DEL, C1) and bidirectional overrides. Written raw,
 * a job name or an error text could move the cursor, recolour or retitle the operator's terminal.
 */
const UNSAFE_FOR_TERMINAL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** Shows each unsafe character as a `\uXXXX` escape (also a valid escape inside JSON strings). */
export function escapeControl(text: string): string {
  return text.replace(UNSAFE_FOR_TERMINAL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function printTable(headers: string[], rows: Array<Array<string | number | boolean | null | undefined>>): void {
  const cells = rows.map((row) => row.map((c) => (c == null ? '' : escapeControl(String(c).replace(/\s+/g, ' ').trim()))));
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

/** One line on stdout, with control characters escaped (see escapeControl). */
export function print(line: string): void {
  process.stdout.write(`${escapeControl(line)}\n`);
}

/**
 * A reader that goes away (`jobyard jobs list | head -1`) ends the command quietly with exit 0,
 * as a SIGPIPE would, instead of an EPIPE stack trace; any other stdout failure is one line.
 */
export function endQuietlyWhenStdoutCloses(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
    process.stderr.write(`jobyard: cannot write to stdout: ${err.code ?? err.message}\n`);
    process.exit(1);
  });
}

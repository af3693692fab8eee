/**
 * Parsers for command-line option values shared by the admin commands (status, items, workers,
 * enqueue). Each throws a one-line UserError (exit 2) that names the option and, for a closed
 * set, every accepted value. Light on imports: command modules load this at startup.
 */
import { describeError, UserError } from '../errors.js';
import { parseId } from './output.js';

/** Collapses whitespace (newlines included) so a message stays on one line. */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** A value from a closed set; otherwise `what: unknown value "x"; expected one of a, b, c`. */
export function parseChoice<T extends string>(text: string, what: string, accepted: readonly T[]): T {
  if ((accepted as readonly string[]).includes(text)) return text as T;
  throw new UserError(`${what}: unknown value ${JSON.stringify(text)}; expected one of ${accepted.join(', ')}`);
}

/** A safe integer, sign allowed (priorities may be negative). */
export function parseInteger(text: string, what: string): number {
  const t = text.trim();
  const n = /^[-+]?\d+$/.test(t) ? Number(t) : NaN;
  if (!Number.isSafeInteger(n)) throw new UserError(`${what}: expected an integer, got ${JSON.stringify(text)}`);
  return n;
}

/** An integer in [min, max] (e.g. an `integer` column's range); otherwise one line naming both. */
export function parseIntegerInRange(text: string, what: string, min: number, max: number): number {
  const t = text.trim();
  const n = /^[-+]?\d+$/.test(t) ? Number(t) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new UserError(`${what}: expected an integer from ${min} to ${max}, got ${JSON.stringify(text)}`);
  return n;
}

/** The path (`a.b[2]`) of the first key or string holding NUL, which PostgreSQL cannot store; or null. */
export function findNul(value: unknown, path = ''): string | null {
  if (typeof value === 'string') return value.includes('\u0000') ? path || '(the value)' : null;
  if (value === null || typeof value !== 'object') return null;
  for (const [key, child] of Object.entries(value)) {
    const at = Array.isArray(value) ? `${path}[${key}]` : path ? `${path}.${key}` : key;
    if (key.includes('\u0000')) return at.replace(/\u0000/g, '\\u0000');
    const found = findNul(child, at);
    if (found !== null) return found;
  }
  return null;
}

/** A site id, or `none` (null) for site-less items. */
export function parseSite(text: string, what: string): number | null {
  return text.trim() === 'none' ? null : parseId(text, `${what} (a site id or "none")`);
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:\d{2}))?$/;

/**
 * A point in time as epoch milliseconds: digits are epoch ms; otherwise ISO-8601, either a date
 * (`2026-12-01`, midnight UTC) or a date-time with `Z` or an offset (a time without a zone would
 * depend on the machine's zone, so it is refused).
 */
export function parseTimestamp(text: string, what: string): number {
  const t = text.trim();
  if (/^\d+$/.test(t)) {
    const n = Number(t);
    if (Number.isSafeInteger(n) && n <= 8.64e15) return n;
  } else {
    const m = ISO.exec(t);
    if (m) {
      const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
      const day = new Date(Date.UTC(y, mo - 1, d));
      const ms = Date.parse(t);
      // Date.parse rolls 2026-02-30 over to March; a calendar date must exist as written.
      if (day.getUTCFullYear() === y && day.getUTCMonth() === mo - 1 && day.getUTCDate() === d && Number.isFinite(ms)) return ms;
    }
  }
  throw new UserError(
    `${what}: expected epoch milliseconds or an ISO-8601 date-time with Z or an offset (2026-12-01T02:30:00Z), got ${JSON.stringify(text)}`,
  );
}

/**
 * Why JSON text does not parse, without any of the text: V8's messages quote the offending
 * characters (`Unexpected token 'r', "root:x:0:0"...`), which may be a secret or a file's content.
 * Only the position (as line and column) is kept.
 */
export function jsonSyntaxProblem(err: unknown, text: string): string {
  const message = describeError(err);
  const position = /at position (\d+)/.exec(message);
  if (position) {
    const before = text.slice(0, Number(position[1]));
    const lineNo = before.split('\n').length;
    const column = before.length - before.lastIndexOf('\n');
    return `not valid JSON (error at line ${lineNo}, column ${column})`;
  }
  if (/end of JSON input/i.test(message)) return 'not valid JSON (it ends early)';
  return 'not valid JSON';
}

/** A JSON object given on the command line. The error never repeats the text (it may hold anything). */
export function parseJsonObject(text: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (err) {
    throw new UserError(`${what}: ${jsonSyntaxProblem(err, text)}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new UserError(`${what}: must be a JSON object, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`);
  }
  return value as Record<string, unknown>;
}

/** `12s`, `5m 3s`, `2h 4m`, `3d 1h` — an age for people; JSON output carries milliseconds. */
export function formatAge(ms: number | null | undefined): string {
  if (ms == null) return '-';
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86_400)}d ${Math.floor((s % 86_400) / 3600)}h`;
}

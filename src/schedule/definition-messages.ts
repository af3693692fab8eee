/**
 * The words of a job definition's validation problems: zod's generic issues turned into the
 * `field: message` lines the CLI prints and the API lists (job-definition.ts owns the rules).
 */
import type { z } from 'zod';

/**
 * One `field: message` line per zod issue, in the words the CLI and the API both print; an
 * unknown key names the fields accepted where it was found (`knownFields`: path → field names).
 */
export function formatIssue(iss: z.core.$ZodIssue, knownFields: Readonly<Record<string, readonly string[]>>): string[] {
  const path = iss.path.map(String).join('.');
  if (iss.code === 'unrecognized_keys') {
    const known = knownFields[path] ?? null;
    const hint = known ? `; expected one of ${known.join(', ')}` : '';
    return iss.keys.map((key) => `${path ? `${path}.` : ''}${key}: unknown field${hint}`);
  }
  return [`${path || 'job definition'}: ${iss.message}`];
}

const EXPECTED: Record<string, string> = { int: 'an integer', boolean: 'true or false', record: 'an object', object: 'an object', array: 'an array' };

/** Readable messages for the generic issues (fields with their own message keep it). */
export function issueMessage(iss: z.core.$ZodRawIssue): string | undefined {
  if (iss.code === 'invalid_type') {
    return iss.input === undefined ? 'required' : `must be ${EXPECTED[iss.expected] ?? `a ${iss.expected}`}, got ${typeName(iss.input)}`;
  }
  if (iss.code === 'too_small' && (iss.origin === 'array' || iss.origin === 'string') && Number(iss.minimum) <= 1) {
    return 'must not be empty';
  }
  if (iss.code === 'too_small' && iss.origin === 'number') return `must be greater than ${String(iss.minimum)}`;
  return undefined;
}

/** "null", "an array", "an object", "a string", …: a value named by its type. */
export function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** Numbers and short strings are echoed; anything else is named by its type. */
export function show(value: unknown): string {
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  return typeName(value);
}

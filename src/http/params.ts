/**
 * Query-string and path-parameter parsing for the API. Every problem is a 400 whose message
 * names the parameter, the value given and what is accepted. Unknown or repeated parameters are
 * refused too, so a typo (`?stauts=`) is reported instead of silently ignored.
 */
import { badRequest } from './errors.js';

export interface IntSpec {
  min: number;
  max: number;
  default?: number;
}

export class QueryParams {
  readonly #values = new Map<string, string>();

  constructor(
    search: URLSearchParams,
    readonly accepted: readonly string[],
  ) {
    for (const [name, value] of search) {
      if (!accepted.includes(name)) {
        const known = accepted.length > 0 ? `accepted: ${accepted.join(', ')}` : 'this route takes no query parameters';
        throw badRequest(`unknown query parameter "${name}"; ${known}`);
      }
      if (this.#values.has(name)) throw badRequest(`${name}: given more than once; pass it once`);
      this.#values.set(name, value);
    }
  }

  /** The raw value, or undefined when absent or empty. */
  raw(name: string): string | undefined {
    const v = this.#values.get(name);
    return v === undefined || v === '' ? undefined : v;
  }

  /** An integer in [min, max]; the default when absent. */
  int(name: string, spec: IntSpec & { default: number }): number;
  int(name: string, spec: IntSpec): number | undefined;
  int(name: string, spec: IntSpec): number | undefined {
    const v = this.raw(name);
    if (v === undefined) return spec.default;
    return parseInteger(name, v, spec);
  }

  /** A comma-separated list of values from `allowed`. */
  oneOf<T extends string>(name: string, allowed: readonly T[]): T[] | undefined {
    const v = this.raw(name);
    if (v === undefined) return undefined;
    const parts = v.split(',').map((p) => p.trim());
    for (const p of parts) {
      if (!(allowed as readonly string[]).includes(p)) {
        throw badRequest(`${name}: "${p}" is not accepted; expected one of ${allowed.join(', ')} (comma-separated for several)`);
      }
    }
    return [...new Set(parts)] as T[];
  }

  /** A comma-separated list of values matching `pattern` (described for the error message). */
  matching(name: string, pattern: RegExp, description: string): string[] | undefined {
    const v = this.raw(name);
    if (v === undefined) return undefined;
    const parts = v.split(',').map((p) => p.trim());
    for (const p of parts) {
      if (!pattern.test(p)) throw badRequest(`${name}: "${p}" is not accepted; expected ${description} (comma-separated for several)`);
    }
    return [...new Set(parts)];
  }
}

/** A decimal integer in [min, max], or a 400 naming `name`. */
export function parseInteger(name: string, value: string, spec: IntSpec): number {
  const range = `an integer from ${spec.min} to ${spec.max}${spec.default !== undefined ? ` (default ${spec.default})` : ''}`;
  if (!/^-?\d+$/.test(value)) throw badRequest(`${name}: "${value}" is not accepted; expected ${range}`);
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < spec.min || n > spec.max) {
    throw badRequest(`${name}: ${value} is out of range; expected ${range}`);
  }
  return n;
}

/**
 * Largest id of an `integer` column (sites, jobs, filters, credentials) on PostgreSQL; a larger
 * value would fail there with "out of range" instead of simply matching nothing.
 */
export const MAX_INT_ID = 2_147_483_647;
/** Largest id of a `bigint` column (runs, work items, activity) that JavaScript holds exactly. */
export const MAX_BIGINT_ID = Number.MAX_SAFE_INTEGER;

/** A path id: a positive integer up to the column's range (`max`), or a 400 naming the parameter. */
export function pathId(name: string, value: string, max: number): number {
  return parseInteger(name, value, { min: 1, max });
}

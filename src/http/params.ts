/**
 * Query-string and path-parameter schemas for the API. Every problem is a 400 whose message
 * names the parameter, the value given and what is accepted (`field: message`, formatted by the
 * validation hook in errors.ts). Unknown or repeated parameters are refused too, so a typo
 * (`?stauts=`) is reported instead of silently ignored. Each schema documents itself in the
 * OpenAPI document.
 */
import { z } from '@hono/zod-openapi';

export interface IntSpec {
  min: number;
  max: number;
  default?: number;
}

/**
 * Largest id of an `integer` column (sites, jobs, filters, credentials) on PostgreSQL; a larger
 * value would fail there with "out of range" instead of simply matching nothing.
 */
export const MAX_INT_ID = 2_147_483_647;
/** Largest id of a `bigint` column (runs, work items, activity) that JavaScript holds exactly. */
export const MAX_BIGINT_ID = Number.MAX_SAFE_INTEGER;

/** A decimal integer in [min, max], or the problem (without the field name). */
export function checkInteger(value: string, spec: IntSpec): number | { problem: string } {
  const range = `an integer from ${spec.min} to ${spec.max}${spec.default !== undefined ? ` (default ${spec.default})` : ''}`;
  if (!/^-?\d+$/.test(value)) return { problem: `"${value}" is not accepted; expected ${range}` };
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < spec.min || n > spec.max) return { problem: `${value} is out of range; expected ${range}` };
  return n;
}

/** One query value (a repeated parameter arrives as an array and is refused). */
const single = () =>
  z.string({ error: (issue) => (Array.isArray(issue.input) ? 'given more than once; pass it once' : undefined) });

/** An integer query parameter; absent or empty gives the default. */
export function intQuery(spec: IntSpec & { default: number }, description?: string): z.ZodType<number, string | undefined>;
export function intQuery(spec: IntSpec, description?: string): z.ZodType<number | undefined, string | undefined>;
export function intQuery(spec: IntSpec, description?: string): z.ZodType<number | undefined, string | undefined> {
  return single()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return spec.default;
      const n = checkInteger(v, spec);
      if (typeof n === 'number') return n;
      ctx.addIssue({ code: 'custom', message: n.problem });
      return z.NEVER;
    })
    .openapi({ type: 'integer', minimum: spec.min, maximum: spec.max, ...(spec.default !== undefined ? { default: spec.default } : {}), ...(description ? { description } : {}) }) as never;
}

/** A path id: a positive integer up to the column's range (`max`). */
export function idParam(max: number, description = 'id'): z.ZodType<number, string> {
  return z
    .string()
    .transform((v, ctx) => {
      const n = checkInteger(v, { min: 1, max });
      if (typeof n === 'number') return n;
      ctx.addIssue({ code: 'custom', message: n.problem });
      return z.NEVER;
    })
    .openapi({ type: 'integer', minimum: 1, maximum: max, description }) as never;
}

/** A comma-separated list of values from `allowed` (deduplicated); undefined when absent. */
export function csvEnumQuery<T extends string>(allowed: readonly T[], description?: string): z.ZodType<T[] | undefined, string | undefined> {
  return single()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return undefined;
      const parts = v.split(',').map((p) => p.trim());
      for (const p of parts) {
        if (!(allowed as readonly string[]).includes(p)) {
          ctx.addIssue({ code: 'custom', message: `"${p}" is not accepted; expected one of ${allowed.join(', ')} (comma-separated for several)` });
          return z.NEVER;
        }
      }
      return [...new Set(parts)] as T[];
    })
    .openapi({ type: 'string', description: `${description ? `${description}; ` : ''}one or more of ${allowed.join(', ')}, comma-separated` }) as never;
}

/** A plain string query parameter; undefined when absent or empty. */
export function stringQuery(description?: string, options: { maxLength?: number } = {}): z.ZodType<string | undefined, string | undefined> {
  const max = options.maxLength ?? 1000;
  return single()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return undefined;
      if (v.length > max) {
        ctx.addIssue({ code: 'custom', message: `at most ${max} characters` });
        return z.NEVER;
      }
      return v;
    })
    .openapi({ type: 'string', maxLength: max, ...(description ? { description } : {}) }) as never;
}

/** The query object of a route: refuses parameters it does not name, saying which it accepts. */
export function querySchema<S extends z.ZodRawShape>(shape: S) {
  const accepted = Object.keys(shape);
  const known = accepted.length > 0 ? `accepted: ${accepted.join(', ')}` : 'this route takes no query parameters';
  return z.strictObject(shape, {
    error: (issue) => (issue.code === 'unrecognized_keys' ? `unknown query parameter "${String(issue.keys[0])}"; ${known}` : undefined),
  });
}

/** `limit` and `cursor` of a paginated list (src/pagination.ts). */
export const pageQuery = {
  limit: intQuery({ min: 1, max: 1000, default: 50 }, 'page size'),
  cursor: stringQuery('the next_cursor of the previous page', { maxLength: 500 }),
};

/** The error option of a body enum: "is required" when missing, else the accepted values. */
export const oneOf = (values: readonly string[]) => ({
  error: (issue: { input?: unknown }) => (issue.input === undefined ? 'is required' : `must be one of ${values.join(', ')}`),
});

/**
 * Declaring an API route: `defineRoute(role, config)` wraps `createRoute` of @hono/zod-openapi,
 * adding the role check (requireRole) before validation, the bearer security requirement, the
 * role in the operation's description and `x-jobyard-role`, and the common error responses. The
 * zod schemas in `config.request` validate the request and document it, the same objects.
 */
import { createRoute, z, type RouteConfig } from '@hono/zod-openapi';
import type { Role } from '../auth/roles.js';
import { requireRole } from './auth.js';
import { toJsonText } from './json.js';

export const ErrorSchema = z
  .object({
    error: z.string().openapi({ description: 'one line saying what is wrong' }),
    problems: z.array(z.string()).optional().openapi({ description: 'every field problem as "field: message"' }),
  })
  .openapi('Error');

const errorContent = (description: string) => ({ description, content: { 'application/json': { schema: ErrorSchema } } });

/** The error responses every protected route can give. */
export const COMMON_ERRORS = {
  400: errorContent('bad input: every problem listed, each naming its field'),
  401: errorContent('missing or invalid bearer token'),
  403: errorContent('the token\'s role is below the route\'s'),
} as const;

/** A JSON response documented by a schema. */
export const jsonResponse = <S extends z.ZodType>(description: string, schema: S) => ({ description, content: { 'application/json': { schema } } });

/** The usual error entries for routes that can answer 404 / 409 / 413 / 415. */
export const NOT_FOUND = { 404: errorContent('no such object') } as const;
export const CONFLICT = { 409: errorContent('conflicts with the current state; nothing written') } as const;
export const BODY_ERRORS = { 413: errorContent('request body over the size limit'), 415: errorContent('request body is not JSON') } as const;

/** Any JSON object (responses whose rows are documented in prose rather than column by column). */
export const JsonObject = z.record(z.string(), z.unknown());

export function defineRoute<const R extends RouteConfig>(role: Role, config: R) {
  const middleware = config.middleware === undefined ? [] : Array.isArray(config.middleware) ? config.middleware : [config.middleware];
  const note = `Requires role: ${role} (or above).`;
  return createRoute({
    ...config,
    middleware: [requireRole(role), ...middleware],
    security: [{ bearerAuth: [] }],
    description: config.description ? `${config.description}\n\n${note}` : note,
    'x-jobyard-role': role,
    responses: { ...COMMON_ERRORS, ...config.responses },
  } as R);
}

/**
 * A response body made safe for the API (the same rules as before the framework: secret-named
 * keys redacted at any depth, corrupt JSON cells shown as `{ invalid_json }`), for `c.json`.
 */
export function apiJson(value: unknown): any {
  return JSON.parse(toJsonText(value));
}

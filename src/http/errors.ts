/**
 * One JSON error shape everywhere: `{ "error": "one line", "problems"?: ["field: message", …] }`.
 * Domain errors map to statuses here (ValidationError 400 with problems, UserError 400,
 * NotFoundError 404, ConflictError 409); zod request validation goes through `validationHook`,
 * which formats issues in the same `field: message` style the CLI prints. Anything unexpected is
 * a 500 whose details go to the log only.
 */
import type { Hook } from '@hono/zod-openapi';
import type { ZodError } from 'zod';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ConflictError, describeError, NotFoundError, UserError, ValidationError } from '../errors.js';
import type { ApiContext, AppEnv } from './context.js';

/** An HTTP error with a JSON body `{ error }`; the error handler turns it into the response. */
export class HttpError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const badRequest = (message: string): HttpError => new HttpError(400, message);
export const notFound = (message: string): HttpError => new HttpError(404, message);

export interface ErrorBody {
  error: string;
  problems?: string[];
}

export function errorResponse(c: ApiContext, status: ContentfulStatusCode, body: ErrorBody, headers: Record<string, string> = {}): Response {
  for (const [k, v] of Object.entries(headers)) c.header(k, v);
  return c.json(body, status);
}

/** `app.onError`: maps what a handler threw to the one error shape. */
export function handleError(err: Error, c: ApiContext): Response {
  if (err instanceof HttpError) return errorResponse(c, err.status, { error: err.message }, err.headers);
  if (err instanceof ValidationError) return errorResponse(c, 400, { error: err.message, problems: err.problems });
  if (err instanceof NotFoundError) return errorResponse(c, 404, { error: err.message });
  if (err instanceof ConflictError) return errorResponse(c, 409, { error: err.message });
  if (err instanceof UserError) return errorResponse(c, 400, { error: err.message });
  if (err instanceof HTTPException) {
    const status = err.status as ContentfulStatusCode;
    if (status === 415) return errorResponse(c, 415, { error: 'request body must be JSON: send Content-Type: application/json' });
    if (status === 400 && /malformed json/i.test(err.message)) return errorResponse(c, 400, { error: 'request body is not valid JSON' });
    return errorResponse(c, status, { error: err.message || 'request refused' });
  }
  c.get('logger')?.error({ err: describeError(err), method: c.req.method, path: c.req.path }, 'http request failed');
  return errorResponse(c, 500, { error: 'internal error; see the server log' });
}

/** Every zod issue as `field: message` (the field omitted when the issue is about the whole object). */
export function formatZodIssues(error: ZodError): string[] {
  return error.issues.map((issue) => {
    const field = issue.path.map(String).join('.');
    let message = issue.message;
    if (issue.code === 'invalid_type' && /received undefined$/.test(message)) message = 'is required';
    return field === '' ? message : `${field}: ${message}`;
  });
}

/** The app's defaultHook: a failed request validation becomes a 400 with every problem listed. */
export const validationHook: Hook<unknown, AppEnv, string, unknown> = (result, c) => {
  if (result.success) return undefined;
  const problems = formatZodIssues(result.error);
  return errorResponse(c, 400, { error: problems.join('; '), problems });
};

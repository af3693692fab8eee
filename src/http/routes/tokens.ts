/**
 * API tokens (admin): GET /api/tokens (never the value), POST /api/tokens { name, role } (the
 * token is in this one response and nowhere else), POST /api/tokens/{name}/revoke. The same
 * functions as `jobyard tokens` (src/auth/tokens.ts), audited.
 */
import { z } from '@hono/zod-openapi';
import { ROLES } from '../../auth/roles.js';
import { createApiToken, listApiTokens, revokeApiToken } from '../../auth/tokens.js';
import { actorOf, type ApiApp } from '../context.js';
import { oneOf, pageQuery, querySchema } from '../params.js';
import { apiJson, BODY_ERRORS, CONFLICT, defineRoute, jsonResponse, NOT_FOUND } from '../route.js';

const TokenInfo = z
  .object({
    id: z.number(),
    name: z.string(),
    role: z.enum(ROLES),
    created_at: z.number(),
    created_by: z.string(),
    last_used_at: z.number().nullable(),
    revoked_at: z.number().nullable(),
  })
  .openapi('TokenInfo');

const listRoute = defineRoute('admin', {
  method: 'get',
  path: '/api/tokens',
  tags: ['tokens'],
  summary: 'API tokens, newest first (never their values)',
  request: { query: querySchema({ ...pageQuery }) },
  responses: { 200: jsonResponse('a page of tokens', z.object({ items: z.array(TokenInfo), next_cursor: z.string().nullable() })) },
});

const createTokenRoute = defineRoute('admin', {
  method: 'post',
  path: '/api/tokens',
  tags: ['tokens'],
  summary: 'Create a token; its value is shown in this response only',
  request: {
    body: {
      required: true,
      content: {
        'application/json': {
          schema: z.strictObject({
            name: z.string().openapi({ description: '1-64 letters, digits, ".", "_", "-"; unique' }),
            role: z.enum(ROLES, oneOf(ROLES)),
          }),
        },
      },
    },
  },
  responses: {
    201: jsonResponse('the token (shown once) and its record', z.object({ token: z.string(), info: TokenInfo })),
    ...CONFLICT,
    ...BODY_ERRORS,
  },
});

const revokeRoute = defineRoute('admin', {
  method: 'post',
  path: '/api/tokens/{name}/revoke',
  tags: ['tokens'],
  summary: 'Revoke a token (its row stays, so audit actors stay meaningful)',
  request: { params: z.object({ name: z.string().max(64) }) },
  responses: { 200: jsonResponse('the revoked token', TokenInfo), ...NOT_FOUND, ...CONFLICT },
});

export function registerTokenRoutes(app: ApiApp): void {
  app.openapi(listRoute, async (c) => {
    const { limit, cursor } = c.req.valid('query');
    const page = await listApiTokens(c.get('store'), { limit, ...(cursor !== undefined ? { cursor } : {}) });
    return c.json(apiJson(page), 200);
  });
  app.openapi(createTokenRoute, async (c) => {
    const { token, info } = await createApiToken(c.get('store'), c.req.valid('json'), actorOf(c), { now: c.get('clock')() });
    // Not through apiJson: it would (rightly) redact a key named "token"; this is the one place it is shown.
    return c.json({ token, info }, 201);
  });
  app.openapi(revokeRoute, async (c) => {
    const info = await revokeApiToken(c.get('store'), c.req.valid('param').name, actorOf(c), { now: c.get('clock')() });
    return c.json(info, 200);
  });
}

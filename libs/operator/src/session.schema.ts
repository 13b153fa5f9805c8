import { z } from 'zod';
import { OPERATOR_ROLES } from '@libs/config';
import type { RouteSpec } from './openapi.document';

/** Console sign-in: shapes and routes (contract section 1). */

const time = z.string().describe('ISO 8601 in Shanghai time, e.g. 2026-12-04T19:20:00.000+08:00');

export const SessionBody = z.strictObject({
  token: z.string().min(1).max(512).describe('A token from OPERATOR_TOKENS.'),
});

export const SessionView = z.object({
  name: z.string().describe("The token's name (recorded with every action)."),
  role: z.enum(OPERATOR_ROLES).describe('viewer < operator < admin.'),
  csrfToken: z
    .string()
    .nullable()
    .describe('Send as X-CSRF-Token on every non-GET call made with the cookie; null with a bearer token.'),
  expiresAt: time.nullable().describe('When the session ends; null with a bearer token.'),
});

export const SESSION_ROUTES: RouteSpec[] = [
  {
    method: 'post',
    path: '/api/session',
    operationId: 'signIn',
    tag: 'session',
    summary: 'Sign in with a named token: sets the HttpOnly session cookie wks_session',
    description:
      'The cookie is HttpOnly, SameSite=Strict, Path=/ and Secure unless APP_MODE=sandbox; it lasts ' +
      'OPERATOR_SESSION_TTL_HOURS (default 12). With the cookie every non-GET call needs the header ' +
      '`X-CSRF-Token` equal to `csrfToken` (403 otherwise).',
    body: SessionBody,
    status: 200,
    response: SessionView,
    responseDescription: 'Signed in',
    errors: [400, 401],
    public: true,
  },
  {
    method: 'get',
    path: '/api/session',
    operationId: 'getSession',
    tag: 'session',
    summary: 'Who is signed in (the session cookie or the bearer token), with the role',
    status: 200,
    response: SessionView,
    responseDescription: 'The caller',
    role: 'viewer',
  },
  {
    method: 'delete',
    path: '/api/session',
    operationId: 'signOut',
    tag: 'session',
    summary: 'Sign out: ends the session and clears the cookie (needs X-CSRF-Token)',
    status: 204,
    responseDescription: 'Signed out',
    role: 'viewer',
  },
];

export const SESSION_COMPONENTS: Record<string, z.ZodType> = { Session: SessionView };

import { z } from 'zod';
import { OPERATOR_ROLES } from '@libs/config';

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

export const SESSION_COMPONENTS: Record<string, z.ZodType> = { Session: SessionView };

import { z } from 'zod';

/** Roles of the operator API and console, lowest first: each one may do what the ones before it may. */
export const OPERATOR_ROLES = ['viewer', 'operator', 'admin'] as const;
export type OperatorRole = (typeof OPERATOR_ROLES)[number];

/** True when `role` may do what `needed` allows. */
export function roleAtLeast(role: OperatorRole, needed: OperatorRole): boolean {
  return OPERATOR_ROLES.indexOf(role) >= OPERATOR_ROLES.indexOf(needed);
}

export interface OperatorTokenEntry {
  name: string;
  role: OperatorRole;
  token: string;
  /**
   * Written in the old `name:token` form (read as admin). Kept so the service can log a deprecation
   * at boot; parsing stays silent because the config lib does not log.
   */
  legacy: boolean;
}

const NAME = /^[A-Za-z0-9_.@-]+$/;
const MIN_TOKEN = 16;

/**
 * `name:role:token,...` (role viewer|operator|admin): named tokens of the operator API and console.
 * The old `name:token` form still parses, as admin. Names are recorded with every action; tokens are
 * secrets, so messages name the entry (position and name), never its value.
 */
export const operatorTokensSchema = z
  .string()
  .min(1)
  .transform((text, ctx): OperatorTokenEntry[] => {
    const tokens: OperatorTokenEntry[] = [];
    const seen = new Set<string>();
    const fail = (message: string) => ctx.addIssue({ code: 'custom', message });
    text.split(',').forEach((raw, i) => {
      const at = `entry ${i + 1}`;
      const parts = raw.trim().split(':');
      if (parts.length < 2) return fail(`${at} must be name:role:token`);
      const name = parts[0].trim();
      if (!NAME.test(name)) return fail(`${at}: name must be non-empty (A-Z a-z 0-9 _ . @ -)`);
      const legacy = parts.length === 2;
      const role = legacy ? 'admin' : parts[1].trim();
      // A token may itself hold colons in the new form: everything after the role is the token.
      const token = (legacy ? parts[1] : parts.slice(2).join(':')).trim();
      if (!legacy && role === '') return fail(`${at} (${name}): role is empty (viewer, operator or admin)`);
      if (!(OPERATOR_ROLES as readonly string[]).includes(role))
        return fail(`${at} (${name}): role must be viewer, operator or admin`);
      if (token.length < MIN_TOKEN)
        return fail(`${at} (${name}): token must be at least ${MIN_TOKEN} characters`);
      if (seen.has(name)) return fail(`${at}: name "${name}" is used twice`);
      seen.add(name);
      tokens.push({ name, role: role as OperatorRole, token, legacy });
    });
    return tokens;
  });

import { createHash, timingSafeEqual } from 'node:crypto';
import { AppLogger } from '@libs/common';
import { OperatorTokenEntry } from '@libs/config';
import { OperatorIdentity } from './operator.tokens';

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/** Constant-time equality of two secrets of any length (compared as equal-length digests). */
export function secretsEqual(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

/**
 * Named tokens (OPERATOR_TOKENS). Every configured token is compared, in constant time on
 * equal-length digests, whether or not an earlier one matched, so timing tells nothing about
 * which token (or how much of one) was right.
 */
export class OperatorTokenVerifier {
  private readonly tokens: Array<OperatorIdentity & { digest: Buffer }>;

  constructor(tokens: ReadonlyArray<Pick<OperatorTokenEntry, 'name' | 'role' | 'token'>>) {
    this.tokens = tokens.map((t) => ({ name: t.name, role: t.role, digest: digest(t.token) }));
  }

  /** The token's name and role, or undefined. */
  verify(presented: string): OperatorIdentity | undefined {
    const given = digest(presented);
    let match: OperatorIdentity | undefined;
    for (const t of this.tokens)
      if (timingSafeEqual(given, t.digest) && match === undefined) match = { name: t.name, role: t.role };
    return match;
  }

  /** The identity configured under `name` now (sessions are checked against it). */
  byName(name: string): OperatorIdentity | undefined {
    const t = this.tokens.find((x) => x.name === name);
    return t ? { name: t.name, role: t.role } : undefined;
  }
}

/** One boot warning per token still in the old `name:token` form (its name, never the token). */
export function warnLegacyTokens(
  tokens: ReadonlyArray<Pick<OperatorTokenEntry, 'name' | 'legacy'>>,
  logger: Pick<AppLogger, 'warn'>,
): void {
  tokens.forEach((t, i) => {
    if (t.legacy)
      logger.warn(
        { entry: i + 1, name: t.name },
        `OPERATOR_TOKENS entry ${i + 1} (${t.name}) uses the deprecated name:token form and is read as admin; write name:role:token`,
      );
  });
}

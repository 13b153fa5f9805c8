import { createHash, randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { Clock } from '@libs/common';
import { OperatorConfig } from '@libs/config';
import { CONFIG } from '@libs/runtime';
import { OperatorTokenVerifier } from './operator-token.verifier';
import { OperatorSessionStore } from './operator-session.store';
import { OPERATOR_CLOCK, OPERATOR_SESSION_STORE, OperatorIdentity } from './operator.tokens';

/** The console's session cookie. */
export const SESSION_COOKIE = 'wks_session';

export interface OperatorSession {
  identity: OperatorIdentity;
  csrfToken: string;
  expiresAt: Date;
}

const hashId = (id: string) => createHash('sha256').update(id, 'utf8').digest();
const randomToken = () => randomBytes(32).toString('base64url');

/**
 * Console sign-in: a named token buys a session (random id in an HttpOnly cookie, its SHA-256 in
 * Postgres) with a CSRF token the page sends back on every mutating call.
 */
@Injectable()
export class OperatorSessionService {
  private readonly ttlMs: number;

  constructor(
    @Inject(OPERATOR_SESSION_STORE) private readonly store: OperatorSessionStore,
    private readonly verifier: OperatorTokenVerifier,
    @Inject(OPERATOR_CLOCK) private readonly clock: Clock,
    @Inject(CONFIG) config: OperatorConfig,
  ) {
    this.ttlMs = Math.round(config.OPERATOR_SESSION_TTL_HOURS * 3_600_000);
  }

  get ttlMillis(): number {
    return this.ttlMs;
  }

  /** A new session for a valid token (and the id for the cookie), or undefined. */
  async signIn(token: string): Promise<{ id: string; session: OperatorSession } | undefined> {
    const identity = this.verifier.verify(token);
    if (!identity) return undefined;
    const now = new Date(this.clock.now());
    // Opportunistic clean-up: sign-ins are rare enough to carry it, and no timer is needed.
    await this.store.deleteExpired(now);
    const id = randomToken();
    const session: OperatorSession = {
      identity,
      csrfToken: randomToken(),
      expiresAt: new Date(now.getTime() + this.ttlMs),
    };
    await this.store.create({
      idHash: hashId(id),
      name: identity.name,
      role: identity.role,
      csrfToken: session.csrfToken,
      expiresAt: session.expiresAt,
    });
    return { id, session };
  }

  /**
   * The live session of a cookie value. A session whose token name is no longer configured is
   * refused (removing a token from OPERATOR_TOKENS and restarting ends its sessions); the role is
   * the one configured now, so a demotion applies at once.
   */
  async resolve(id: string): Promise<OperatorSession | undefined> {
    const idHash = hashId(id);
    const row = await this.store.find(idHash, new Date(this.clock.now()));
    if (!row) return undefined;
    const identity = this.verifier.byName(row.name);
    if (!identity) {
      await this.store.delete(idHash);
      return undefined;
    }
    return { identity, csrfToken: row.csrfToken, expiresAt: row.expiresAt };
  }

  async signOut(id: string): Promise<void> {
    await this.store.delete(hashId(id));
  }
}

import {
  CanActivate,
  createParamDecorator,
  ExecutionContext,
  ForbiddenException,
  Injectable,
  UnauthorizedException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Request, Response } from 'express';
import { OperatorRole, roleAtLeast } from '@libs/config';
import { RequireRole } from './operator-role.decorator';
import { OperatorSession, OperatorSessionService, SESSION_COOKIE } from './operator-session.service';
import { OperatorTokenVerifier, secretsEqual } from './operator-token.verifier';
import { OperatorIdentity } from './operator.tokens';

export type AuthedRequest = Request & {
  operator?: OperatorIdentity;
  /** Set when the request came with the session cookie (not a bearer token). */
  operatorSession?: OperatorSession & { id: string };
};

/** Methods that change nothing: no CSRF token needed with the cookie. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Who is calling and whether they may. Either `Authorization: Bearer <token>` (CLIs, scripts: no
 * CSRF, a header a foreign page cannot send) or the console's session cookie, which on every
 * non-GET request needs `X-CSRF-Token` equal to the session's token. Then the handler's role
 * (`@RequireRole`, admin when absent) and `reveal=pii` (admin only) are enforced: 403 when too low.
 */
@Injectable()
export class OperatorAuthGuard implements CanActivate {
  constructor(
    private readonly verifier: OperatorTokenVerifier,
    private readonly sessions: OperatorSessionService,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const req = http.getRequest<AuthedRequest>();
    const identity = await this.authenticate(req, http.getResponse<Response>());
    const needed: OperatorRole =
      this.reflector.getAllAndOverride(RequireRole, [context.getHandler(), context.getClass()]) ?? 'admin';
    if (!roleAtLeast(identity.role, needed))
      throw new ForbiddenException(
        `role ${identity.role} may not ${req.method} ${req.route?.path ?? req.path} (needs ${needed})`,
      );
    const query = req.query as Record<string, unknown> | undefined;
    if (query?.reveal === 'pii' && identity.role !== 'admin')
      throw new ForbiddenException(
        `role ${identity.role} may not reveal personal data (reveal=pii needs admin)`,
      );
    req.operator = identity;
    return true;
  }

  private async authenticate(req: AuthedRequest, res: Response): Promise<OperatorIdentity> {
    const refuse = (message: string): never => {
      res.setHeader('WWW-Authenticate', 'Bearer realm="operator"');
      throw new UnauthorizedException(message);
    };
    const header = req.headers.authorization;
    if (header !== undefined) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
      const identity = m ? this.verifier.verify(m[1]) : undefined;
      return identity ?? refuse(m ? 'invalid bearer token' : 'missing bearer token');
    }
    const cookies = req.cookies as Record<string, string> | undefined;
    const id = cookies?.[SESSION_COOKIE];
    if (!id) return refuse('missing bearer token or session');
    const session = await this.sessions.resolve(id);
    if (!session) return refuse('session expired or signed out: sign in again');
    if (!SAFE_METHODS.has(req.method)) {
      const presented = req.headers['x-csrf-token'];
      if (typeof presented !== 'string' || !secretsEqual(presented, session.csrfToken))
        throw new ForbiddenException('missing or invalid CSRF token');
    }
    req.operatorSession = { ...session, id };
    return session.identity;
  }
}

/** The authenticated operator's token name (controllers behind OperatorAuthGuard). */
export const Operator = createParamDecorator((_data: unknown, ctx: ExecutionContext): string => {
  const req = ctx.switchToHttp().getRequest<AuthedRequest>();
  if (!req.operator) throw new UnauthorizedException('missing bearer token');
  return req.operator.name;
});

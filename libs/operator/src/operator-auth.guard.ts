import { createHash, timingSafeEqual } from 'node:crypto';
import {
  CanActivate,
  createParamDecorator,
  ExecutionContext,
  Inject,
  Injectable,
  UnauthorizedException,
} from '@nestjs/common';
import { Request, Response } from 'express';
import { OperatorConfig } from '@libs/config';
import { CONFIG } from '@libs/runtime';
import { OperatorIdentity } from './operator.tokens';

type AuthedRequest = Request & { operator?: OperatorIdentity };

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/**
 * Named bearer tokens (OPERATOR_TOKENS). Every configured token is compared, in constant time on
 * equal-length digests, whether or not an earlier one matched, so timing tells nothing about
 * which token (or how much of one) was right. The matching name is attached to the request.
 */
export class OperatorTokenVerifier {
  private readonly tokens: Array<{ name: string; digest: Buffer }>;

  constructor(tokens: ReadonlyArray<{ name: string; token: string }>) {
    this.tokens = tokens.map((t) => ({ name: t.name, digest: digest(t.token) }));
  }

  /** The token's name, or undefined. */
  verify(presented: string): string | undefined {
    const given = digest(presented);
    let match: string | undefined;
    for (const t of this.tokens) if (timingSafeEqual(given, t.digest) && match === undefined) match = t.name;
    return match;
  }
}

/** Requires `Authorization: Bearer <token>`; 401 otherwise (with `WWW-Authenticate: Bearer`). */
@Injectable()
export class OperatorAuthGuard implements CanActivate {
  private readonly verifier: OperatorTokenVerifier;

  constructor(@Inject(CONFIG) config: OperatorConfig) {
    this.verifier = new OperatorTokenVerifier(config.OPERATOR_TOKENS);
  }

  canActivate(context: ExecutionContext): boolean {
    const http = context.switchToHttp();
    const req = http.getRequest<AuthedRequest>();
    const header = req.headers.authorization ?? '';
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    const name = m ? this.verifier.verify(m[1]) : undefined;
    if (!name) {
      http.getResponse<Response>().setHeader('WWW-Authenticate', 'Bearer realm="operator"');
      throw new UnauthorizedException(m ? 'invalid bearer token' : 'missing bearer token');
    }
    req.operator = { name };
    return true;
  }
}

/** The authenticated operator's token name (controllers behind OperatorAuthGuard). */
export const Operator = createParamDecorator((_data: unknown, ctx: ExecutionContext): string => {
  const req = ctx.switchToHttp().getRequest<AuthedRequest>();
  if (!req.operator) throw new UnauthorizedException('missing bearer token');
  return req.operator.name;
});

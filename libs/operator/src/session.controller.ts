import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Post,
  Req,
  Res,
  UnauthorizedException,
  UseGuards,
} from '@nestjs/common';
import { CookieOptions, Response } from 'express';
import { OperatorConfig } from '@libs/config';
import { CONFIG } from '@libs/runtime';
import { OperatorActionsService } from './operator-actions.service';
import { AuthedRequest, OperatorAuthGuard } from './operator-auth.guard';
import { OperatorSession, OperatorSessionService, SESSION_COOKIE } from './operator-session.service';
import { SessionBodyDto } from './operator-api.dto';
import { SessionView } from './session.schema';
import { ApiRoute } from './api-route.decorator';

const view = (s: Pick<OperatorSession, 'identity'> & Partial<OperatorSession>) => ({
  name: s.identity.name,
  role: s.identity.role,
  csrfToken: s.csrfToken ?? null,
  expiresAt: s.expiresAt ?? null,
});

/** Console sign-in (POST is public: it is where a token becomes a session). */
@Controller('api/session')
export class SessionController {
  private readonly cookie: CookieOptions;

  constructor(
    private readonly sessions: OperatorSessionService,
    private readonly actions: OperatorActionsService,
    @Inject(CONFIG) config: OperatorConfig,
  ) {
    // Secure everywhere but the sandbox, whose demo serves plain http on localhost.
    this.cookie = { httpOnly: true, sameSite: 'strict', path: '/', secure: config.APP_MODE !== 'sandbox' };
  }

  @ApiRoute({
    operationId: 'signIn',
    tag: 'session',
    summary: 'Sign in with a named token: sets the HttpOnly session cookie wks_session',
    description:
      'The cookie is HttpOnly, SameSite=Strict, Path=/ and Secure unless APP_MODE=sandbox; it lasts ' +
      'OPERATOR_SESSION_TTL_HOURS (default 12). With the cookie every non-GET call needs the header ' +
      '`X-CSRF-Token` equal to `csrfToken` (403 otherwise).',
    status: 200,
    response: SessionView,
    responseDescription: 'Signed in',
    errors: [400, 401],
    public: true,
  })
  @Post()
  @HttpCode(200)
  async signIn(@Body() body: SessionBodyDto, @Res({ passthrough: true }) res: Response) {
    const { token } = body;
    const signedIn = await this.sessions.signIn(token);
    if (!signedIn) throw new UnauthorizedException('invalid token');
    const { id, session } = signedIn;
    // maxAge, not expires: the browser's clock decides, whatever the server's says.
    res.cookie(SESSION_COOKIE, id, { ...this.cookie, maxAge: this.sessions.ttlMillis });
    await this.actions.record({
      tokenName: session.identity.name,
      action: 'session.sign_in',
      target: session.identity.name,
      params: { role: session.identity.role },
      outcome: 'ok',
    });
    return view(session);
  }

  @ApiRoute({
    operationId: 'getSession',
    tag: 'session',
    summary: 'Who is signed in (the session cookie or the bearer token), with the role',
    status: 200,
    response: SessionView,
    responseDescription: 'The caller',
    role: 'viewer',
  })
  @Get()
  @UseGuards(OperatorAuthGuard)
  current(@Req() req: AuthedRequest) {
    return view(req.operatorSession ?? { identity: req.operator! });
  }

  @ApiRoute({
    operationId: 'signOut',
    tag: 'session',
    summary: 'Sign out: ends the session and clears the cookie (needs X-CSRF-Token)',
    status: 204,
    responseDescription: 'Signed out',
    role: 'viewer',
  })
  @Delete()
  @HttpCode(204)
  @UseGuards(OperatorAuthGuard)
  async signOut(@Req() req: AuthedRequest, @Res({ passthrough: true }) res: Response): Promise<void> {
    res.clearCookie(SESSION_COOKIE, this.cookie);
    if (!req.operatorSession) return;
    await this.sessions.signOut(req.operatorSession.id);
    await this.actions.record({
      tokenName: req.operatorSession.identity.name,
      action: 'session.sign_out',
      target: req.operatorSession.identity.name,
      outcome: 'ok',
    });
  }
}

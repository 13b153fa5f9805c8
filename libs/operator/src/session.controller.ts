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
import { RequireRole } from './operator-role.decorator';
import { OperatorSession, OperatorSessionService, SESSION_COOKIE } from './operator-session.service';
import { SessionBody } from './session.schema';
import { parseInput } from './validation.util';

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

  @Post()
  @HttpCode(200)
  async signIn(@Body() body: unknown, @Res({ passthrough: true }) res: Response) {
    const { token } = parseInput(SessionBody, body);
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

  @Get()
  @RequireRole('viewer')
  @UseGuards(OperatorAuthGuard)
  current(@Req() req: AuthedRequest) {
    return view(req.operatorSession ?? { identity: req.operator! });
  }

  @Delete()
  @HttpCode(204)
  @RequireRole('viewer')
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

import {
  Body,
  Controller,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  Post,
  Query,
  UseGuards,
} from '@nestjs/common';
import { OperatorActionsService } from './operator-actions.service';
import { Operator, OperatorAuthGuard } from './operator-auth.guard';
import { SchemeStatusService } from './scheme-status.service';
import { PageQueryDto, PauseBodyDto, SchemeIdParamsDto } from './operator-api.dto';
import { PauseView, SchemesView } from './operator-api.schema';
import { ApiRoute, RouteDoc } from './api-route.decorator';

/** Pause and resume: the same route but for its name and summary. */
function pauseRoute(operationId: string, summary: string): RouteDoc {
  return {
    operationId,
    tag: 'schemes',
    summary,
    bodyRequired: false,
    status: 200,
    response: PauseView,
    responseDescription: 'The new state',
    errors: [400, 404],
    role: 'operator',
  };
}

@Controller('api/schemes')
@UseGuards(OperatorAuthGuard)
export class SchemesController {
  constructor(
    private readonly schemes: SchemeStatusService,
    private readonly actions: OperatorActionsService,
  ) {}

  @ApiRoute({
    operationId: 'listSchemes',
    tag: 'schemes',
    summary: 'Schemes (SCHEMES_DIR) with pause state, cursor, lag, counts per status and the loader circuit',
    status: 200,
    response: SchemesView,
    responseDescription: 'A page of schemes',
    errors: [400],
    role: 'viewer',
  })
  @Get()
  async list(@Query() query: PageQueryDto) {
    return this.schemes.list(query);
  }

  @ApiRoute(
    pauseRoute('pauseScheme', 'Pause extraction of a scheme (sync_cursors.paused, checked before each poll)'),
  )
  @Post(':id/pause')
  @HttpCode(200)
  async pause(@Param() params: SchemeIdParamsDto, @Body() body: PauseBodyDto, @Operator() by: string) {
    return this.setPaused(params, body, by, true);
  }

  @ApiRoute(pauseRoute('resumeScheme', 'Resume extraction of a scheme'))
  @Post(':id/resume')
  @HttpCode(200)
  async resume(@Param() params: SchemeIdParamsDto, @Body() body: PauseBodyDto, @Operator() by: string) {
    return this.setPaused(params, body, by, false);
  }

  private async setPaused({ id }: SchemeIdParamsDto, { reason }: PauseBodyDto, by: string, paused: boolean) {
    const action = paused ? 'scheme.pause' : 'scheme.resume';
    if (!(await this.schemes.exists(id))) {
      await this.actions.record({
        tokenName: by,
        action,
        target: id,
        params: { reason },
        outcome: 'not_found',
      });
      throw new NotFoundException(`no scheme ${id}`);
    }
    const result = await this.schemes.setPaused(id, paused);
    await this.actions.record({
      tokenName: by,
      action,
      target: id,
      params: { ...(reason ? { reason } : {}) },
      outcome: result.changed
        ? `${paused ? 'paused' : 'resumed'}${result.cursorCreated ? ' (cursor row created)' : ''}${result.stopCleared ? ' (loader stop cleared)' : ''}`
        : `already ${paused ? 'paused' : 'running'}`,
    });
    return result;
  }
}

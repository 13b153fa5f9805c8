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
import { PageQuery, PauseBody, SchemeIdParams } from './operator-api.schema';
import { OperatorActionsService } from './operator-actions.service';
import { Operator, OperatorAuthGuard } from './operator-auth.guard';
import { RequireRole } from './operator-role.decorator';
import { SchemeStatusService } from './scheme-status.service';
import { parseInput } from './validation.util';

@Controller('api/schemes')
@UseGuards(OperatorAuthGuard)
export class SchemesController {
  constructor(
    private readonly schemes: SchemeStatusService,
    private readonly actions: OperatorActionsService,
  ) {}

  @RequireRole('viewer')
  @Get()
  async list(@Query() query: unknown) {
    return this.schemes.list(parseInput(PageQuery, query));
  }

  @RequireRole('operator')
  @Post(':id/pause')
  @HttpCode(200)
  async pause(@Param() params: unknown, @Body() body: unknown, @Operator() by: string) {
    return this.setPaused(params, body, by, true);
  }

  @RequireRole('operator')
  @Post(':id/resume')
  @HttpCode(200)
  async resume(@Param() params: unknown, @Body() body: unknown, @Operator() by: string) {
    return this.setPaused(params, body, by, false);
  }

  private async setPaused(params: unknown, body: unknown, by: string, paused: boolean) {
    const { id } = parseInput(SchemeIdParams, params);
    const { reason } = parseInput(PauseBody, body);
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

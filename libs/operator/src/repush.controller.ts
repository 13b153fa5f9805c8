import {
  BadRequestException,
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
import { IdParams, RepushBody, ResyncBody, ResyncListQuery } from './operator-api.schema';
import { OperatorActionsService } from './operator-actions.service';
import { Operator, OperatorAuthGuard } from './operator-auth.guard';
import { RepushService } from './repush.service';
import { ResyncService } from './resync.service';
import { SchemeStatusService } from './scheme-status.service';
import { parseInput } from './validation.util';

@Controller('api')
@UseGuards(OperatorAuthGuard)
export class RepushController {
  constructor(
    private readonly repushes: RepushService,
    private readonly resync: ResyncService,
    private readonly schemes: SchemeStatusService,
    private readonly actions: OperatorActionsService,
  ) {}

  @Post('repush')
  @HttpCode(200)
  async repush(@Body() body: unknown, @Operator() by: string) {
    return this.repushes.repush(parseInput(RepushBody, body), by);
  }

  @Post('resync')
  @HttpCode(202)
  async requestResync(@Body() body: unknown, @Operator() by: string) {
    const { schemeId, orderNos } = parseInput(ResyncBody, body);
    if (!(await this.schemes.exists(schemeId)))
      throw new BadRequestException(`schemeId: unknown scheme "${schemeId}"`);
    const results = await this.resync.requestMany(schemeId, orderNos, by);
    await this.actions.record(
      results.map((r) => ({
        tokenName: by,
        action: 'resync',
        target: `${schemeId}/${r.orderNo}`,
        params: { resyncRequestId: r.id },
        outcome: r.created ? 'requested' : 'already pending',
      })),
    );
    return { schemeId, results };
  }

  @Get('resync')
  async listResync(@Query() query: unknown) {
    return this.resync.list(parseInput(ResyncListQuery, query));
  }

  @Get('resync/:id')
  async getResync(@Param() params: unknown) {
    const { id } = parseInput(IdParams, params);
    const row = await this.resync.get(id);
    if (!row) throw new NotFoundException(`no resync request ${id}`);
    return row;
  }
}

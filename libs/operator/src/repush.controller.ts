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
import { unknownSchemeMessage } from '@libs/scheme';
import { IdParams, RepushBody, ResyncBody, ResyncListQuery } from './operator-api.schema';
import { OperatorActionsService } from './operator-actions.service';
import { Operator, OperatorAuthGuard } from './operator-auth.guard';
import { RequireRole } from './operator-role.decorator';
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

  @RequireRole('operator')
  @Post('repush')
  @HttpCode(200)
  async repush(@Body() body: unknown, @Operator() by: string) {
    const request = parseInput(RepushBody, body);
    await this.assertKnownScheme('schemeId', request.schemeId);
    await this.assertKnownScheme('all.schemeId', request.all?.schemeId);
    return this.repushes.repush(request, by);
  }

  @RequireRole('operator')
  @Post('resync')
  @HttpCode(202)
  async requestResync(@Body() body: unknown, @Operator() by: string) {
    const { schemeId, orderNos } = parseInput(ResyncBody, body);
    await this.assertKnownScheme('schemeId', schemeId);
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

  /** 400 naming the field and listing the known schemes: a request for a typo would wait forever. */
  private async assertKnownScheme(field: string, schemeId: string | undefined): Promise<void> {
    if (schemeId === undefined || (await this.schemes.exists(schemeId))) return;
    throw new BadRequestException(
      `${field}: ${unknownSchemeMessage(schemeId, await this.schemes.knownIds())}`,
    );
  }

  @RequireRole('viewer')
  @Get('resync')
  async listResync(@Query() query: unknown) {
    return this.resync.list(parseInput(ResyncListQuery, query));
  }

  @RequireRole('viewer')
  @Get('resync/:id')
  async getResync(@Param() params: unknown) {
    const { id } = parseInput(IdParams, params);
    const row = await this.resync.get(id);
    if (!row) throw new NotFoundException(`no resync request ${id}`);
    return row;
  }
}

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
import { OperatorActionsService } from './operator-actions.service';
import { Operator, OperatorAuthGuard } from './operator-auth.guard';
import { RepushService } from './repush.service';
import { ResyncService } from './resync.service';
import { SchemeStatusService } from './scheme-status.service';
import { IdParamsDto, RepushBodyDto, ResyncBodyDto, ResyncListQueryDto } from './operator-api.dto';
import { RepushView, ResyncCreatedView, ResyncRequestView, pageOf } from './operator-api.schema';
import { ApiRoute } from './api-route.decorator';

@Controller('api')
@UseGuards(OperatorAuthGuard)
export class RepushController {
  constructor(
    private readonly repushes: RepushService,
    private readonly resync: ResyncService,
    private readonly schemes: SchemeStatusService,
    private readonly actions: OperatorActionsService,
  ) {}

  @ApiRoute({
    operationId: 'repush',
    tag: 'repair',
    summary: 'Re-push failed or dead-lettered orders: read again from WDT by default',
    description:
      'Each order (of a dead letter, or failed / dead-lettered) becomes a request the extractor carries out: the ' +
      "order's current version is read from WDT and re-emitted past the fingerprint filter (trigger `repush`). A dead " +
      'letter whose order is already loaded is closed instead. With `payload: true` a dead letter from a Kafka topic is ' +
      're-published as parked (original bytes and key). `dryRun` answers the plan and `wdtCalls` without acting.',
    status: 200,
    response: RepushView,
    responseDescription: 'Outcome per item',
    errors: [400],
    role: 'operator',
  })
  @Post('repush')
  @HttpCode(200)
  async repush(@Body() body: RepushBodyDto, @Operator() by: string) {
    const request = body;
    await this.assertKnownScheme('schemeId', request.schemeId);
    await this.assertKnownScheme('all.schemeId', request.all?.schemeId);
    return this.repushes.repush(request, by);
  }

  @ApiRoute({
    operationId: 'requestResync',
    tag: 'repair',
    summary: 'Ask the extractor to re-fetch orders from WDT and re-emit them',
    status: 202,
    response: ResyncCreatedView,
    responseDescription: 'The resync requests (an already pending one is returned, not duplicated)',
    errors: [400],
    role: 'operator',
  })
  @Post('resync')
  @HttpCode(202)
  async requestResync(@Body() body: ResyncBodyDto, @Operator() by: string) {
    const { schemeId, orderNos } = body;
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

  @ApiRoute({
    operationId: 'listResync',
    tag: 'repair',
    summary: 'Resync requests, newest first',
    status: 200,
    response: pageOf(ResyncRequestView),
    responseDescription: 'A page of resync requests',
    errors: [400],
    role: 'viewer',
  })
  @Get('resync')
  async listResync(@Query() query: ResyncListQueryDto) {
    return this.resync.list(query);
  }

  @ApiRoute({
    operationId: 'getResync',
    tag: 'repair',
    summary: 'One resync request and its state',
    status: 200,
    response: ResyncRequestView,
    responseDescription: 'The resync request',
    errors: [400, 404],
    role: 'viewer',
  })
  @Get('resync/:id')
  async getResync(@Param() params: IdParamsDto) {
    const { id } = params;
    const row = await this.resync.get(id);
    if (!row) throw new NotFoundException(`no resync request ${id}`);
    return row;
  }
}

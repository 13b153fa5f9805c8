import { Controller, Get, HttpCode, Post, UseGuards } from '@nestjs/common';
import { BaseDataService } from './base-data.service';
import { OperatorActionsService } from './operator-actions.service';
import { Operator, OperatorAuthGuard } from './operator-auth.guard';
import { BaseDataCheckView, BaseDataWaitingView } from './operator-api.schema';
import { ApiRoute } from './api-route.decorator';

@Controller('api/base-data')
@UseGuards(OperatorAuthGuard)
export class BaseDataController {
  constructor(
    private readonly baseData: BaseDataService,
    private readonly actions: OperatorActionsService,
  ) {}

  @ApiRoute({
    operationId: 'listBaseDataWaiting',
    tag: 'repair',
    summary: 'Codes orders wait for in Kingdee base data (waiting_base_data), with the orders',
    description:
      'An order Kingdee refused only because of base data waits: one row per code and organisation with what holds ' +
      '(does not exist, not allocated to the organisation, forbidden, not audited). The loader re-checks them on a ' +
      'schedule and loads the orders by itself once usable.',
    status: 200,
    response: BaseDataWaitingView,
    responseDescription: 'Codes → orders, most-blocking first',
    role: 'viewer',
  })
  @Get('waiting')
  async waiting() {
    return this.baseData.waiting();
  }

  @ApiRoute({
    operationId: 'requestBaseDataCheck',
    tag: 'repair',
    summary: 'Ask the loader to check the codes orders wait for now',
    description:
      'Writes a request the loader picks up within seconds (the operator API never calls Kingdee); orders whose codes ' +
      'are usable are loaded through the normal path. The request is recorded as an action.',
    status: 202,
    response: BaseDataCheckView,
    responseDescription: 'The request',
    role: 'operator',
  })
  @Post('check')
  @HttpCode(202)
  async check(@Operator() by: string) {
    const request = await this.baseData.requestCheck(by);
    await this.actions.record({
      tokenName: by,
      action: 'base_data.check',
      target: request.id,
      outcome: 'requested',
    });
    return request;
  }
}

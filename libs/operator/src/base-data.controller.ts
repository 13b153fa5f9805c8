import { Controller, Get, HttpCode, Post, UseGuards } from '@nestjs/common';
import { BaseDataService } from './base-data.service';
import { OperatorActionsService } from './operator-actions.service';
import { Operator, OperatorAuthGuard } from './operator-auth.guard';
import { RequireRole } from './operator-role.decorator';

@Controller('api/base-data')
@UseGuards(OperatorAuthGuard)
export class BaseDataController {
  constructor(
    private readonly baseData: BaseDataService,
    private readonly actions: OperatorActionsService,
  ) {}

  @RequireRole('viewer')
  @Get('waiting')
  async waiting() {
    return this.baseData.waiting();
  }

  @RequireRole('operator')
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

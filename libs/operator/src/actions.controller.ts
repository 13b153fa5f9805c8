import { Controller, Get, Query, UseGuards } from '@nestjs/common';
import { OperatorActionsService } from './operator-actions.service';
import { OperatorAuthGuard } from './operator-auth.guard';
import { ActionsQueryDto } from './operator-api.dto';
import { ActionView, pageOf } from './operator-api.schema';
import { ApiRoute } from './api-route.decorator';

@Controller('api/actions')
@UseGuards(OperatorAuthGuard)
export class ActionsController {
  constructor(private readonly actions: OperatorActionsService) {}

  @ApiRoute({
    operationId: 'listActions',
    tag: 'audit',
    summary: 'Operator actions (who did what, when), newest first',
    status: 200,
    response: pageOf(ActionView),
    responseDescription: 'A page of actions',
    errors: [400],
    role: 'viewer',
  })
  @Get()
  async list(@Query() query: ActionsQueryDto) {
    return this.actions.list(query);
  }
}

import { Controller, Get, Query, UseGuards } from '@nestjs/common';
import { ActionsQuery } from './operator-api.schema';
import { OperatorActionsService } from './operator-actions.service';
import { OperatorAuthGuard } from './operator-auth.guard';
import { RequireRole } from './operator-role.decorator';
import { parseInput } from './validation.util';

@Controller('api/actions')
@UseGuards(OperatorAuthGuard)
export class ActionsController {
  constructor(private readonly actions: OperatorActionsService) {}

  @RequireRole('viewer')
  @Get()
  async list(@Query() query: unknown) {
    return this.actions.list(parseInput(ActionsQuery, query));
  }
}

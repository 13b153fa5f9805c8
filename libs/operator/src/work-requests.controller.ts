import { RequireRole } from './operator-role.decorator';
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
import { Operator, OperatorAuthGuard } from './operator-auth.guard';
import { parseInput } from './validation.util';
import {
  BackfillBody,
  PreviewBody,
  RangeRequestsQuery,
  ReplayBody,
  WorkRequestIdParams,
} from './work-requests.schema';
import { WorkRequestsService } from './work-requests.service';

@Controller('api')
@UseGuards(OperatorAuthGuard)
export class WorkRequestsController {
  constructor(private readonly requests: WorkRequestsService) {}

  @Post('replays')
  @RequireRole('operator')
  @HttpCode(202)
  async replay(@Body() body: unknown, @Operator() by: string) {
    const r = parseInput(ReplayBody, body);
    return this.requests.requestRange({ kind: 'replay', ...r }, by);
  }

  @Post('backfills')
  @RequireRole('operator')
  @HttpCode(202)
  async backfill(@Body() body: unknown, @Operator() by: string) {
    const r = parseInput(BackfillBody, body);
    return this.requests.requestRange({ kind: 'backfill', stage: 'extract', ...r }, by);
  }

  @Get('range-requests')
  @RequireRole('viewer')
  async list(@Query() query: unknown) {
    return this.requests.listRanges(parseInput(RangeRequestsQuery, query));
  }

  @Get('range-requests/:id')
  @RequireRole('viewer')
  async get(@Param() params: unknown) {
    const { id } = parseInput(WorkRequestIdParams, params);
    const row = await this.requests.getRange(id);
    if (!row) throw new NotFoundException(`no range request ${id}`);
    return row;
  }

  @Post('range-requests/:id/cancel')
  @RequireRole('operator')
  @HttpCode(200)
  async cancel(@Param() params: unknown, @Operator() by: string) {
    const { id } = parseInput(WorkRequestIdParams, params);
    return this.requests.cancel(id, by);
  }

  @Post('previews')
  @RequireRole('admin')
  @HttpCode(202)
  async preview(@Body() body: unknown, @Operator() by: string) {
    return this.requests.requestPreview(parseInput(PreviewBody, body), by);
  }

  @Get('previews/:id')
  @RequireRole('viewer')
  async getPreview(@Param() params: unknown) {
    const { id } = parseInput(WorkRequestIdParams, params);
    const row = await this.requests.getPreview(id);
    if (!row) throw new NotFoundException(`no preview ${id}`);
    return row;
  }
}

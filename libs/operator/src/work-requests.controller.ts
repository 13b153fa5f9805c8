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
import { WorkRequestsService } from './work-requests.service';
import {
  BackfillBodyDto,
  PreviewBodyDto,
  RangeRequestsQueryDto,
  ReplayBodyDto,
  WorkRequestIdParamsDto,
} from './operator-api.dto';
import { PreviewView, RangeRequestPage, RangeRequestView } from './work-requests.schema';
import { ApiRoute } from './api-route.decorator';

@Controller('api')
@UseGuards(OperatorAuthGuard)
export class WorkRequestsController {
  constructor(private readonly requests: WorkRequestsService) {}

  @ApiRoute({
    operationId: 'requestReplay',
    tag: 'repair',
    summary: 'Replay a time range through the transform or load stage',
    description:
      'Writes a request a transformer (stage transform) or loader (stage load) picks up; it reads the range of the ' +
      'raw or document topic with a fresh consumer group (live offsets untouched). Idempotent downstream: no bill ' +
      'is written twice. Recorded as an action.',
    status: 202,
    response: RangeRequestView,
    responseDescription: 'The queued request',
    errors: [400],
    role: 'operator',
  })
  @Post('replays')
  @HttpCode(202)
  async replay(@Body() body: ReplayBodyDto, @Operator() by: string) {
    const r = body;
    return this.requests.requestRange({ kind: 'replay', ...r }, by);
  }

  @ApiRoute({
    operationId: 'requestBackfill',
    tag: 'repair',
    summary: 'Backfill a time range of one scheme from WDT',
    description:
      'Writes a request the extractor leading the scheme picks up (under its WDT rate limit); the incremental cursor ' +
      'is left alone. Progress counts the records read; the total is known once the last window is read.',
    status: 202,
    response: RangeRequestView,
    responseDescription: 'The queued request',
    errors: [400],
    role: 'operator',
  })
  @Post('backfills')
  @HttpCode(202)
  async backfill(@Body() body: BackfillBodyDto, @Operator() by: string) {
    const r = body;
    return this.requests.requestRange({ kind: 'backfill', stage: 'extract', ...r }, by);
  }

  @ApiRoute({
    operationId: 'listRangeRequests',
    tag: 'repair',
    summary: 'Backfill and replay requests with their progress, newest first',
    status: 200,
    response: RangeRequestPage,
    responseDescription: 'A page of requests',
    errors: [400],
    role: 'viewer',
  })
  @Get('range-requests')
  async list(@Query() query: RangeRequestsQueryDto) {
    return this.requests.listRanges(query);
  }

  @ApiRoute({
    operationId: 'getRangeRequest',
    tag: 'repair',
    summary: 'One backfill or replay request with its progress',
    status: 200,
    response: RangeRequestView,
    responseDescription: 'The request',
    errors: [400, 404],
    role: 'viewer',
  })
  @Get('range-requests/:id')
  async get(@Param() params: WorkRequestIdParamsDto) {
    const { id } = params;
    const row = await this.requests.getRange(id);
    if (!row) throw new NotFoundException(`no range request ${id}`);
    return row;
  }

  @ApiRoute({
    operationId: 'cancelRangeRequest',
    tag: 'repair',
    summary: 'Cancel a backfill or replay',
    description:
      'A queued request ends cancelled at once; a running one is stopped by its worker within seconds (what it ' +
      'emitted stays). 409 when it already ended. Recorded as an action.',
    status: 200,
    response: RangeRequestView,
    responseDescription: 'The request',
    errors: [400, 404, 409],
    role: 'operator',
  })
  @Post('range-requests/:id/cancel')
  @HttpCode(200)
  async cancel(@Param() params: WorkRequestIdParamsDto, @Operator() by: string) {
    const { id } = params;
    return this.requests.cancel(id, by);
  }

  @ApiRoute({
    operationId: 'requestPreview',
    tag: 'schemes',
    summary: 'Live preview: what a scheme (or a draft of it) makes of one record',
    description:
      'Exactly one of orderNo (the extractor leading the scheme reads it from WDT) and record (mapped at once). ' +
      'Shows the BatchSave body it would send, every precondition with whether it passes, and the referenced ' +
      'codes, which a loader checks in Kingdee (missing, forbidden, unallocated). Personal data masked. A draft ' +
      'that does not validate: 400 with `issues`. Poll GET /api/previews/{id} until state is done or failed.',
    status: 202,
    response: PreviewView,
    responseDescription: 'The preview',
    errors: [400],
    role: 'admin',
  })
  @Post('previews')
  @HttpCode(202)
  async preview(@Body() body: PreviewBodyDto, @Operator() by: string) {
    return this.requests.requestPreview(body, by);
  }

  @ApiRoute({
    operationId: 'getPreview',
    tag: 'schemes',
    summary: 'A live preview',
    status: 200,
    response: PreviewView,
    responseDescription: 'The preview',
    errors: [400, 404],
    role: 'viewer',
  })
  @Get('previews/:id')
  async getPreview(@Param() params: WorkRequestIdParamsDto) {
    const { id } = params;
    const row = await this.requests.getPreview(id);
    if (!row) throw new NotFoundException(`no preview ${id}`);
    return row;
  }
}

import { Body, Controller, Get, HttpCode, Param, Post, Query, Res, UseGuards } from '@nestjs/common';
import type { Response } from 'express';
import { Operator, OperatorAuthGuard } from './operator-auth.guard';
import { ReconciliationsService } from './reconciliations.service';
import {
  ExportQueryDto,
  FindingsQueryDto,
  ReconcileRequestBodyDto,
  ReconcileRunIdParamsDto,
  ReconcileRunsQueryDto,
  RepushFindingsBodyDto,
} from './operator-api.dto';
import { z } from 'zod';
import {
  FindingPage,
  ReconcileRunList,
  ReconcileRunPage,
  ReconcileRunView,
  RepushFindingsResult,
} from './reconciliations.schema';
import { ApiRoute } from './api-route.decorator';

@Controller('api')
@UseGuards(OperatorAuthGuard)
export class ReconciliationsController {
  constructor(private readonly reconciliations: ReconciliationsService) {}

  @ApiRoute({
    operationId: 'listReconciliations',
    tag: 'reconciliation',
    summary: 'The latest reconciliation run per scheme, or one scheme’s runs',
    description:
      'Without schemeId: every known scheme with its schedule, newest run and newest finished run (counts per ' +
      'class). With schemeId: that scheme’s runs, newest first, paged.',
    status: 200,
    response: z.union([ReconcileRunList, ReconcileRunPage]),
    responseDescription: 'Latest runs per scheme, or a page of runs',
    errors: [400],
    role: 'viewer',
  })
  @Get('reconciliations')
  async list(@Query() query: ReconcileRunsQueryDto) {
    const q = query;
    if (q.schemeId !== undefined) return this.reconciliations.runsOf(q.schemeId, q.limit, q.offset);
    return this.reconciliations.latestPerScheme();
  }

  @ApiRoute({
    operationId: 'requestReconciliation',
    tag: 'reconciliation',
    summary: 'Reconcile a scheme over a period of consign time',
    description:
      'Queues a run a reconciler carries out: it reads WDT (background priority) and Kingdee for the period and ' +
      'classifies every order and bill. Read its progress with GET /api/reconciliations/{id}. Recorded as an action.',
    status: 201,
    response: ReconcileRunView,
    responseDescription: 'The queued run',
    errors: [400],
    role: 'operator',
  })
  @Post('reconciliations')
  @HttpCode(201)
  async request(@Body() body: ReconcileRequestBodyDto, @Operator() by: string) {
    return this.reconciliations.request(body, by);
  }

  @ApiRoute({
    operationId: 'getReconciliation',
    tag: 'reconciliation',
    summary: 'A run: state, progress and counts per class',
    status: 200,
    response: ReconcileRunView,
    responseDescription: 'The run',
    errors: [400, 404],
    role: 'viewer',
  })
  @Get('reconciliations/:id')
  async get(@Param() params: ReconcileRunIdParamsDto) {
    const { id } = params;
    return this.reconciliations.getOrThrow(id);
  }

  @ApiRoute({
    operationId: 'cancelReconciliation',
    tag: 'reconciliation',
    summary: 'Cancel a queued or running run',
    description: 'A queued run ends cancelled at once; a running one stops at its next step.',
    status: 200,
    response: ReconcileRunView,
    responseDescription: 'The run',
    errors: [400, 404, 409],
    role: 'operator',
  })
  @Post('reconciliations/:id/cancel')
  @HttpCode(200)
  async cancel(@Param() params: ReconcileRunIdParamsDto, @Operator() by: string) {
    const { id } = params;
    return this.reconciliations.cancel(id, by);
  }

  @ApiRoute({
    operationId: 'listReconciliationFindings',
    tag: 'reconciliation',
    summary: 'A run’s findings (every class but matched), in key order',
    status: 200,
    response: FindingPage,
    responseDescription: 'A page of findings',
    errors: [400, 404],
    role: 'viewer',
  })
  @Get('reconciliations/:id/findings')
  async findings(@Param() params: ReconcileRunIdParamsDto, @Query() query: FindingsQueryDto) {
    const { id } = params;
    return this.reconciliations.findings(id, query);
  }

  /** Built in memory: findings are narrow rows, and a run that disagrees everywhere is capped. */
  @ApiRoute({
    operationId: 'exportReconciliation',
    tag: 'reconciliation',
    summary: 'A run’s findings as an Excel workbook or CSV',
    description:
      'xlsx: a 汇总 summary sheet, then one sheet per class with Chinese headers, every value a text cell (bill and ' +
      'order numbers keep leading zeros); a differs finding is one row per field. csv: the same rows with a 类别 ' +
      'column, UTF-8 with a BOM.',
    status: 200,
    contentType: 'application/octet-stream',
    responseDescription: 'The file (Content-Disposition names it)',
    errors: [400, 404],
    role: 'viewer',
  })
  @Get('reconciliations/:id/export')
  async export(
    @Param() params: ReconcileRunIdParamsDto,
    @Query() query: ExportQueryDto,
    @Res() res: Response,
  ): Promise<void> {
    const { id } = params;
    const { format } = query;
    const file = await this.reconciliations.exportFile(id, format);
    res
      .status(200)
      .setHeader('Content-Type', file.contentType)
      .setHeader('Content-Disposition', `attachment; filename="${file.name}"`)
      .setHeader('X-Exported-Count', String(file.rows))
      .send(file.body);
  }

  @ApiRoute({
    operationId: 'repushReconciliationFindings',
    tag: 'reconciliation',
    summary: 'Re-push missing and differing bills of a run',
    description:
      'Marks the findings for the reconciler, which looks in Kingdee again first: a missing bill is written once ' +
      '(claim freed, order read again from WDT); a bill only un-audited is submitted and audited again; a bill whose ' +
      'content differs is never overwritten (refused, naming the fields). Each finding shows the outcome. Recorded ' +
      'as an action.',
    bodyRequired: false,
    status: 200,
    response: RepushFindingsResult,
    responseDescription: 'How many were requested, and the rest with why',
    errors: [400, 404, 409],
    role: 'operator',
  })
  @Post('reconciliations/:id/repush')
  @HttpCode(200)
  async repush(
    @Param() params: ReconcileRunIdParamsDto,
    @Body() body: RepushFindingsBodyDto,
    @Operator() by: string,
  ) {
    const { id } = params;
    return this.reconciliations.repush(id, body, by);
  }
}

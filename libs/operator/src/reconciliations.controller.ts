import { Body, Controller, Get, HttpCode, Param, Post, Query, Res, UseGuards } from '@nestjs/common';
import type { Response } from 'express';
import { Operator, OperatorAuthGuard } from './operator-auth.guard';
import { RequireRole } from './operator-role.decorator';
import {
  ExportQuery,
  FindingsQuery,
  ReconcileRequestBody,
  ReconcileRunIdParams,
  ReconcileRunsQuery,
  RepushFindingsBody,
} from './reconciliations.schema';
import { ReconciliationsService } from './reconciliations.service';
import { parseInput } from './validation.util';

@Controller('api')
@UseGuards(OperatorAuthGuard)
export class ReconciliationsController {
  constructor(private readonly reconciliations: ReconciliationsService) {}

  @Get('reconciliations')
  @RequireRole('viewer')
  async list(@Query() query: unknown) {
    const q = parseInput(ReconcileRunsQuery, query);
    if (q.schemeId !== undefined) return this.reconciliations.runsOf(q.schemeId, q.limit, q.offset);
    return this.reconciliations.latestPerScheme();
  }

  @Post('reconciliations')
  @RequireRole('operator')
  @HttpCode(201)
  async request(@Body() body: unknown, @Operator() by: string) {
    return this.reconciliations.request(parseInput(ReconcileRequestBody, body), by);
  }

  @Get('reconciliations/:id')
  @RequireRole('viewer')
  async get(@Param() params: unknown) {
    const { id } = parseInput(ReconcileRunIdParams, params);
    return this.reconciliations.getOrThrow(id);
  }

  @Post('reconciliations/:id/cancel')
  @RequireRole('operator')
  @HttpCode(200)
  async cancel(@Param() params: unknown, @Operator() by: string) {
    const { id } = parseInput(ReconcileRunIdParams, params);
    return this.reconciliations.cancel(id, by);
  }

  @Get('reconciliations/:id/findings')
  @RequireRole('viewer')
  async findings(@Param() params: unknown, @Query() query: unknown) {
    const { id } = parseInput(ReconcileRunIdParams, params);
    return this.reconciliations.findings(id, parseInput(FindingsQuery, query));
  }

  /** Built in memory: findings are narrow rows, and a run that disagrees everywhere is capped. */
  @Get('reconciliations/:id/export')
  @RequireRole('viewer')
  async export(@Param() params: unknown, @Query() query: unknown, @Res() res: Response): Promise<void> {
    const { id } = parseInput(ReconcileRunIdParams, params);
    const { format } = parseInput(ExportQuery, query);
    const file = await this.reconciliations.exportFile(id, format);
    res
      .status(200)
      .setHeader('Content-Type', file.contentType)
      .setHeader('Content-Disposition', `attachment; filename="${file.name}"`)
      .setHeader('X-Exported-Count', String(file.rows))
      .send(file.body);
  }

  @Post('reconciliations/:id/repush')
  @RequireRole('operator')
  @HttpCode(200)
  async repush(@Param() params: unknown, @Body() body: unknown, @Operator() by: string) {
    const { id } = parseInput(ReconcileRunIdParams, params);
    return this.reconciliations.repush(id, parseInput(RepushFindingsBody, body ?? {}), by);
  }
}

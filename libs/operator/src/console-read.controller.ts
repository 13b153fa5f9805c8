import { Controller, Get, Inject, Query, Req, Res, UseGuards } from '@nestjs/common';
import type { Request, Response } from 'express';
import { Workbook } from 'exceljs';
import { Clock, formatShanghai, formatShanghaiDate } from '@libs/common';
import { AuditQueryService } from './audit-query.service';
import { ConsoleReadService } from './console-read.service';
import { Lang } from './failure-groups.util';
import { OperatorAuthGuard } from './operator-auth.guard';
import { OPERATOR_CLOCK } from './operator.tokens';
import { maskPii } from './pii-mask.util';
import { FailureGroupsQueryDto, OrdersExportQueryDto, OverviewQueryDto } from './operator-api.dto';
import { FailureGroupsView, OverviewView } from './console-read.schema';
import { ApiRoute } from './api-route.decorator';

/** Most rows one export holds (the console says so when a filter matches more). */
export const EXPORT_MAX_ROWS = 50_000;

/** zh-CN unless the client prefers English (Accept-Language, negotiated by Express). */
export function languageOf(req: Request): Lang {
  const best = req.acceptsLanguages('zh-CN', 'zh', 'en');
  return typeof best === 'string' && best.startsWith('en') ? 'en' : 'zh-CN';
}

const EXPORT_COLUMNS: Array<{ header: string; key: string; width: number }> = [
  { header: 'scheme', key: 'schemeId', width: 36 },
  { header: 'orderNo', key: 'sourceKey', width: 22 },
  { header: 'status', key: 'status', width: 18 },
  { header: 'stage', key: 'stage', width: 12 },
  { header: 'billNumber', key: 'kingdeeNumber', width: 18 },
  { header: 'billState', key: 'billState', width: 10 },
  { header: 'attempts', key: 'attempts', width: 9 },
  { header: 'errorField', key: 'errorField', width: 16 },
  { header: 'errorMessage', key: 'errorMessage', width: 60 },
  { header: 'reason', key: 'reason', width: 40 },
  { header: 'sourceVersion', key: 'sourceVersion', width: 42 },
  { header: 'lastOccurredAt', key: 'lastOccurredAt', width: 20 },
  { header: 'firstSeenAt', key: 'firstSeenAt', width: 20 },
];

@Controller('api')
@UseGuards(OperatorAuthGuard)
export class ConsoleReadController {
  constructor(
    private readonly reads: ConsoleReadService,
    private readonly audit: AuditQueryService,
    @Inject(OPERATOR_CLOCK) private readonly clock: Clock,
  ) {}

  @ApiRoute({
    operationId: 'getOverview',
    tag: 'console',
    summary: 'Schemes with their state, series and latency per bucket, backlog per stage, failure groups',
    description:
      'Series count orders reaching loaded/failed/skipped/dead_lettered per bucket (audit history); latency is ' +
      'WDT `modified` of the loaded version to the loaded event. Labels follow Accept-Language (zh-CN default, en).',
    status: 200,
    response: OverviewView,
    responseDescription: 'The overview',
    errors: [400],
    role: 'viewer',
  })
  @Get('overview')
  async overview(@Query() query: OverviewQueryDto, @Req() req: Request) {
    return maskPii(await this.reads.overview(query, languageOf(req)));
  }

  @ApiRoute({
    operationId: 'listFailureGroups',
    tag: 'console',
    summary: 'Orders that need a person, grouped by cause (largest first)',
    description:
      'Key: status + error class + field + failing value (e.g. the missing supplier code), else Kingdee’s message ' +
      'with numbers normalised. `label` in the language of Accept-Language (zh-CN default, en).',
    status: 200,
    response: FailureGroupsView,
    responseDescription: 'The groups',
    errors: [400],
    role: 'viewer',
  })
  @Get('failure-groups')
  async failureGroups(@Query() query: FailureGroupsQueryDto, @Req() req: Request) {
    return { items: await this.reads.failureGroups(query, languageOf(req)) };
  }

  /**
   * The filtered orders list as a file: CSV (UTF-8 with a BOM, so Excel in zh-CN Windows reads it
   * as UTF-8) or XLSX, built in memory (≤ 50,000 narrow rows: a few MB). Times in Shanghai wall-clock.
   */
  @ApiRoute({
    operationId: 'exportAuditOrders',
    tag: 'audit',
    summary: 'The filtered orders list as CSV (UTF-8 with BOM) or XLSX, at most 50,000 rows, PII masked',
    description:
      'Same filters as listAuditOrders. Headers: `X-Total-Count` (orders matching), `X-Exported-Count` (rows in the file).',
    status: 200,
    contentType: 'application/octet-stream',
    responseDescription: 'The file (Content-Disposition names it with the date)',
    errors: [400],
    role: 'viewer',
  })
  @Get('audit/orders/export')
  async exportOrders(@Query() query: OrdersExportQueryDto, @Res() res: Response): Promise<void> {
    const { format, ...filter } = query;
    const rows = maskPii(await this.reads.exportRows(filter, EXPORT_MAX_ROWS), this.audit.piiKeys());
    const total = await this.audit.countOrders(filter);
    const wb = new Workbook();
    const sheet = wb.addWorksheet('orders');
    sheet.columns = EXPORT_COLUMNS;
    for (const row of rows)
      sheet.addRow(
        Object.fromEntries(
          EXPORT_COLUMNS.map(({ key }) => {
            const v = row[key];
            return [key, v instanceof Date ? formatShanghai(v.getTime()) : (v ?? '')];
          }),
        ),
      );
    const name = `orders-${formatShanghaiDate(this.clock.now())}.${format}`;
    const body =
      format === 'xlsx'
        ? Buffer.from(await wb.xlsx.writeBuffer())
        : Buffer.concat([Buffer.from('\uFEFF', 'utf8'), Buffer.from(await wb.csv.writeBuffer())]);
    res
      .status(200)
      .setHeader(
        'Content-Type',
        format === 'xlsx'
          ? 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'
          : 'text/csv; charset=utf-8',
      )
      .setHeader('Content-Disposition', `attachment; filename="${name}"`)
      // More matched than one file holds: the console tells the person to narrow the filter.
      .setHeader('X-Total-Count', String(total))
      .setHeader('X-Exported-Count', String(rows.length))
      .send(body);
  }
}

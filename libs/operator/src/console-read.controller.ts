import { RequireRole } from './operator-role.decorator';
import { Controller, Get, Inject, Query, Req, Res, UseGuards } from '@nestjs/common';
import type { Request, Response } from 'express';
import { Workbook } from 'exceljs';
import { Clock, formatShanghai, formatShanghaiDate } from '@libs/common';
import { AuditQueryService } from './audit-query.service';
import { FailureGroupsQuery, OrdersExportQuery, OverviewQuery } from './console-read.schema';
import { ConsoleReadService } from './console-read.service';
import { Lang } from './failure-groups.util';
import { OperatorAuthGuard } from './operator-auth.guard';
import { OPERATOR_CLOCK } from './operator.tokens';
import { maskPii } from './pii-mask.util';
import { parseInput } from './validation.util';

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

  @Get('overview')
  @RequireRole('viewer')
  async overview(@Query() query: unknown, @Req() req: Request) {
    return maskPii(await this.reads.overview(parseInput(OverviewQuery, query), languageOf(req)));
  }

  @Get('failure-groups')
  @RequireRole('viewer')
  async failureGroups(@Query() query: unknown, @Req() req: Request) {
    return { items: await this.reads.failureGroups(parseInput(FailureGroupsQuery, query), languageOf(req)) };
  }

  /**
   * The filtered orders list as a file: CSV (UTF-8 with a BOM, so Excel in zh-CN Windows reads it
   * as UTF-8) or XLSX, built in memory (≤ 50,000 narrow rows: a few MB). Times in Shanghai wall-clock.
   */
  @Get('audit/orders/export')
  @RequireRole('viewer')
  async exportOrders(@Query() query: unknown, @Res() res: Response): Promise<void> {
    const { format, ...filter } = parseInput(OrdersExportQuery, query);
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

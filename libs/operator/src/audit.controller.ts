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
import { AuditQueryService } from './audit-query.service';
import { ConsoleReadService } from './console-read.service';
import { OrderActionsService } from './order-actions.service';
import { ResyncService } from './resync.service';
import { OperatorActionsService } from './operator-actions.service';
import { Operator, OperatorAuthGuard } from './operator-auth.guard';
import { maskPii } from './pii-mask.util';
import {
  AuditOrderQueryDto,
  AuditStatsQueryDto,
  CloseOrderBodyDto,
  ConsoleOrdersQueryDto,
  LinkBillBodyDto,
  OrderNoParamsDto,
} from './operator-api.dto';
import { z } from 'zod';
import { StatsView } from './operator-api.schema';
import { ConsoleAuditOrderDetailView, ConsoleOrdersPageView } from './console-read.schema';
import { ApiRoute } from './api-route.decorator';

@Controller('api/audit')
@UseGuards(OperatorAuthGuard)
export class AuditController {
  constructor(
    private readonly audit: AuditQueryService,
    private readonly actions: OperatorActionsService,
    private readonly orderActions: OrderActionsService,
    private readonly resync: ResyncService,
    private readonly reads: ConsoleReadService,
  ) {}

  /** Links the order to a bill a person found in Kingdee: nobody writes it again. */
  @ApiRoute({
    operationId: 'linkBill',
    tag: 'audit',
    summary:
      'Link an order to a bill a person found in Kingdee: its claim records it and nobody writes it again',
    status: 200,
    response: z.object({
      schemeId: z.string(),
      orderNo: z.string(),
      bill: z.object({ state: z.literal('audited'), number: z.string() }),
    }),
    responseDescription: 'The order holds the bill',
    errors: [400, 404, 409],
    role: 'operator',
  })
  @Post('orders/:orderNo/link')
  @HttpCode(200)
  async link(@Param() params: OrderNoParamsDto, @Body() body: LinkBillBodyDto, @Operator() by: string) {
    const { orderNo } = params;
    const { schemeId, number, kingdeeId, reason } = body;
    return this.orderActions.link(schemeId, orderNo, { number, kingdeeId }, reason, by);
  }

  /** A person checked Kingdee and no bill of the order exists: one write is allowed, the order is read again. */
  @ApiRoute({
    operationId: 'confirmBillAbsent',
    tag: 'audit',
    summary:
      'Confirm no bill of the order exists in Kingdee (settling, conflict or duplicate in ERP, failed): one write is allowed and the order is read again',
    status: 200,
    response: z.object({
      schemeId: z.string(),
      orderNo: z.string(),
      claim: z.literal('free'),
      resyncRequestId: z.string(),
    }),
    responseDescription: 'The claim is free and a re-read is requested',
    errors: [400, 404, 409],
    role: 'operator',
  })
  @Post('orders/:orderNo/confirm-absent')
  @HttpCode(200)
  async confirmAbsent(
    @Param() params: OrderNoParamsDto,
    @Body() body: CloseOrderBodyDto,
    @Operator() by: string,
  ) {
    const { orderNo } = params;
    const { schemeId, reason } = body;
    return this.orderActions.confirmAbsent(schemeId, orderNo, reason, by, (s, o) =>
      this.resync.request(s, o, by, undefined, 'repush'),
    );
  }

  /** Tries Submit/Audit of a saved bill again at once. */
  @ApiRoute({
    operationId: 'retryAudit',
    tag: 'audit',
    summary: 'Try Submit/Audit of a saved, not yet audited bill again at once',
    status: 200,
    response: z.object({ schemeId: z.string(), orderNo: z.string(), retrying: z.literal(true) }),
    responseDescription: 'The settler retries at its next pass',
    errors: [400, 404, 409],
    role: 'operator',
  })
  @Post('orders/:orderNo/retry-audit')
  @HttpCode(200)
  async retryAudit(
    @Param() params: OrderNoParamsDto,
    @Body() body: CloseOrderBodyDto,
    @Operator() by: string,
  ) {
    const { orderNo } = params;
    const { schemeId, reason } = body;
    return this.orderActions.retryAudit(schemeId, orderNo, reason, by);
  }

  /** Closes the order's latest version with a reason (its bill, if any, stays as it is). */
  @ApiRoute({
    operationId: 'closeOrder',
    tag: 'audit',
    summary:
      "Close an order's latest version with a reason; its bill (if any) stays; a newer version reopens it",
    status: 200,
    response: z.object({
      schemeId: z.string(),
      orderNo: z.string(),
      status: z.literal('closed'),
      closedDeadLetters: z.number().int(),
    }),
    responseDescription: 'The order is closed',
    errors: [400, 404],
    role: 'operator',
  })
  @Post('orders/:orderNo/close')
  @HttpCode(200)
  async close(@Param() params: OrderNoParamsDto, @Body() body: CloseOrderBodyDto, @Operator() by: string) {
    const { orderNo } = params;
    const { schemeId, reason } = body;
    return this.orderActions.closeOrder(schemeId, orderNo, reason, by);
  }

  @ApiRoute({
    operationId: 'getAuditOrder',
    tag: 'audit',
    summary: "An order's audit rows (one per scheme) and its history, newest first",
    description:
      'limit/offset page the history. Also lists the dead letters and resync requests of the order.',
    status: 200,
    response: ConsoleAuditOrderDetailView,
    responseDescription: 'The order',
    errors: [400, 404],
    role: 'viewer',
  })
  @Get('orders/:orderNo')
  async order(@Param() params: OrderNoParamsDto, @Query() query: AuditOrderQueryDto, @Operator() by: string) {
    const { orderNo } = params;
    const q = query;
    const found = await this.audit.order(orderNo, q);
    if (!found) throw new NotFoundException(`no audit record of order ${orderNo}`);
    // Each scheme's row with its versions (record, document), Kingdee's last reply and, when the
    // order changed after load, what changed.
    const extras = await this.reads.orderExtras(orderNo, found.orders);
    const result = {
      ...found,
      orders: found.orders.map((o) => ({ ...o, ...extras.get(String(o.schemeId)) })),
    };
    if (q.reveal !== 'pii') return maskPii(result, this.audit.piiKeys());
    await this.actions.record({
      tokenName: by,
      action: 'reveal_pii',
      target: `audit/orders/${orderNo}`,
      outcome: 'ok',
    });
    return result;
  }

  @ApiRoute({
    operationId: 'listAuditOrders',
    tag: 'audit',
    summary:
      'Orders by status, scheme, stage, part of the order number and time (on last_occurred_at), newest first',
    status: 200,
    response: ConsoleOrdersPageView,
    responseDescription: 'A page of orders',
    errors: [400],
    role: 'viewer',
  })
  @Get('orders')
  async orders(@Query() query: ConsoleOrdersQueryDto) {
    const q = query;
    const [page, total] = await Promise.all([this.audit.orders(q), this.audit.countOrders(q)]);
    return maskPii({ ...page, total }, this.audit.piiKeys());
  }

  @ApiRoute({
    operationId: 'getAuditStats',
    tag: 'audit',
    summary: 'Orders per status, dead letters per state, pending resyncs, loader circuit, recent actions',
    status: 200,
    response: StatsView,
    responseDescription: 'Counts',
    errors: [400],
    role: 'viewer',
  })
  @Get('stats')
  async stats(@Query() query: AuditStatsQueryDto) {
    return maskPii(await this.audit.stats(query));
  }
}

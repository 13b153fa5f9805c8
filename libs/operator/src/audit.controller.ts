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
import { ConsoleOrdersQuery } from './console-read.schema';
import { ConsoleReadService } from './console-read.service';
import {
  AuditOrderQuery,
  AuditStatsQuery,
  CloseOrderBody,
  LinkBillBody,
  OrderNoParams,
} from './operator-api.schema';
import { OrderActionsService } from './order-actions.service';
import { ResyncService } from './resync.service';
import { OperatorActionsService } from './operator-actions.service';
import { Operator, OperatorAuthGuard } from './operator-auth.guard';
import { RequireRole } from './operator-role.decorator';
import { maskPii } from './pii-mask.util';
import { parseInput } from './validation.util';

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
  @RequireRole('operator')
  @Post('orders/:orderNo/link')
  @HttpCode(200)
  async link(@Param() params: unknown, @Body() body: unknown, @Operator() by: string) {
    const { orderNo } = parseInput(OrderNoParams, params);
    const { schemeId, number, kingdeeId, reason } = parseInput(LinkBillBody, body);
    return this.orderActions.link(schemeId, orderNo, { number, kingdeeId }, reason, by);
  }

  /** A person checked Kingdee and no bill of the order exists: one write is allowed, the order is read again. */
  @RequireRole('operator')
  @Post('orders/:orderNo/confirm-absent')
  @HttpCode(200)
  async confirmAbsent(@Param() params: unknown, @Body() body: unknown, @Operator() by: string) {
    const { orderNo } = parseInput(OrderNoParams, params);
    const { schemeId, reason } = parseInput(CloseOrderBody, body);
    return this.orderActions.confirmAbsent(schemeId, orderNo, reason, by, (s, o) =>
      this.resync.request(s, o, by, undefined, 'repush'),
    );
  }

  /** Tries Submit/Audit of a saved bill again at once. */
  @RequireRole('operator')
  @Post('orders/:orderNo/retry-audit')
  @HttpCode(200)
  async retryAudit(@Param() params: unknown, @Body() body: unknown, @Operator() by: string) {
    const { orderNo } = parseInput(OrderNoParams, params);
    const { schemeId, reason } = parseInput(CloseOrderBody, body);
    return this.orderActions.retryAudit(schemeId, orderNo, reason, by);
  }

  /** Closes the order's latest version with a reason (its bill, if any, stays as it is). */
  @RequireRole('operator')
  @Post('orders/:orderNo/close')
  @HttpCode(200)
  async close(@Param() params: unknown, @Body() body: unknown, @Operator() by: string) {
    const { orderNo } = parseInput(OrderNoParams, params);
    const { schemeId, reason } = parseInput(CloseOrderBody, body);
    return this.orderActions.closeOrder(schemeId, orderNo, reason, by);
  }

  @RequireRole('viewer')
  @Get('orders/:orderNo')
  async order(@Param() params: unknown, @Query() query: unknown, @Operator() by: string) {
    const { orderNo } = parseInput(OrderNoParams, params);
    const q = parseInput(AuditOrderQuery, query);
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

  @RequireRole('viewer')
  @Get('orders')
  async orders(@Query() query: unknown) {
    const q = parseInput(ConsoleOrdersQuery, query);
    const [page, total] = await Promise.all([this.audit.orders(q), this.audit.countOrders(q)]);
    return maskPii({ ...page, total }, this.audit.piiKeys());
  }

  @RequireRole('viewer')
  @Get('stats')
  async stats(@Query() query: unknown) {
    return maskPii(await this.audit.stats(parseInput(AuditStatsQuery, query)));
  }
}

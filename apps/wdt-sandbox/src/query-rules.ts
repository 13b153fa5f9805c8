import { parseShanghai } from '@libs/common';
import { StockoutFilter, TimeAxisMode } from './order-store';

export interface QueryLimits {
  maxPageSize: number;
  defaultPageSize: number;
  maxWindowDays: number;
  axisMode: TimeAxisMode;
}

export type ParsedQuery =
  { ok: true; filter: StockoutFilter; pageNo: number; pageSize: number } | { ok: false; message: string };

const TIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;
const INT = /^\d+$/;
const DAY_MS = 86_400_000;

/**
 * Business rules of `wdt.stockout.order.query.return`, shared by both gateways: start_time/end_time
 * required (closed interval, span ≤ 30 days), page_no from 0, page_size within the gateway's limit,
 * optional filters. Messages are Chinese like WDT's.
 */
export function parseStockoutQuery(
  params: Readonly<Record<string, string>>,
  limits: QueryLimits,
): ParsedQuery {
  const fail = (message: string): ParsedQuery => ({ ok: false, message });
  const times: number[] = [];
  for (const key of ['start_time', 'end_time']) {
    const value = params[key];
    if (value === undefined || value === '') return fail(`缺少参数${key}`);
    const ms = TIME.test(value) ? parseShanghai(value) : undefined;
    if (ms === undefined) return fail(`参数${key}格式错误，应为yyyy-MM-dd HH:mm:ss`);
    times.push(ms);
  }
  const [startMs, endMs] = times;
  if (endMs < startMs) return fail('end_time不能早于start_time');
  if (endMs - startMs > limits.maxWindowDays * DAY_MS) {
    return fail(`查询时间跨度不能超过${limits.maxWindowDays}天`);
  }

  let status: number | undefined;
  if (params.status !== undefined && params.status !== '') {
    if (!INT.test(params.status)) return fail('参数status格式错误');
    status = Number(params.status);
  }
  const pageNoText = params.page_no ?? '0';
  if (!INT.test(pageNoText)) return fail('参数page_no格式错误，从0开始');
  const pageSizeText = params.page_size ?? String(limits.defaultPageSize);
  if (!INT.test(pageSizeText)) return fail('参数page_size格式错误');
  const pageSize = Number(pageSizeText);
  if (pageSize < 1 || pageSize > limits.maxPageSize)
    return fail(`page_size超出范围(1-${limits.maxPageSize})`);

  const optional = (key: string): string | undefined =>
    params[key] === undefined || params[key] === '' ? undefined : params[key];
  return {
    ok: true,
    pageNo: Number(pageNoText),
    pageSize,
    filter: {
      startMs,
      endMs,
      status,
      warehouseNo: optional('warehouse_no'),
      srcOrderNo: optional('src_order_no'),
      outerNo: optional('outer_no'),
      stockoutNo: optional('stockout_no'),
      axisMode: limits.axisMode,
    },
  };
}

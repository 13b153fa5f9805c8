import { formatShanghai, parseShanghai } from '@libs/common';
import { WdtGateway, WdtInvalidParamsError } from './wdt-client.errors';
import { WDT_METHOD_STOCKOUT_QUERY_RETURN } from './wdt-client.options';
import { TopSignMethod, nativeSign, omitEmptyParams, topSign } from './wdt-sign.util';

/** Business parameters of `wdt.stockout.order.query.return` (camelCase here, snake_case on the wire). */
export interface StockoutReturnQuery {
  /** `yyyy-MM-dd HH:mm:ss`, Shanghai wall clock; closed interval; span ≤ 30 days (checked by WDT). */
  startTime: string;
  endTime: string;
  /** 5 cancelled, 50 pending review, 55 reviewed, 95 shipped, 110 completed; omitted → 95 and 110. */
  status?: number | string;
  warehouseNo?: string;
  srcOrderNo?: string;
  outerNo?: string;
  stockoutNo?: string;
  /** From 0. */
  pageNo?: number;
  pageSize?: number;
  /** Extra wire params passed through as-is (empty values are not sent). */
  extraParams?: Readonly<Record<string, string>>;
}

export const WIRE_TIME_FORMAT = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;

function invalid(gateway: WdtGateway, message: string): never {
  throw new WdtInvalidParamsError(`WDT ${gateway} query rejected before sending: ${message}`, {
    gateway,
    reason: 'client_validation',
  });
}

/** Validates the query and turns it into wire params (empty ones dropped). */
export function toBusinessParams(
  query: StockoutReturnQuery,
  gateway: WdtGateway,
  defaults: { pageSize: number; maxPageSize: number },
): Record<string, string> {
  for (const key of ['startTime', 'endTime'] as const) {
    const value = query[key];
    if (typeof value !== 'string' || !WIRE_TIME_FORMAT.test(value) || parseShanghai(value) === undefined) {
      invalid(gateway, `${key} must be "yyyy-MM-dd HH:mm:ss"`);
    }
  }
  const pageNo = query.pageNo ?? 0;
  if (!Number.isSafeInteger(pageNo) || pageNo < 0) invalid(gateway, 'pageNo must be an integer >= 0');
  const pageSize = query.pageSize ?? defaults.pageSize;
  if (!Number.isSafeInteger(pageSize) || pageSize < 1 || pageSize > defaults.maxPageSize) {
    invalid(gateway, `pageSize must be an integer in 1..${defaults.maxPageSize}`);
  }
  if (query.status !== undefined && !/^\d+$/.test(String(query.status))) {
    invalid(gateway, 'status must be an integer');
  }
  return omitEmptyParams({
    ...query.extraParams,
    start_time: query.startTime,
    end_time: query.endTime,
    status: query.status === undefined ? undefined : String(query.status),
    warehouse_no: query.warehouseNo,
    src_order_no: query.srcOrderNo,
    outer_no: query.outerNo,
    stockout_no: query.stockoutNo,
    page_no: String(pageNo),
    page_size: String(pageSize),
  });
}

export interface SignedForm {
  /** Every param that is sent, `sign` included (never the secret). */
  params: Record<string, string>;
  /** `application/x-www-form-urlencoded` body. */
  body: string;
}

const encode = (params: Record<string, string>): string => new URLSearchParams(params).toString();

/** Native open API request: business params + `sid`, `appkey`, `timestamp` (unix seconds) + `sign`. */
export function buildNativeForm(
  business: Readonly<Record<string, string>>,
  auth: { sid: string; appkey: string; appsecret: string },
  nowMs: number,
): SignedForm {
  const params = omitEmptyParams({
    ...business,
    sid: auth.sid,
    appkey: auth.appkey,
    timestamp: String(Math.floor(nowMs / 1000)),
  });
  const signed = { ...params, sign: nativeSign(params, auth.appsecret) };
  return { params: signed, body: encode(signed) };
}

/** Qimen (TOP router) request: TOP system params + `sid` + business params, TOP-signed. */
export function buildQimenForm(
  business: Readonly<Record<string, string>>,
  auth: { sid: string; appKey: string; appSecret: string; targetAppKey: string; signMethod: TopSignMethod },
  nowMs: number,
): SignedForm {
  const params = omitEmptyParams({
    ...business,
    sid: auth.sid,
    method: WDT_METHOD_STOCKOUT_QUERY_RETURN,
    app_key: auth.appKey,
    target_app_key: auth.targetAppKey,
    sign_method: auth.signMethod,
    timestamp: formatShanghai(nowMs),
    format: 'json',
    v: '2.0',
  });
  const signed = { ...params, sign: topSign(params, auth.appSecret, auth.signMethod) };
  return { params: signed, body: encode(signed) };
}

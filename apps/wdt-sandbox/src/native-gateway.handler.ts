import { WDT_NATIVE_CODES, nativeSign, packNativeParams, signaturesEqual } from '@libs/wdt-client';
import { GatewayResult } from './gateway-result';
import { parseStockoutQuery } from './query-rules';
import { SandboxState } from './sandbox-state';

export const NATIVE_PATH = '/openapi2/stockout_order_query_return.php';
const SYSTEM_PARAMS = ['sid', 'appkey', 'timestamp', 'sign'] as const;

const reject = (reason: string, code: number, message: string): GatewayResult => ({
  outcome: 'rejected',
  reason,
  body: { code, message },
});

/**
 * WDT 企业版 native open API: `POST /openapi2/stockout_order_query_return.php` (form). Verifies system
 * params, the appkey, the length-prefixed MD5 sign over everything received (empty values pack as `0000-`), the
 * ±5 min timestamp skew, the per-app-key and per-sid rate limits, then answers `{code, message, total_count, stockout_list}`.
 * Error codes are the sandbox's (WDT's list is unconfirmed); see `WDT_NATIVE_CODES`.
 */
export function handleNativeCall(
  params: Readonly<Record<string, string>>,
  state: SandboxState,
): GatewayResult {
  const { knobs } = state;
  const missing = SYSTEM_PARAMS.filter((key) => params[key] === undefined || params[key] === '');
  if (missing.length > 0) {
    return reject(
      'missing_param',
      WDT_NATIVE_CODES.MISSING_SYSTEM_PARAM,
      `缺少系统参数: ${missing.join(',')}`,
    );
  }
  const keyed = state.sellers.withAppKey(params.appkey);
  if (keyed.length === 0) {
    return reject('unknown_appkey', WDT_NATIVE_CODES.APPKEY_INVALID, 'appkey不存在或已停用');
  }
  // Sids sharing an appkey share its secret; the sid's own account is read first (tests change secrets).
  const seller = keyed.find((s) => s.account.sid === params.sid);
  const { sign, ...signed } = params;
  const secret = (seller ?? keyed[0]).account.appsecret;
  const expected = nativeSign(signed, secret, packNativeParams, { includeEmpty: true });
  if (!signaturesEqual(sign, expected)) {
    return reject('bad_sign', WDT_NATIVE_CODES.SIGN_INVALID, '签名错误');
  }
  if (!seller) {
    return reject('unknown_sid', WDT_NATIVE_CODES.SID_INVALID, `卖家账号不存在`);
  }
  const nowSeconds = Math.floor(state.clock.now() / 1000);
  if (!/^\d{10}$/.test(params.timestamp)) {
    return reject(
      'stale_timestamp',
      WDT_NATIVE_CODES.TIMESTAMP_INVALID,
      'timestamp格式错误，应为10位Unix时间戳',
    );
  }
  if (Math.abs(nowSeconds - Number(params.timestamp)) > knobs.nativeMaxSkewSeconds) {
    return reject('stale_timestamp', WDT_NATIVE_CODES.TIMESTAMP_INVALID, '时间戳已过期，请校准服务器时间');
  }
  const admitted = state.admit('native', params.appkey, `native:${params.sid}`);
  if (!admitted.ok) {
    return reject(
      'rate_limited',
      WDT_NATIVE_CODES.TOO_FREQUENT,
      `调用太频繁，1分钟内最多${admitted.limit}次`,
    );
  }
  const query = parseStockoutQuery(params, {
    maxPageSize: knobs.nativeMaxPageSize,
    defaultPageSize: Math.min(knobs.nativeDefaultPageSize, knobs.nativeMaxPageSize),
    maxWindowDays: knobs.maxWindowDays,
    axisMode: knobs.timeAxis,
  });
  if (!query.ok) return reject('invalid_params', WDT_NATIVE_CODES.INVALID_PARAM, query.message);

  // A server-side cap is silent: the page is cut at it (the client sees a short page that is not the last).
  const pageSize = knobs.maxPageSize > 0 ? Math.min(query.pageSize, knobs.maxPageSize) : query.pageSize;
  const page = seller.store.page(query.filter, query.pageNo, pageSize);
  return {
    outcome: 'ok',
    returned: page.orders.length,
    body: {
      code: 0,
      message: '',
      total_count: knobs.nativeCountsAsStrings ? String(page.total) : page.total,
      stockout_list: page.orders,
    },
  };
}

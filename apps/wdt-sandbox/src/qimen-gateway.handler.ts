import { randomUUID } from 'node:crypto';
import { formatShanghai, parseShanghai } from '@libs/common';
import {
  WDT_METHOD_STOCKOUT_QUERY_RETURN,
  WDT_NATIVE_CODES,
  signaturesEqual,
  topSign,
} from '@libs/wdt-client';
import { GatewayResult } from './gateway-result';
import { parseStockoutQuery } from './query-rules';
import { SandboxState } from './sandbox-state';

export const QIMEN_PATH = '/router/qm';
const TOP_TIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;

const topError = (
  reason: string,
  code: number,
  msg: string,
  sub?: { sub_code?: string; sub_msg?: string },
): GatewayResult => ({
  outcome: 'rejected',
  reason,
  body: { error_response: { code, msg, ...sub, request_id: randomUUID().replace(/-/g, '').slice(0, 13) } },
});

const wdtError = (reason: string, errorcode: number, message: string): GatewayResult => ({
  outcome: 'rejected',
  reason,
  body: { response: { errorcode, message } },
});

/**
 * Qimen (TOP router) gateway, WDT 企业版 custom scene: `POST /router/qm`. TOP checks (method, app_key,
 * timestamp ±10 min in GMT+8, v, sign_method md5|hmac, TOP signature, flow control per app key and per
 * app+sid → code 7) answer
 * `{error_response:{code, msg, sub_code?, sub_msg?}}`; WDT's own checks answer `{response:{errorcode, message}}`.
 */
export function handleQimenCall(
  params: Readonly<Record<string, string>>,
  state: SandboxState,
): GatewayResult {
  const { knobs } = state;
  const has = (key: string) => params[key] !== undefined && params[key] !== '';
  if (!has('method')) return topError('missing_param', 21, 'Missing method');
  if (params.method !== WDT_METHOD_STOCKOUT_QUERY_RETURN) return topError('bad_method', 22, 'Invalid method');
  if (!has('app_key')) return topError('missing_param', 28, 'Missing app key');
  // One Qimen app may serve several sids (with one secret); the sid picks the account further down.
  const served = state.sellers.withQimenAppKey(params.app_key);
  if (served.length === 0) return topError('unknown_appkey', 29, 'Invalid app Key');
  const seller = served.find((s) => s.account.sid === params.sid);
  const app = (seller ?? served[0]).account;
  if (!has('sign')) return topError('missing_param', 24, 'Missing signature');
  if (!has('timestamp')) return topError('missing_param', 30, 'Missing timestamp');
  if (!has('v')) return topError('missing_param', 32, 'Missing version');
  if (params.v !== '2.0') return topError('invalid_params', 34, 'Unsupported version');
  if (has('format') && params.format !== 'json') return topError('invalid_params', 23, 'Invalid format');
  const method = params.sign_method || 'md5';
  if (method !== 'md5' && method !== 'hmac') {
    return topError('invalid_params', 41, 'Invalid arguments', {
      sub_code: 'isv.invalid-parameter:sign_method',
      sub_msg: 'sign_method must be md5 or hmac',
    });
  }
  const { sign, ...signed } = params;
  if (!signaturesEqual(sign, topSign(signed, app.qimenSecret, method))) {
    return topError('bad_sign', 25, 'Invalid signature');
  }
  const sentAt = TOP_TIME.test(params.timestamp) ? parseShanghai(params.timestamp) : undefined;
  if (sentAt === undefined || Math.abs(state.clock.now() - sentAt) > knobs.qimenMaxSkewSeconds * 1000) {
    return topError('stale_timestamp', 31, 'Invalid timestamp', {
      sub_msg: `timestamp must be GMT+8 within ${knobs.qimenMaxSkewSeconds / 60} minutes of ${formatShanghai(state.clock.now())}`,
    });
  }
  if (!has('target_app_key')) {
    return topError('missing_param', 40, 'Missing required arguments:target_app_key', {
      sub_code: 'isv.missing-parameter:target_app_key',
    });
  }
  if (!served.some((s) => s.account.qimenTargetAppKey === params.target_app_key)) {
    return topError('bad_target_app_key', 41, 'Invalid arguments:target_app_key', {
      sub_code: 'isv.invalid-parameter:target_app_key',
      sub_msg: 'unknown target_app_key',
    });
  }
  if (!has('sid')) {
    return topError('missing_param', 40, 'Missing required arguments:sid', {
      sub_code: 'isv.missing-parameter:sid',
    });
  }
  const admitted = state.admit('qimen', params.app_key, `qimen:${params.app_key}:${params.sid}`);
  if (!admitted.ok) {
    return topError('rate_limited', 7, 'App Call Limited', {
      sub_code: 'accesscontrol.limited-by-app-access-count',
      sub_msg: `This ban will last for ${Math.ceil(admitted.retryAfterMs / 1000)} more seconds`,
    });
  }
  if (!seller) {
    const elsewhere = state.sellers.bySid(params.sid) !== undefined;
    return wdtError(
      'unknown_sid',
      WDT_NATIVE_CODES.SID_INVALID,
      elsewhere ? '卖家账号未授权该应用' : '卖家账号不存在',
    );
  }

  const query = parseStockoutQuery(params, {
    maxPageSize: knobs.qimenMaxPageSize,
    defaultPageSize: knobs.qimenMaxPageSize,
    maxWindowDays: knobs.maxWindowDays,
    axisMode: knobs.timeAxis,
  });
  if (!query.ok) return wdtError('invalid_params', WDT_NATIVE_CODES.INVALID_PARAM, query.message);

  // A server-side cap is silent: the page is cut at it (the client sees a short page that is not the last).
  const pageSize = knobs.maxPageSize > 0 ? Math.min(query.pageSize, knobs.maxPageSize) : query.pageSize;
  const page = seller.store.page(query.filter, query.pageNo, pageSize);
  return {
    outcome: 'ok',
    returned: page.orders.length,
    body: { response: { errorcode: 0, message: '', total_count: page.total, stockout_list: page.orders } },
  };
}

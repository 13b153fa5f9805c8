import type { WdtErrorKind } from './wdt-client.errors';

/**
 * Error-code → kind tables. WDT publishes no authoritative code list for 企业版, so every table here
 * is a default that callers can override per code (`WdtClientOptions.errorCodes`).
 *
 * Native codes: `1012` ("调用太频繁") is reported by practitioners; the others are the codes the
 * project's sandbox (`apps/wdt-sandbox`) answers with — **unconfirmed** against production.
 */
export const WDT_NATIVE_CODES = {
  /** 签名错误 */
  SIGN_INVALID: 100,
  /** appkey 不存在或已停用 */
  APPKEY_INVALID: 101,
  /** 卖家账号 (sid) 不存在 */
  SID_INVALID: 102,
  /** 时间戳无效或超出允许误差 */
  TIMESTAMP_INVALID: 103,
  /** 缺少系统参数 */
  MISSING_SYSTEM_PARAM: 104,
  /** 调用太频繁 (reported by practitioners) */
  TOO_FREQUENT: 1012,
  /** 业务参数错误 (window, page size …) */
  INVALID_PARAM: 2000,
  /** 系统繁忙 */
  SYSTEM_BUSY: 5000,
} as const;

export type CodeKindTable = Readonly<Record<string, WdtErrorKind>>;

export const DEFAULT_NATIVE_CODE_KINDS: CodeKindTable = {
  [WDT_NATIVE_CODES.SIGN_INVALID]: 'auth',
  [WDT_NATIVE_CODES.APPKEY_INVALID]: 'auth',
  [WDT_NATIVE_CODES.SID_INVALID]: 'auth',
  [WDT_NATIVE_CODES.TIMESTAMP_INVALID]: 'auth',
  [WDT_NATIVE_CODES.MISSING_SYSTEM_PARAM]: 'invalid_params',
  [WDT_NATIVE_CODES.TOO_FREQUENT]: 'rate_limited',
  [WDT_NATIVE_CODES.INVALID_PARAM]: 'invalid_params',
  [WDT_NATIVE_CODES.SYSTEM_BUSY]: 'transient',
};

/**
 * TOP (淘宝开放平台 / 奇门 router) platform error codes, from TOP's public error-code list:
 * 7 App Call Limited, 10 Service Currently Unavailable, 11–13 insufficient permissions, 15 Remote
 * service error (see sub_code), 21/22 missing/invalid method, 23 invalid format, 24/25 missing/invalid
 * signature, 26/27 missing/invalid session, 28/29 missing/invalid app key, 30/31 missing/invalid
 * timestamp, 32–34 version, 40/41 missing/invalid arguments, 43 parameter error, 47 invalid encoding.
 */
export const DEFAULT_TOP_CODE_KINDS: CodeKindTable = {
  '7': 'rate_limited',
  '10': 'transient',
  '11': 'auth',
  '12': 'auth',
  '13': 'auth',
  '15': 'invalid_params',
  '21': 'invalid_params',
  '22': 'invalid_params',
  '23': 'invalid_params',
  '24': 'auth',
  '25': 'auth',
  '26': 'auth',
  '27': 'auth',
  '28': 'auth',
  '29': 'auth',
  '30': 'auth',
  '31': 'auth',
  '32': 'invalid_params',
  '33': 'invalid_params',
  '34': 'invalid_params',
  '40': 'invalid_params',
  '41': 'invalid_params',
  '43': 'invalid_params',
  '47': 'invalid_params',
  '50': 'invalid_params',
};

/** TOP sub_code prefixes: `isp.*` platform-side faults, `isv.*` caller faults, flow control. */
export const DEFAULT_TOP_SUB_CODE_PREFIX_KINDS: readonly (readonly [string, WdtErrorKind])[] = [
  ['accesscontrol.limited', 'rate_limited'],
  ['isv.invalid-signature', 'auth'],
  ['isp.', 'transient'],
  ['isv.', 'invalid_params'],
];

export interface WdtErrorCodeOverrides {
  /** Native `code` → kind; merged over `DEFAULT_NATIVE_CODE_KINDS`. */
  native?: CodeKindTable;
  /** Qimen `response.errorcode` (WDT's code passed through TOP) → kind; defaults to the native table. */
  qimen?: CodeKindTable;
  /** TOP `error_response.code` → kind; merged over `DEFAULT_TOP_CODE_KINDS`. */
  top?: CodeKindTable;
  /** TOP `error_response.sub_code` exact match → kind (wins over `code`). */
  topSubCodes?: CodeKindTable;
  /** Kind for a code nobody recognises and no message hint matches. Default `invalid_params` (permanent). */
  unknownCodeKind?: WdtErrorKind;
}

export interface ResolvedErrorCodeTables {
  native: CodeKindTable;
  qimen: CodeKindTable;
  top: CodeKindTable;
  topSubCodes: CodeKindTable;
  unknownCodeKind: WdtErrorKind;
}

export function resolveErrorCodeTables(overrides: WdtErrorCodeOverrides = {}): ResolvedErrorCodeTables {
  const native = { ...DEFAULT_NATIVE_CODE_KINDS, ...overrides.native };
  return {
    native,
    qimen: { ...native, ...overrides.qimen },
    top: { ...DEFAULT_TOP_CODE_KINDS, ...overrides.top },
    topSubCodes: { ...overrides.topSubCodes },
    unknownCodeKind: overrides.unknownCodeKind ?? 'invalid_params',
  };
}

/** Message hints for codes missing from the tables (WDT's list is unconfirmed). */
const MESSAGE_HINTS: readonly (readonly [RegExp, WdtErrorKind])[] = [
  [/频繁|too\s*frequent|call\s*limit|rate\s*limit|flow\s*control|ban will last/i, 'rate_limited'],
  [/签名|sign(ature)?\b|appkey|app key|卖家账号|授权|unauthori[sz]ed|forbidden/i, 'auth'],
  [/繁忙|超时|稍后|busy|timeout|temporar|unavailable|internal error/i, 'transient'],
];

function hintFromMessage(message: string | undefined): WdtErrorKind | undefined {
  if (!message) return undefined;
  return MESSAGE_HINTS.find(([pattern]) => pattern.test(message))?.[1];
}

/** Classifies a native `{code, message}` or Qimen `{errorcode, message}` failure. */
export function classifyWdtCode(
  code: string,
  message: string | undefined,
  table: CodeKindTable,
  unknownCodeKind: WdtErrorKind,
): WdtErrorKind {
  return table[code] ?? hintFromMessage(message) ?? unknownCodeKind;
}

/** Classifies a TOP `error_response`. */
export function classifyTopError(
  code: string,
  subCode: string | undefined,
  message: string | undefined,
  tables: ResolvedErrorCodeTables,
): WdtErrorKind {
  if (subCode && tables.topSubCodes[subCode]) return tables.topSubCodes[subCode];
  if (code === '7') return tables.top['7'] ?? 'rate_limited';
  if (subCode) {
    const byPrefix = DEFAULT_TOP_SUB_CODE_PREFIX_KINDS.find(([prefix]) => subCode.startsWith(prefix));
    if (byPrefix && (code === '15' || !tables.top[code])) return byPrefix[1];
  }
  return tables.top[code] ?? hintFromMessage(message) ?? tables.unknownCodeKind;
}

/** Parses TOP's "This ban will last for N more seconds" into milliseconds. */
export function parseRetryAfterMs(...texts: (string | undefined)[]): number | undefined {
  for (const text of texts) {
    const match = text && /(?:last(?:s)?(?:\s+for)?\s+(\d+)\s+(?:more\s+)?seconds?)/i.exec(text);
    if (match) return Number(match[1]) * 1000;
  }
  return undefined;
}

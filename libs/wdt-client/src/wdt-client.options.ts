import { z } from 'zod';
import { WdtConfigError, WdtGateway } from './wdt-client.errors';
import { WdtErrorCodeOverrides } from './wdt-error-codes';
import { TopSignMethod } from './wdt-sign.util';
import { DEFAULT_CALLS_PER_MINUTE } from './wdt-rate-limiter';

export const WDT_METHOD_STOCKOUT_QUERY_RETURN = 'wdt.stockout.order.query.return';
export const WDT_NATIVE_PATH_STOCKOUT_QUERY_RETURN = '/openapi2/stockout_order_query_return.php';
export const QIMEN_ROUTER_PATH = '/router/qm';
/** Public scripts use 21363512 as WDT's app on TOP — **unconfirmed** as universal, hence configurable. */
export const DEFAULT_QIMEN_TARGET_APP_KEY = '21363512';
/** Qimen documents page_size 1–30. */
export const QIMEN_MAX_PAGE_SIZE = 30;
/** Native limit is **unconfirmed** (other WDT queries allow 1–100); a server cap is detected and followed. */
export const NATIVE_DEFAULT_PAGE_SIZE = 100;
export const NATIVE_MAX_PAGE_SIZE = 100;

export interface WdtQimenOptions {
  /** Router base, e.g. `https://<scene>.api.taobao.com` (a trailing `/router/qm` is accepted too). */
  url: string;
  appKey: string;
  appSecret: string;
  /** WDT's app on TOP. Default `21363512` (unconfirmed). */
  targetAppKey?: string;
  /** Default `md5`. */
  signMethod?: TopSignMethod;
}

export interface WdtBackoffOptions {
  /** First delay after a transient error (default 500 ms). */
  initialDelayMs: number;
  /** First delay after a rate-limit error (default 5 s). */
  rateLimitedInitialDelayMs: number;
  /** Cap of any single delay (default 60 s). */
  maxDelayMs: number;
}

/** Typed options; the lib never reads the environment. */
export interface WdtClientOptions {
  gateway: WdtGateway;
  /** Seller id, sent by both gateways. */
  sid: string;
  /** Native: API base, e.g. `https://api.wangdian.cn`. */
  baseUrl?: string;
  /** Native: appkey. */
  appkey?: string;
  /** Native: appsecret (never sent, never logged). */
  appsecret?: string;
  /** Qimen gateway settings. */
  qimen?: WdtQimenOptions;
  /** Default page size (native 100, Qimen 30). */
  pageSize?: number;
  /** Largest page size the client will ask for (native default 100 — unconfirmed; Qimen 30). */
  maxPageSize?: number;
  /** Per-HTTP-call timeout (default 30 s). */
  timeoutMs?: number;
  /** Total HTTP attempts per page, first call included (default 5). */
  maxAttempts?: number;
  /** Client-side budget: calls per sliding 60 s shared by every caller of the same gateway+sid (default 60). */
  callsPerMinute?: number;
  /** Calls in flight at once on the shared limiter (default 2). */
  maxConcurrent?: number;
  /** The span `callsPerMinute` counts over (default 60 s; tests shorten it). */
  rateLimitWindowMs?: number;
  backoff?: Partial<WdtBackoffOptions>;
  /** Overrides of the (unconfirmed) code → kind tables. */
  errorCodes?: WdtErrorCodeOverrides;
}

export interface ResolvedWdtClientOptions {
  gateway: WdtGateway;
  sid: string;
  endpoint: string;
  native?: { appkey: string; appsecret: string };
  qimen?: { appKey: string; appSecret: string; targetAppKey: string; signMethod: TopSignMethod };
  pageSize: number;
  maxPageSize: number;
  timeoutMs: number;
  maxAttempts: number;
  callsPerMinute: number;
  maxConcurrent: number;
  rateLimitWindowMs: number;
  backoff: WdtBackoffOptions;
  errorCodes: WdtErrorCodeOverrides;
}

const nonEmpty = z.string().trim().min(1);
const httpUrl = z.url({ protocol: /^https?$/ });
const positiveInt = z.number().int().positive();

const schema = z.object({
  gateway: z.enum(['native', 'qimen']),
  sid: nonEmpty,
  baseUrl: httpUrl.optional(),
  appkey: nonEmpty.optional(),
  appsecret: nonEmpty.optional(),
  qimen: z
    .object({
      url: httpUrl,
      appKey: nonEmpty,
      appSecret: nonEmpty,
      targetAppKey: nonEmpty.optional(),
      signMethod: z.enum(['md5', 'hmac']).optional(),
    })
    .optional(),
  pageSize: positiveInt.optional(),
  maxPageSize: positiveInt.optional(),
  timeoutMs: positiveInt.optional(),
  maxAttempts: positiveInt.max(100).optional(),
  callsPerMinute: z.number().positive().optional(),
  maxConcurrent: positiveInt.optional(),
  rateLimitWindowMs: positiveInt.optional(),
  backoff: z
    .object({
      initialDelayMs: z.number().nonnegative().optional(),
      rateLimitedInitialDelayMs: z.number().nonnegative().optional(),
      maxDelayMs: z.number().nonnegative().optional(),
    })
    .optional(),
  errorCodes: z.any().optional(),
});

const trimSlash = (url: string): string => url.replace(/\/+$/, '');

/** Validates options; errors name the option, never its value (so secrets cannot leak through them). */
export function resolveWdtClientOptions(options: WdtClientOptions): ResolvedWdtClientOptions {
  const parsed = schema.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const option = issue.path.join('.') || '(options)';
    throw new WdtConfigError(`invalid WDT client option "${option}": ${issue.code}`, option);
  }
  const o = parsed.data;
  const backoff: WdtBackoffOptions = {
    initialDelayMs: o.backoff?.initialDelayMs ?? 500,
    rateLimitedInitialDelayMs: o.backoff?.rateLimitedInitialDelayMs ?? 5_000,
    maxDelayMs: o.backoff?.maxDelayMs ?? 60_000,
  };
  const common = {
    sid: o.sid,
    timeoutMs: o.timeoutMs ?? 30_000,
    maxAttempts: o.maxAttempts ?? 5,
    callsPerMinute: o.callsPerMinute ?? DEFAULT_CALLS_PER_MINUTE,
    maxConcurrent: o.maxConcurrent ?? 2,
    rateLimitWindowMs: o.rateLimitWindowMs ?? 60_000,
    backoff,
    errorCodes: (options.errorCodes ?? {}) as WdtErrorCodeOverrides,
  };

  if (o.gateway === 'native') {
    if (!o.baseUrl) throw new WdtConfigError('WDT native gateway needs "baseUrl"', 'baseUrl');
    if (!o.appkey) throw new WdtConfigError('WDT native gateway needs "appkey"', 'appkey');
    if (!o.appsecret) throw new WdtConfigError('WDT native gateway needs "appsecret"', 'appsecret');
    const maxPageSize = o.maxPageSize ?? NATIVE_MAX_PAGE_SIZE;
    const pageSize = o.pageSize ?? Math.min(NATIVE_DEFAULT_PAGE_SIZE, maxPageSize);
    if (pageSize > maxPageSize)
      throw new WdtConfigError(`"pageSize" exceeds maxPageSize ${maxPageSize}`, 'pageSize');
    return {
      ...common,
      gateway: 'native',
      endpoint: `${trimSlash(o.baseUrl)}${WDT_NATIVE_PATH_STOCKOUT_QUERY_RETURN}`,
      native: { appkey: o.appkey, appsecret: o.appsecret },
      pageSize,
      maxPageSize,
    };
  }

  if (!o.qimen) throw new WdtConfigError('WDT Qimen gateway needs "qimen" settings', 'qimen');
  const maxPageSize = Math.min(o.maxPageSize ?? QIMEN_MAX_PAGE_SIZE, QIMEN_MAX_PAGE_SIZE);
  const pageSize = o.pageSize ?? maxPageSize;
  if (pageSize > maxPageSize)
    throw new WdtConfigError(`"pageSize" exceeds Qimen's limit ${maxPageSize}`, 'pageSize');
  const base = trimSlash(o.qimen.url);
  return {
    ...common,
    gateway: 'qimen',
    endpoint: base.endsWith(QIMEN_ROUTER_PATH) ? base : `${base}${QIMEN_ROUTER_PATH}`,
    qimen: {
      appKey: o.qimen.appKey,
      appSecret: o.qimen.appSecret,
      targetAppKey: o.qimen.targetAppKey ?? DEFAULT_QIMEN_TARGET_APP_KEY,
      signMethod: o.qimen.signMethod ?? 'md5',
    },
    pageSize,
    maxPageSize,
  };
}

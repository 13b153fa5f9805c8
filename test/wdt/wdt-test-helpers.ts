import { Clock } from '@libs/common';
import {
  WdtClientOptions,
  WdtLimiterRegistry,
  WdtStockoutReturnClient,
  WdtStockoutWindow,
} from '@libs/wdt-client';
import { WdtSandbox } from '../../apps/wdt-sandbox/src/wdt-sandbox.server';

/** Fast backoff so retries take milliseconds in tests. */
export const FAST_BACKOFF = { initialDelayMs: 5, rateLimitedInitialDelayMs: 20, maxDelayMs: 200 };

export function nativeClientOptions(
  sandbox: WdtSandbox,
  overrides: Partial<WdtClientOptions> = {},
): WdtClientOptions {
  return {
    gateway: 'native',
    baseUrl: sandbox.url,
    sid: sandbox.account.sid,
    appkey: sandbox.account.appkey,
    appsecret: sandbox.account.appsecret,
    callsPerMinute: 600_000,
    maxAttempts: 4,
    timeoutMs: 5_000,
    backoff: FAST_BACKOFF,
    ...overrides,
  };
}

export function qimenClientOptions(
  sandbox: WdtSandbox,
  signMethod: 'md5' | 'hmac' = 'md5',
  overrides: Partial<WdtClientOptions> = {},
): WdtClientOptions {
  return {
    gateway: 'qimen',
    sid: sandbox.account.sid,
    qimen: {
      url: sandbox.url,
      appKey: sandbox.account.qimenAppKey,
      appSecret: sandbox.account.qimenSecret,
      targetAppKey: sandbox.account.qimenTargetAppKey,
      signMethod,
    },
    callsPerMinute: 600_000,
    maxAttempts: 4,
    timeoutMs: 5_000,
    backoff: FAST_BACKOFF,
    ...overrides,
  };
}

export function makeClient(
  options: WdtClientOptions,
  registry: WdtLimiterRegistry,
  clock?: Clock,
): WdtStockoutReturnClient {
  return new WdtStockoutReturnClient(options, { limiterRegistry: registry, clock });
}

export async function admin<T = Record<string, unknown>>(
  sandbox: WdtSandbox,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const response = await fetch(`${sandbox.url}/admin${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as T };
}

export const ids = (window: Pick<WdtStockoutWindow, 'records'>): string[] =>
  window.records.map((record) => String(record.stockout_id));

export async function captureError(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to fail');
}

import { formatShanghai } from '@libs/common';
import { isKingdeeError, KingdeeApi, KingdeeSessionPool } from '@libs/kingdee-client';
import { isWdtError, WdtStockoutReturnClient } from '@libs/wdt-client';

export type ConnectionKind = 'wdt' | 'kingdee';

/** What one connection test found. `error` is the API's own message (the clients scrub secrets). */
export interface ConnectionTestResult {
  ok: boolean;
  ms: number;
  /** The client's error kind (`auth`, `transient`, `rate_limited`, …), or `error` for anything else. */
  errorKind?: string;
  error?: string;
}

export interface ConnectionTestOptions {
  /** Gives up after this long (default 15 s): a test answers, it does not wait out retries. */
  timeoutMs?: number;
  now?: () => number;
}

/**
 * The window a WDT test queries: one second a year before now (Shanghai wall clock), page size 1.
 * It costs one call of the app key's budget and returns (almost certainly) nothing.
 */
export function emptyWdtWindow(nowMs: number): { startTime: string; endTime: string } {
  const at = nowMs - 366 * 86_400_000;
  return { startTime: formatShanghai(at), endTime: formatShanghai(at + 1000) };
}

/** WDT: one query of an empty window (sign, app key, sid and clock are all checked by it). */
export async function testWdtConnection(
  client: Pick<WdtStockoutReturnClient, 'queryPage'>,
  options: ConnectionTestOptions = {},
): Promise<ConnectionTestResult> {
  const now = options.now ?? Date.now;
  const started = now();
  try {
    await client.queryPage(
      { ...emptyWdtWindow(started), pageNo: 0, pageSize: 1 },
      { signal: AbortSignal.timeout(options.timeoutMs ?? 15_000) },
    );
    return { ok: true, ms: now() - started };
  } catch (err) {
    return failed(now() - started, err, isWdtError(err) ? err.kind : undefined, options);
  }
}

/** The one-row query a Kingdee test runs: the first warehouse (every account set has BD_STOCK). */
export const KINGDEE_TEST_QUERY = { FormId: 'BD_STOCK', FieldKeys: 'FNumber', TopRowCount: 1, Limit: 1 };

/**
 * Kingdee: a login and a one-row ExecuteBillQuery on one session. With a pool, the session the
 * pool lends (a held session is reused: the query then proves it still works).
 */
export async function testKingdeeConnection(
  api: KingdeeApi,
  options: ConnectionTestOptions = {},
): Promise<ConnectionTestResult> {
  const now = options.now ?? Date.now;
  const started = now();
  const signal = AbortSignal.timeout(options.timeoutMs ?? 15_000);
  try {
    const run =
      api instanceof KingdeeSessionPool
        ? api.withClient(async (client) => {
            await client.ensureSession();
            return client.executeBillQuery(KINGDEE_TEST_QUERY, signal);
          })
        : api.executeBillQuery(KINGDEE_TEST_QUERY, signal);
    await Promise.race([
      run,
      new Promise((_, reject) =>
        signal.addEventListener('abort', () => reject(signal.reason), { once: true }),
      ),
    ]);
    return { ok: true, ms: now() - started };
  } catch (err) {
    return failed(now() - started, err, isKingdeeError(err) ? err.kind : undefined, options);
  }
}

function failed(
  ms: number,
  err: unknown,
  kind: string | undefined,
  options: ConnectionTestOptions,
): ConnectionTestResult {
  const name = err instanceof Error ? err.name : '';
  if (!kind && (name === 'TimeoutError' || name === 'AbortError'))
    return {
      ok: false,
      ms,
      errorKind: 'timeout',
      error: `no answer within ${(options.timeoutMs ?? 15_000) / 1000} s`,
    };
  const message = err instanceof Error ? err.message : String(err);
  return { ok: false, ms, errorKind: kind ?? 'error', error: message.slice(0, 1000) };
}

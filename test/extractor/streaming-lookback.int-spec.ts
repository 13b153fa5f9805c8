import { AppLogger, formatShanghai, ManualClock, parseShanghai, silentLogger } from '@libs/common';
import { PostgresExtractionStore } from '@libs/extraction';
import { Scheme } from '@libs/scheme';
import { WdtLimiterRegistry, WdtStockoutReturnClient } from '@libs/wdt-client';
import { register } from 'prom-client';
import { WdtSandbox } from '../../apps/wdt-sandbox/src';
import { admin, extractorFixtures, schemeWith } from '../support/extractor-fixtures';
import { nativeClientOptions } from '../wdt/wdt-test-helpers';

/**
 * Issue 13, source side, over the real things (WDT sandbox over HTTP, real broker, real Postgres): a
 * server that cuts the page size, the lookback re-read on its own, and the client's sliding-window
 * limit against the sandbox's.
 */
/** A logger that keeps warnings (messages only) and drops everything else. */
function warningsLogger(): { logger: AppLogger; warnings: string[] } {
  const warnings: string[] = [];
  const logger = {
    ...silentLogger,
    warn: (a: unknown, b?: unknown) => void warnings.push(typeof a === 'string' ? a : String(b ?? '')),
    child: () => logger,
  } as unknown as AppLogger;
  return { logger, warnings };
}

async function lateCount(scheme: string): Promise<number> {
  const metric = register.getSingleMetric('extractor_late_records_total');
  if (!metric) return 0;
  return (await metric.get()).values.find((v) => v.labels.scheme === scheme)?.value ?? 0;
}

describe('extractor: capped pages, lookback cadence, sliding-window limit (sandbox over HTTP, Kafka, Postgres)', () => {
  const clock = new ManualClock(parseShanghai('2026-11-20 12:00:00')!);
  const fx = extractorFixtures('streaming-lookback', { partitions: 2, clock });
  // Set once the fixtures' own beforeAll (registered first) has run.
  let sandbox: WdtSandbox;
  let store: PostgresExtractionStore;
  let registry: WdtLimiterRegistry;
  beforeAll(() => {
    ({ sandbox, store } = fx);
  });

  function service(scheme: Scheme, logger: AppLogger = silentLogger) {
    const client = new WdtStockoutReturnClient(nativeClientOptions(sandbox, { callsPerMinute: 100_000 }), {
      limiterRegistry: registry,
      logger,
    });
    return fx.service(scheme, client, { logger });
  }

  const rawEvents = fx.rawEvents;

  /** Shipped (status 110) orders consigned 08:00–11:00 on the test day, from the sandbox's generator. */
  const seedShipped = (count: number, seed: number) =>
    admin(sandbox, 'POST', '/orders/seed', {
      count,
      seed,
      from: '2026-11-20 08:00:00',
      to: '2026-11-20 11:00:00',
      statusWeights: { '110': 1 },
    });

  beforeEach(() => {
    registry = new WdtLimiterRegistry();
  });
  afterEach(() => registry.stopAll());

  it('a server capping page_size at 40 (asked 100): every order extracted exactly once, with a warning', async () => {
    await seedShipped(150, 21);
    await admin(sandbox, 'PATCH', '/knobs', { maxPageSize: 40 });
    const expected = (
      (await admin(sandbox, 'GET', '/orders?page_size=1000')) as { orders: Array<{ order_no: string }> }
    ).orders;
    expect(expected.length).toBe(150);
    const scheme = schemeWith('capped-pages', { pageSize: 100, cursor: { initial: '2026-11-20 07:00:00' } });
    clock.set(parseShanghai('2026-11-20 12:00:00')!);
    const { logger, warnings } = warningsLogger();
    const stats = await service(scheme, logger).poll();
    expect(stats).toMatchObject({ emitted: 150, fetched: 150 });
    const events = await rawEvents('capped-pages', 150);
    const counts = new Map<string, number>();
    for (const e of events) counts.set(e.orderNo, (counts.get(e.orderNo) ?? 0) + 1);
    expect([...counts.keys()].sort()).toEqual(expected.map((o) => o.order_no).sort()); // no order lost
    expect([...counts.values()].every((n) => n === 1)).toBe(true); // none twice
    expect(warnings.filter((w) => /caps the page size; paging at 40/.test(w))).toHaveLength(1);
  });

  it('a late record (consigned before cursor − overlap) is emitted by the lookback re-read, not the poll, and counted', async () => {
    const order = (orderNo: string, consignTime: string) => ({
      order_no: orderNo,
      status: 110,
      consign_time: consignTime,
      warehouse_no: 'GZ03',
      provider_no: 'GYS003',
    });
    await admin(sandbox, 'POST', '/orders', { orders: [order('ON-TIME-1', '2026-11-20 11:40:00')] });
    const scheme = schemeWith('late-records', {
      cursor: {
        initial: '2026-11-20 11:00:00',
        overlap: '30s',
        lookback: '10m',
        lookbackInterval: '60s',
        safetyLag: '1s',
      },
    });
    clock.set(parseShanghai('2026-11-20 12:00:00')!);
    const extractor = service(scheme);
    expect(await extractor.poll()).toMatchObject({ emitted: 1 });
    const cursor = (await store.getCursor('late-records'))!.cursorValue;
    expect(cursor).toBe('2026-11-20 11:59:59');
    // Written late: consigned 2 minutes before the cursor (older than cursor − 30 s, inside 10 m).
    const lateAt = formatShanghai(parseShanghai(cursor)! - 120_000);
    await admin(sandbox, 'POST', '/orders', { orders: [order('LATE-1', lateAt)] });
    clock.set(parseShanghai('2026-11-20 12:00:10')!);
    expect(await extractor.poll()).toMatchObject({ emitted: 0 }); // the frequent poll does not reach back
    const before = await lateCount('late-records');
    const found = await extractor.lookback();
    expect(found).toMatchObject({ emitted: 1, emittedKeys: ['LATE-1'] });
    expect((await lateCount('late-records')) - before).toBe(1);
    expect((await store.getCursor('late-records'))!.cursorValue).toBe('2026-11-20 12:00:09'); // not moved
    // Once emitted it is known: the next lookback finds nothing late.
    expect(await extractor.lookback()).toMatchObject({ emitted: 0 });
    expect((await lateCount('late-records')) - before).toBe(1);
    const events = await rawEvents('late-records', 2);
    expect(events.map((e) => e.orderNo).sort()).toEqual(['LATE-1', 'ON-TIME-1']);
  });

  it('a client at the sandbox\'s L per sliding window never gets "too frequent"', async () => {
    await seedShipped(60, 5);
    // 5 calls in every sliding 2 s on both sides; 12+ pages need at least 3 windows.
    await admin(sandbox, 'PATCH', '/knobs', { callsPerMinute: 5, rateLimitWindowMs: 2000, latencyMs: 20 });
    sandbox.state.stats.reset();
    const client = new WdtStockoutReturnClient(
      nativeClientOptions(sandbox, {
        callsPerMinute: 5,
        rateLimitWindowMs: 2000,
        pageSize: 5,
        maxConcurrent: 2,
      }),
      { limiterRegistry: registry },
    );
    const result = await client.queryAll({
      startTime: '2026-11-20 07:00:00',
      endTime: '2026-11-20 12:00:00',
    });
    expect(result.records).toHaveLength(60);
    const stats = sandbox.state.stats.snapshot();
    expect(stats.rejections.native?.rate_limited ?? 0).toBe(0);
    expect(stats.accepted.native).toBe(result.pages);
    expect(result.httpCalls).toBe(result.pages);
  });
});

import { ManualClock, parseShanghai } from '@libs/common';
import {
  WdtAuthError,
  WdtInvalidParamsError,
  WdtMalformedResponseError,
  WdtLimiterRegistry,
  WdtTransientError,
  nativeSign,
  packNativeParams,
  packNativeParamsByByteLength,
} from '@libs/wdt-client';
import { WdtSandbox, startWdtSandbox } from '../../apps/wdt-sandbox/src/wdt-sandbox.server';
import {
  admin,
  captureError,
  ids,
  makeClient,
  nativeClientOptions,
  qimenClientOptions,
} from './wdt-test-helpers';

const WINDOW = { startTime: '2026-11-01 00:00:00', endTime: '2026-11-20 23:59:59' };
const WRONG_SECRET = 'definitely-WRONG-secret-4711';

describe('WDT client against the WDT sandbox (real HTTP)', () => {
  let sandbox: WdtSandbox;
  let registry: WdtLimiterRegistry;
  let expectedIds: string[];

  const stats = () => sandbox.state.stats.snapshot();

  beforeAll(async () => {
    sandbox = await startWdtSandbox({ port: 0, knobs: { callsPerMinute: 0 } });
    const seeded = await admin(sandbox, 'POST', '/orders/seed', {
      count: 120,
      seed: 42,
      from: '2026-11-02 00:00:00',
      to: '2026-11-19 00:00:00',
    });
    expect(seeded.status).toBe(200);
    expectedIds = sandbox.store
      .page(
        {
          startMs: parseShanghai(WINDOW.startTime) as number,
          endMs: parseShanghai(WINDOW.endTime) as number,
          axisMode: 'documented',
        },
        0,
        1000,
      )
      .orders.map((order) => order.stockout_id);
    expect(expectedIds.length).toBeGreaterThan(40);
  });

  afterAll(async () => {
    await sandbox.close();
  });

  beforeEach(() => {
    registry = new WdtLimiterRegistry();
    sandbox.state.resetKnobs();
    sandbox.setKnobs({ callsPerMinute: 0 });
    sandbox.state.stats.reset();
  });

  afterEach(() => registry.stopAll());

  describe('happy paths', () => {
    it('native: pages through a window with total_count, records exactly as the sandbox holds them', async () => {
      const client = makeClient(nativeClientOptions(sandbox, { pageSize: 7 }), registry);
      const result = await client.queryAll(WINDOW);
      expect(result.totalCount).toBe(expectedIds.length);
      expect(result.pages).toBe(Math.ceil(expectedIds.length / 7));
      expect(ids(result)).toEqual(expectedIds);
      expect(result.records[0]).toEqual(sandbox.store.get(expectedIds[0]));
      expect(stats().accepted.native).toBe(result.pages);
      expect(stats().rejections.native).toEqual({});
    });

    it.each(['md5', 'hmac'] as const)(
      'Qimen with sign_method=%s returns the same records',
      async (method) => {
        const client = makeClient(qimenClientOptions(sandbox, method), registry);
        const result = await client.queryAll(WINDOW);
        expect(result.totalCount).toBe(expectedIds.length);
        expect(ids(result)).toEqual(expectedIds);
        expect(stats().accepted.qimen).toBe(Math.ceil(expectedIds.length / 30));
      },
    );

    it('queries by status on the modified axis', async () => {
      const client = makeClient(nativeClientOptions(sandbox), registry);
      const page = await client.queryPage({ ...WINDOW, status: 50, pageSize: 100 });
      expect(page.records.length).toBeGreaterThan(0);
      expect(page.records.every((record) => record.status === '50')).toBe(true);
    });
  });

  describe('signature', () => {
    it('rejects a sign packed with byte lengths on a Chinese value; the client request passes', async () => {
      const created = await admin(sandbox, 'POST', '/orders', {
        orders: [{ src_order_no: '上海仓', status: 110, consign_time: '2026-11-10 10:00:00' }],
      });
      expect(created.status).toBe(200);

      const params = {
        sid: sandbox.account.sid,
        appkey: sandbox.account.appkey,
        timestamp: String(Math.floor(Date.now() / 1000)),
        start_time: WINDOW.startTime,
        end_time: WINDOW.endTime,
        src_order_no: '上海仓',
      };
      const post = async (sign: string) => {
        const response = await fetch(`${sandbox.url}/openapi2/stockout_order_query_return.php`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ ...params, sign }).toString(),
        });
        return (await response.json()) as Record<string, unknown>;
      };
      expect(packNativeParamsByByteLength(params)).not.toBe(packNativeParams(params));
      const byBytes = await post(nativeSign(params, sandbox.account.appsecret, packNativeParamsByByteLength));
      expect(byBytes).toMatchObject({ code: 100, message: '签名错误' });
      const byCodePoints = await post(nativeSign(params, sandbox.account.appsecret));
      expect(byCodePoints).toMatchObject({ code: 0, total_count: '1' });

      const client = makeClient(nativeClientOptions(sandbox), registry);
      const page = await client.queryPage({ ...WINDOW, srcOrderNo: '上海仓' });
      expect(page.totalCount).toBe(1);
      expect(page.records[0].src_order_no).toBe('上海仓');
      expect(stats().rejections.native).toEqual({ bad_sign: 1 });
      const [{ stockout_id: createdId }] = created.body.upserted as { stockout_id: string }[];
      expect((await admin(sandbox, 'DELETE', `/orders/${createdId}`)).status).toBe(200);
    });

    it.each([
      ['native', '签名错误'],
      ['qimen', 'Invalid signature'],
    ] as const)(
      '%s: a wrong secret makes exactly one HTTP call and one clear auth error',
      async (gateway, text) => {
        const options =
          gateway === 'native'
            ? nativeClientOptions(sandbox, { appsecret: WRONG_SECRET })
            : qimenClientOptions(sandbox, 'md5', {
                qimen: { ...qimenClientOptions(sandbox).qimen!, appSecret: WRONG_SECRET },
              });
        const error = await captureError(makeClient(options, registry).queryPage(WINDOW));
        expect(error).toBeInstanceOf(WdtAuthError);
        expect(error.message).toContain(text);
        expect((error as WdtAuthError).attempts).toBe(1);
        expect(stats().calls[gateway]).toBe(1);
        expect(stats().rejections[gateway]).toEqual({ bad_sign: 1 });
        for (const rendered of [String(error), error.stack ?? '', JSON.stringify(error)]) {
          expect(rendered).not.toContain(WRONG_SECRET);
        }
        for (const request of sandbox.state.stats.recentRequests()) {
          expect(JSON.stringify(request.params)).not.toContain(WRONG_SECRET);
        }
      },
    );
  });

  describe('timestamps', () => {
    it('native: rejects a timestamp more than 5 minutes off, accepts 4 minutes', async () => {
      const stale = makeClient(
        nativeClientOptions(sandbox),
        registry,
        new ManualClock(Date.now() - 6 * 60_000),
      );
      const error = await captureError(stale.queryPage(WINDOW));
      expect(error).toBeInstanceOf(WdtAuthError);
      expect(error).toMatchObject({ code: '103' });
      expect(stats().calls.native).toBe(1);
      const skewed = makeClient(
        nativeClientOptions(sandbox),
        registry,
        new ManualClock(Date.now() - 4 * 60_000),
      );
      await expect(skewed.queryPage(WINDOW)).resolves.toMatchObject({ totalCount: expectedIds.length });
    });

    it('Qimen: rejects a GMT+8 timestamp more than 10 minutes off with TOP code 31', async () => {
      const stale = makeClient(
        qimenClientOptions(sandbox),
        registry,
        new ManualClock(Date.now() + 11 * 60_000),
      );
      const error = await captureError(stale.queryPage(WINDOW));
      expect(error).toBeInstanceOf(WdtAuthError);
      expect(error).toMatchObject({ code: '31' });
      expect(stats().rejections.qimen).toEqual({ stale_timestamp: 1 });
    });
  });

  describe('query rules', () => {
    const longWindow = { startTime: '2026-10-01 00:00:00', endTime: '2026-11-20 00:00:00' };

    it.each(['native', 'qimen'] as const)(
      '%s: a window over 30 days is invalid_params, not retried',
      async (gateway) => {
        const options = gateway === 'native' ? nativeClientOptions(sandbox) : qimenClientOptions(sandbox);
        const error = await captureError(makeClient(options, registry).queryPage(longWindow));
        expect(error).toBeInstanceOf(WdtInvalidParamsError);
        expect(error.message).toContain('30天');
        expect(stats().calls[gateway]).toBe(1);
      },
    );

    it('native: a page size above the configured maximum is refused by the sandbox', async () => {
      sandbox.setKnobs({ nativeMaxPageSize: 20 });
      const client = makeClient(nativeClientOptions(sandbox, { pageSize: 25 }), registry);
      const error = await captureError(client.queryPage(WINDOW));
      expect(error).toBeInstanceOf(WdtInvalidParamsError);
      expect(error.message).toContain('1-20');
    });
  });

  describe('rate limiting', () => {
    it.each(['native', 'qimen'] as const)(
      '%s: backs off on "too frequent" and still gets every page',
      async (gateway) => {
        sandbox.setKnobs({ callsPerMinute: 3, rateLimitWindowMs: 150 });
        const options =
          gateway === 'native'
            ? nativeClientOptions(sandbox, { pageSize: 6, maxAttempts: 30 })
            : qimenClientOptions(sandbox, 'hmac', { pageSize: 6, maxAttempts: 30 });
        const result = await makeClient(options, registry).queryAll(WINDOW);
        expect(ids(result)).toEqual(expectedIds);
        expect(result.pages).toBe(Math.ceil(expectedIds.length / 6));
        expect(stats().accepted[gateway]).toBe(result.pages);
        expect(stats().rejections[gateway].rate_limited).toBeGreaterThan(0);
        expect(result.httpCalls).toBe(stats().calls[gateway]);
      },
    );
  });

  describe('faults', () => {
    it.each(['html', 'broken_json', 'missing_list'] as const)(
      'a page that is always %s ends in a typed malformed error after the retries',
      async (kind) => {
        sandbox.setKnobs({ malformedNext: 100, malformedKinds: [kind] });
        const client = makeClient(nativeClientOptions(sandbox, { maxAttempts: 3 }), registry);
        const error = await captureError(client.queryPage(WINDOW));
        expect(error).toBeInstanceOf(WdtMalformedResponseError);
        expect((error as WdtMalformedResponseError).kind).toBe('transient');
        expect((error as WdtMalformedResponseError).reason).toBe(
          { html: 'html_page', broken_json: 'invalid_json', missing_list: 'missing_stockout_list' }[kind],
        );
        expect((error as WdtMalformedResponseError).attempts).toBe(3);
        expect(stats().calls.native).toBe(3);
      },
    );

    it('recovers when only the first pages are malformed (wrong types, then HTML)', async () => {
      sandbox.setKnobs({ malformedNext: 2, malformedKinds: ['wrong_types', 'html'] });
      const page = await makeClient(qimenClientOptions(sandbox), registry).queryPage(WINDOW);
      expect(page.attempts).toBe(3);
      expect(page.totalCount).toBe(expectedIds.length);
    });

    it('retries 5xx pages and then succeeds', async () => {
      sandbox.setKnobs({ errorNext: 2 });
      const page = await makeClient(nativeClientOptions(sandbox), registry).queryPage(WINDOW);
      expect(page.attempts).toBe(3);
      expect(stats().faults.http_5xx).toBe(2);
      expect(stats().accepted.native).toBe(1);
    });

    it('gives up on persistent 5xx with a transient error', async () => {
      sandbox.setKnobs({ errorRate: 1 });
      const error = await captureError(
        makeClient(nativeClientOptions(sandbox, { maxAttempts: 2 }), registry).queryPage(WINDOW),
      );
      expect(error).toBeInstanceOf(WdtTransientError);
      expect((error as WdtTransientError).reason).toBe('http_5xx');
      expect(stats().calls.native).toBe(2);
    });

    it('times out a held request and retries it', async () => {
      sandbox.setKnobs({ timeoutNext: 1 });
      const client = makeClient(nativeClientOptions(sandbox, { timeoutMs: 1_000 }), registry);
      const page = await client.queryPage(WINDOW);
      expect(page.attempts).toBe(2);
      expect(stats().faults.timeout).toBe(1);
    });
  });
});

import { IBackoffFactory, IRetryBackoffContext } from 'cockatiel';
import { AppLogger, ManualClock, formatShanghai, silentLogger } from '@libs/common';
import { HttpPostRequest, HttpPostResponse, HttpTransport, HttpTransportError } from './http-transport';
import {
  WdtAuthError,
  WdtConfigError,
  WdtError,
  WdtInvalidParamsError,
  WdtMalformedResponseError,
  WdtRateLimitedError,
  WdtTransientError,
} from './wdt-client.errors';
import { WdtClientOptions } from './wdt-client.options';
import { WdtLimiterRegistry, createWdtLimiter } from './wdt-rate-limiter';
import { nativeSign, topSign } from './wdt-sign.util';
import { WdtSourcePage, WdtStockoutReturnClient } from './wdt-stockout-return.client';
import { wdtRetryBackoff } from './wdt-backoff';

const APPSECRET = 'native-APPSECRET-9f8e7d';
const QIMEN_SECRET = 'qimen-SECRET-1a2b3c';
const NOW = Date.UTC(2026, 10, 27, 17, 30, 0); // 2026-11-28 01:30:00 Shanghai

type Reply = HttpPostResponse | Error | ((request: HttpPostRequest) => Promise<HttpPostResponse>);

/** Scripted transport: answers with the queued replies in order, recording every request. */
class FakeTransport implements HttpTransport {
  readonly requests: HttpPostRequest[] = [];
  constructor(private readonly replies: Reply[]) {}

  async post(request: HttpPostRequest): Promise<HttpPostResponse> {
    this.requests.push(request);
    const next = this.replies.length > 1 ? this.replies.shift() : this.replies[0];
    if (next === undefined) throw new Error('no reply scripted');
    if (next instanceof Error) throw next;
    if (typeof next === 'function') return next(request);
    return next;
  }

  params(index = 0): Record<string, string> {
    return Object.fromEntries(new URLSearchParams(this.requests[index].body));
  }
}

const json = (body: unknown, status = 200): HttpPostResponse => ({
  status,
  body: JSON.stringify(body),
  contentType: 'application/json',
});
const nativePage = (records: unknown[], total: number | string) =>
  json({ code: 0, message: '', total_count: String(total), stockout_list: records });
const html502: HttpPostResponse = {
  status: 502,
  body: '<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>',
  contentType: 'text/html',
};

const nativeOptions: WdtClientOptions = {
  gateway: 'native',
  baseUrl: 'https://sandbox.wangdian.cn/',
  sid: 'sid-1',
  appkey: 'appkey-1',
  appsecret: APPSECRET,
  pageSize: 2,
  maxAttempts: 4,
  callsPerMinute: 600_000,
  backoff: { initialDelayMs: 1, rateLimitedInitialDelayMs: 2, maxDelayMs: 5 },
};
const qimenOptions: WdtClientOptions = {
  gateway: 'qimen',
  sid: 'sid-1',
  qimen: {
    url: 'https://scene.api.taobao.com',
    appKey: '23000001',
    appSecret: QIMEN_SECRET,
    targetAppKey: '21363512',
  },
  maxAttempts: 3,
  callsPerMinute: 600_000,
  backoff: { initialDelayMs: 1, rateLimitedInitialDelayMs: 1, maxDelayMs: 5 },
};
const window = { startTime: '2026-11-27 00:00:00', endTime: '2026-11-28 00:00:00' };

describe('WdtStockoutReturnClient', () => {
  let registry: WdtLimiterRegistry;
  const client = (options: WdtClientOptions, transport: HttpTransport) =>
    new WdtStockoutReturnClient(options, {
      transport,
      limiterRegistry: registry,
      clock: new ManualClock(NOW),
    });

  beforeEach(() => {
    registry = new WdtLimiterRegistry();
  });
  afterEach(() => registry.stopAll());

  describe('native gateway requests', () => {
    it('posts a form to /openapi2/stockout_order_query_return.php signed over the raw values', async () => {
      const transport = new FakeTransport([nativePage([{ stockout_id: '1' }], 1)]);
      const page = await client(nativeOptions, transport).queryPage({
        ...window,
        srcOrderNo: 'A&B=C+D 上海仓',
        warehouseNo: '',
        status: 95,
      });
      expect(page).toEqual({
        totalCount: 1,
        records: [{ stockout_id: '1' }],
        entries: [{ stockout_id: '1' }],
        pageNo: 0,
        pageSize: 2,
        attempts: 1,
      });
      const request = transport.requests[0];
      expect(request.url).toBe('https://sandbox.wangdian.cn/openapi2/stockout_order_query_return.php');
      expect(request.headers['content-type']).toMatch(/^application\/x-www-form-urlencoded/);
      expect(request.body).not.toContain('A&B');
      const { sign, ...sent } = transport.params();
      expect(sent).toEqual({
        start_time: '2026-11-27 00:00:00',
        end_time: '2026-11-28 00:00:00',
        status: '95',
        src_order_no: 'A&B=C+D 上海仓',
        page_no: '0',
        page_size: '2',
        sid: 'sid-1',
        appkey: 'appkey-1',
        timestamp: String(NOW / 1000),
      });
      expect(sign).toBe(nativeSign(sent, APPSECRET));
      expect(request.body).not.toContain(APPSECRET);
    });

    it('rejects a bad window before sending anything', async () => {
      const transport = new FakeTransport([nativePage([], 0)]);
      await expect(
        client(nativeOptions, transport).queryPage({
          startTime: '2026-11-27',
          endTime: '2026-11-28 00:00:00',
        }),
      ).rejects.toBeInstanceOf(WdtInvalidParamsError);
      await expect(client(nativeOptions, transport).queryPage({ ...window, pageSize: 101 })).rejects.toThrow(
        /pageSize/,
      );
      expect(transport.requests).toHaveLength(0);
    });
  });

  describe('Qimen gateway requests', () => {
    it.each(['md5', 'hmac'] as const)('posts TOP system params signed with %s', async (signMethod) => {
      const transport = new FakeTransport([
        json({ response: { errorcode: 0, total_count: 1, stockout_list: [{ stockout_id: '9' }] } }),
      ]);
      const options = { ...qimenOptions, qimen: { ...qimenOptions.qimen!, signMethod } };
      const page = await client(options, transport).queryPage({ ...window, warehouseNo: '上海仓' });
      expect(page.totalCount).toBe(1);
      expect(transport.requests[0].url).toBe('https://scene.api.taobao.com/router/qm');
      const { sign, ...sent } = transport.params();
      expect(sent).toMatchObject({
        method: 'wdt.stockout.order.query.return',
        app_key: '23000001',
        target_app_key: '21363512',
        sign_method: signMethod,
        timestamp: '2026-11-28 01:30:00',
        format: 'json',
        v: '2.0',
        sid: 'sid-1',
        warehouse_no: '上海仓',
        page_size: '30',
      });
      expect(sent.timestamp).toBe(formatShanghai(NOW));
      expect(sign).toBe(topSign(sent, QIMEN_SECRET, signMethod));
      expect(sign).toMatch(/^[0-9A-F]{32}$/);
    });

    it('refuses a Qimen page size above 30 at configuration time', () => {
      expect(() => client({ ...qimenOptions, pageSize: 31 }, new FakeTransport([]))).toThrow(WdtConfigError);
    });
  });

  describe('retries', () => {
    it('retries a 5xx and then succeeds', async () => {
      const transport = new FakeTransport([html502, nativePage([{ stockout_id: '1' }], 1)]);
      const page = await client(nativeOptions, transport).queryPage(window);
      expect(page.attempts).toBe(2);
      expect(transport.requests).toHaveLength(2);
      expect(transport.params(0).timestamp).toBeDefined();
    });

    it('retries rate limiting (native 1012) and network timeouts', async () => {
      const transport = new FakeTransport([
        json({ code: 1012, message: '调用太频繁，1分钟内最多60次' }),
        new HttpTransportError('no response within 10 ms', 'timeout'),
        nativePage([], 0),
      ]);
      const page = await client(nativeOptions, transport).queryPage(window);
      expect(page.attempts).toBe(3);
    });

    it('gives up after maxAttempts with the last typed error', async () => {
      const transport = new FakeTransport([
        { status: 200, body: '<html>maintenance</html>', contentType: 'text/html' },
      ]);
      const error = (await client(nativeOptions, transport)
        .queryPage(window)
        .catch((e: unknown) => e)) as WdtError;
      expect(error).toBeInstanceOf(WdtMalformedResponseError);
      expect(error).toMatchObject({ kind: 'transient', reason: 'html_page', attempts: 4 });
      expect(transport.requests).toHaveLength(4);
    });

    it('gives up on persistent rate limiting as rate_limited', async () => {
      const transport = new FakeTransport([json({ error_response: { code: 7, msg: 'App Call Limited' } })]);
      const error = await client(qimenOptions, transport)
        .queryPage(window)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WdtRateLimitedError);
      expect(transport.requests).toHaveLength(3);
    });

    it.each([
      ['a bad signature (native)', nativeOptions, json({ code: 100, message: '签名错误' }), WdtAuthError],
      [
        'a bad signature (TOP 25)',
        qimenOptions,
        json({ error_response: { code: 25, msg: 'Invalid signature' } }),
        WdtAuthError,
      ],
      [
        'an invalid window',
        nativeOptions,
        json({ code: 2000, message: '查询时间跨度不能超过30天' }),
        WdtInvalidParamsError,
      ],
    ])('never retries %s', async (_label, options, reply, type) => {
      const transport = new FakeTransport([reply]);
      const error = await client(options, transport)
        .queryPage(window)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(type);
      expect((error as WdtError).attempts).toBe(1);
      expect(transport.requests).toHaveLength(1);
    });
  });

  describe('secrets', () => {
    it('never puts the secret in an error, even when the server echoes it', async () => {
      const echo = json({ code: 100, message: `签名错误: expected md5(... + ${APPSECRET})` });
      const transport = new FakeTransport([echo]);
      const error = (await client(nativeOptions, transport)
        .queryPage(window)
        .catch((e: unknown) => e)) as WdtAuthError;
      expect(error).toBeInstanceOf(WdtAuthError);
      expect(error.message).toContain('签名错误');
      for (const text of [String(error), error.stack ?? '', JSON.stringify(error)]) {
        expect(text).not.toContain(APPSECRET);
      }
    });

    it('scrubs the Qimen secret from HTML pages and transport errors', async () => {
      const transport = new FakeTransport([
        { status: 503, body: `<html><title>down ${QIMEN_SECRET}</title></html>`, contentType: 'text/html' },
        new Error(`socket hang up near ${QIMEN_SECRET}`),
      ]);
      const error = (await client({ ...qimenOptions, maxAttempts: 2 }, transport)
        .queryPage(window)
        .catch((e: unknown) => e)) as WdtTransientError;
      expect(error).toBeInstanceOf(WdtTransientError);
      for (const text of [String(error), error.stack ?? '', JSON.stringify(error)]) {
        expect(text).not.toContain(QIMEN_SECRET);
      }
    });

    it('names a bad option without echoing its value', () => {
      const attempt = () =>
        new WdtStockoutReturnClient(
          { ...nativeOptions, baseUrl: `not a url ${APPSECRET}` },
          { limiterRegistry: registry },
        );
      expect(attempt).toThrow(WdtConfigError);
      expect(attempt).toThrow(/baseUrl/);
      try {
        attempt();
      } catch (error) {
        expect(JSON.stringify(error) + String(error)).not.toContain(APPSECRET);
      }
    });
  });

  describe('queryAll', () => {
    const records = (ids: number[]) =>
      ids.map((id) => ({ stockout_id: String(id), modified: '2026-11-27 10:00:00' }));

    it('reads total_count from page 0, then pages from the last back to 1, keeping page order', async () => {
      const byPage: Record<string, Record<string, unknown>[]> = {
        '0': records([1, 2]),
        '1': records([3, 4]),
        '2': records([5]),
      };
      const transport = new FakeTransport([
        async (request) => {
          const pageNo = new URLSearchParams(request.body).get('page_no') as string;
          return nativePage(byPage[pageNo], 5);
        },
      ]);
      const result = await client(nativeOptions, transport).queryAll(window);
      expect(transport.requests.map((r) => new URLSearchParams(r.body).get('page_no'))).toEqual([
        '0',
        '2',
        '1',
      ]);
      expect(result.records.map((r) => r.stockout_id)).toEqual(['1', '2', '3', '4', '5']);
      expect(result).toMatchObject({
        totalCount: 5,
        pages: 3,
        duplicatesDropped: 0,
        totalCountChanged: false,
        httpCalls: 3,
      });
    });

    it('drops a record seen twice (moved between pages), keeping the newest copy', async () => {
      const newer = { stockout_id: '2', modified: '2026-11-27 11:00:00' };
      const transport = new FakeTransport([
        async (request) => {
          const pageNo = new URLSearchParams(request.body).get('page_no');
          return pageNo === '0' ? nativePage(records([1, 2]), 4) : nativePage([newer, ...records([3])], 5);
        },
      ]);
      const result = await client(nativeOptions, transport).queryAll(window, { order: 'first-last' });
      expect(result.records).toEqual([records([1])[0], newer, records([3])[0]]);
      expect(result).toMatchObject({ duplicatesDropped: 1, totalCountChanged: true });
    });

    it('uses page 0 total_count when a later page omits it', async () => {
      const transport = new FakeTransport([
        async (request) =>
          new URLSearchParams(request.body).get('page_no') === '0'
            ? nativePage(records([1, 2]), 3)
            : json({ code: 0, stockout_list: records([3]) }),
      ]);
      const result = await client(nativeOptions, transport).queryAll(window);
      expect(result.records).toHaveLength(3);
    });

    it('keeps a null entry in its place, with page and position for every entry', async () => {
      const transport = new FakeTransport([
        async (request) =>
          new URLSearchParams(request.body).get('page_no') === '0'
            ? nativePage([...records([1]), null], 3)
            : nativePage(records([3]), 3),
      ]);
      const result = await client(nativeOptions, transport).queryAll(window);
      expect(result.items).toEqual([
        { record: records([1])[0], pageNo: 0, position: 0 },
        { record: null, pageNo: 0, position: 1 },
        { record: records([3])[0], pageNo: 1, position: 0 },
      ]);
      expect(result.records.map((r) => r.stockout_id)).toEqual(['1', '3']);
      expect(result.totalCountChanged).toBe(false);
    });

    it('reads a page holding more or fewer entries than total_count implies as a changed window', async () => {
      const transport = new FakeTransport([
        async (request) =>
          new URLSearchParams(request.body).get('page_no') === '0'
            ? nativePage(records([1, 2]), 3)
            : nativePage(records([3, 4]), 3),
      ]);
      expect((await client(nativeOptions, transport).queryAll(window)).totalCountChanged).toBe(true);
      const inflated = new FakeTransport([async () => nativePage(records([1]), 1)]);
      const deflated = new FakeTransport([async () => nativePage(records([1, 2]), 1)]);
      expect((await client(nativeOptions, inflated).queryAll(window)).totalCountChanged).toBe(false);
      expect((await client(nativeOptions, deflated).queryAll(window)).totalCountChanged).toBe(true);
    });
  });

  describe('queryPages (streaming, server-capped page size)', () => {
    const all = Array.from({ length: 23 }, (_, i) => ({
      stockout_id: String(i + 1),
      modified: '2026-11-27 01:00:00',
    }));
    /** A server that serves page_size up to `cap()` (silently cut), offsets at the size it used. */
    const cappingServer = (cap: () => number) =>
      new FakeTransport([
        async (request) => {
          const p = Object.fromEntries(new URLSearchParams(request.body));
          const size = Math.min(Number(p.page_size), cap());
          const from = Number(p.page_no) * size;
          return nativePage(all.slice(from, from + size), all.length);
        },
      ]);
    const logged: string[] = [];
    const logger = {
      ...silentLogger,
      warn: (_o: unknown, msg?: string) => void logged.push(msg ?? ''),
    } as unknown as AppLogger;
    const capClient = (transport: HttpTransport, pageSize: number) =>
      new WdtStockoutReturnClient(
        { ...nativeOptions, pageSize },
        { transport, limiterRegistry: registry, clock: new ManualClock(NOW), logger },
      );
    const idsOf = (pages: WdtSourcePage[]) =>
      pages.flatMap((p) => p.items.map((i) => (i.record as { stockout_id: string }).stockout_id));
    const collect = async (it: AsyncIterable<WdtSourcePage>) => {
      const pages: WdtSourcePage[] = [];
      for await (const p of it) pages.push(p);
      return pages;
    };
    beforeEach(() => (logged.length = 0));

    it('pages the rest of the window at the size the server used, warning once', async () => {
      const transport = cappingServer(() => 4);
      const wdt = capClient(transport, 10);
      const pages = await collect(wdt.queryPages(window, { order: 'first-last' }));
      expect(pages.map((p) => [p.pageNo, p.pageSize, p.last])).toEqual([
        [0, 4, false],
        [1, 4, false],
        [2, 4, false],
        [3, 4, false],
        [4, 4, false],
        [5, 4, true],
      ]);
      expect(idsOf(pages)).toEqual(all.map((r) => r.stockout_id)); // none lost, none twice
      expect(transport.requests.map((_, i) => transport.params(i).page_size)).toEqual([
        '10',
        '4',
        '4',
        '4',
        '4',
        '4',
      ]);
      expect(pages.some((p) => p.restarted || p.totalCountChanged)).toBe(false);
      await collect(wdt.queryPages(window)); // the next window: same cap, no second warning
      expect(logged.filter((m) => /caps the page size/.test(m))).toHaveLength(1);
      expect((await wdt.queryAll(window)).records).toHaveLength(23);
    });

    it('re-pages the window from page 0 when a later page comes back cut (restarted)', async () => {
      let cap = 10;
      const transport = cappingServer(() => cap);
      const wdt = capClient(transport, 10);
      const pages: WdtSourcePage[] = [];
      for await (const p of wdt.queryPages(window, { order: 'first-last' })) {
        pages.push(p);
        cap = 5; // the server starts cutting after page 0
      }
      const restart = pages.findIndex((p) => p.restarted);
      expect(restart).toBe(1);
      expect(pages[restart]).toMatchObject({ pageNo: 0, pageSize: 5 });
      expect(idsOf(pages.slice(restart))).toEqual(all.map((r) => r.stockout_id));
      expect(pages.at(-1)).toMatchObject({ last: true, pageNo: 4 });
      expect(logged.filter((m) => /caps the page size/.test(m))).toHaveLength(1);
    });

    it('yields each page before asking for the next', async () => {
      const transport = cappingServer(() => 100);
      const wdt = capClient(transport, 10);
      const seen: number[] = [];
      for await (const p of wdt.queryPages(window)) seen.push(p.pageNo, transport.requests.length);
      // page 0 after 1 call, then last-first: page 2 after 2 calls, page 1 after 3.
      expect(seen).toEqual([0, 1, 2, 2, 1, 3]);
    });

    it('stops after page 0 when the window is too large', async () => {
      const wdt = capClient(
        cappingServer(() => 100),
        10,
      );
      const pages = await collect(wdt.queryPages(window, { maxTotalCount: 20 }));
      expect(pages).toEqual([expect.objectContaining({ tooLarge: true, last: true, items: [] })]);
    });
  });

  describe('rate limiter', () => {
    it('shares one limiter per gateway+sid across clients', () => {
      client(nativeOptions, new FakeTransport([]));
      client(nativeOptions, new FakeTransport([]));
      client({ ...nativeOptions, sid: 'other' }, new FakeTransport([]));
      expect(registry.keys().sort()).toEqual(['native:other', 'native:sid-1']);
    });

    it('runs normal calls before queued background calls', async () => {
      const limiter = createWdtLimiter({ callsPerMinute: 600_000, maxConcurrent: 1 });
      const order: string[] = [];
      let release: () => void = () => undefined;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const transport = new FakeTransport([
        async (request) => {
          const tag = new URLSearchParams(request.body).get('src_order_no') as string;
          order.push(tag);
          if (tag === 'first') await gate;
          return nativePage([], 0);
        },
      ]);
      const wdt = new WdtStockoutReturnClient(nativeOptions, {
        transport,
        limiter,
        clock: new ManualClock(NOW),
      });
      // Wait on observable state, not on sleeps: a loaded machine may take any time to get there.
      const waitUntil = async (cond: () => boolean) => {
        while (!cond()) await new Promise((resolve) => setTimeout(resolve, 1));
      };
      const first = wdt.queryPage({ ...window, srcOrderNo: 'first' });
      await waitUntil(() => order.length === 1); // `first` holds the only slot
      const background = wdt.queryPage({ ...window, srcOrderNo: 'background' }, { priority: 'background' });
      const normal = wdt.queryPage({ ...window, srcOrderNo: 'normal' });
      await waitUntil(() => limiter.queued() === 2); // both wait behind it
      expect(order).toEqual(['first']);
      release();
      await Promise.all([first, background, normal]);
      expect(order).toEqual(['first', 'normal', 'background']);
      await limiter.stop();
    });
  });

  describe('wdtRetryBackoff (cockatiel, half jitter)', () => {
    const backoff = { initialDelayMs: 100, rateLimitedInitialDelayMs: 1000, maxDelayMs: 3000 };
    /** The delays before retries 1..n after the given errors, with Math.random pinned to `r`. */
    function delays(errors: Error[], r: number): number[] {
      const random = jest.spyOn(Math, 'random').mockReturnValue(r);
      try {
        const out: number[] = [];
        let factory: IBackoffFactory<IRetryBackoffContext<unknown>> = wdtRetryBackoff(backoff);
        for (const [i, error] of errors.entries()) {
          const step = factory.next({ attempt: i + 1, result: { error } } as IRetryBackoffContext<unknown>);
          out.push(step.duration);
          factory = step;
        }
        return out;
      } finally {
        random.mockRestore();
      }
    }
    it('grows exponentially with equal jitter and a cap', () => {
      const transient = Array.from({ length: 10 }, () => new WdtTransientError('x'));
      expect(delays(transient, 0)).toEqual([50, 100, 200, 400, 800, 1500, 1500, 1500, 1500, 1500]);
      expect(delays(transient.slice(0, 1), 0.999)[0]).toBeLessThanOrEqual(100);
      // Capped at the maximum (cockatiel floors the jittered value).
      expect(delays(transient, 0.999999).at(-1)).toBeGreaterThanOrEqual(2999);
      expect(Math.max(...delays(transient, 0.999999))).toBeLessThanOrEqual(3000);
    });
    it('starts higher for rate limiting and honours a server hint', () => {
      expect(delays([new WdtRateLimitedError('x')], 0)).toEqual([500]);
      expect(delays([new WdtRateLimitedError('x', { retryAfterMs: 2500 })], 0)).toEqual([2500]);
      // Each kind keeps its own chain: a rate limit after two transient failures starts from its base.
      expect(
        delays([new WdtTransientError('x'), new WdtTransientError('x'), new WdtRateLimitedError('x')], 0),
      ).toEqual([50, 100, 500]);
    });
  });
});

import {
  WdtAuthError,
  WdtInvalidParamsError,
  WdtMalformedResponseError,
  WdtRateLimitedError,
  WdtTransientError,
} from './wdt-client.errors';
import { resolveErrorCodeTables } from './wdt-error-codes';
import { parseStockoutResponse } from './wdt-envelope.util';

const record = {
  stockout_id: '50012',
  order_no: 'CT2026112800012',
  warehouse_no: 'SH01',
  status: '110',
  detail_list: [{ rec_id: '100120', spec_no: 'BWB-500-W', goods_count: '2.0000' }],
  some_new_field: { nested: true },
};

const ok = (body: unknown, status = 200) => ({
  status,
  body: JSON.stringify(body),
  contentType: 'application/json',
});
const native = { gateway: 'native' as const, pageNo: 0 };
const qimen = { gateway: 'qimen' as const, pageNo: 2 };

function failure(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a failure');
}

describe('parseStockoutResponse', () => {
  it('reads the native envelope with counts and codes as strings, records untouched', () => {
    const page = parseStockoutResponse(
      ok({ code: '0', message: '', total_count: '12', stockout_list: [record] }),
      native,
    );
    expect(page.totalCount).toBe(12);
    expect(page.records).toEqual([record]);
    expect(Object.keys(page.records[0])).toEqual(Object.keys(record));
  });

  it('reads the Qimen envelope with numbers or strings', () => {
    expect(
      parseStockoutResponse(
        ok({ response: { errorcode: 0, total_count: 3, stockout_list: [record] } }),
        qimen,
      ),
    ).toEqual({ totalCount: 3, records: [record], entries: [record] });
    expect(
      parseStockoutResponse(
        ok({ response: { errorcode: '0', message: '', total_count: '31', stockout_list: [] } }),
        qimen,
      ).totalCount,
    ).toBe(31);
  });

  it('accepts an absent list only when total_count is 0, and an absent total_count (later pages)', () => {
    expect(parseStockoutResponse(ok({ code: 0, total_count: 0 }), native)).toEqual({
      totalCount: 0,
      records: [],
      entries: [],
    });
    expect(parseStockoutResponse(ok({ code: 0, stockout_list: [record] }), native)).toEqual({
      totalCount: undefined,
      records: [record],
      entries: [record],
    });
  });

  it('keeps entries that are not objects: a null record is a problem of that record, not of the page', () => {
    expect(
      parseStockoutResponse(ok({ code: 0, total_count: 3, stockout_list: [record, null, 'x'] }), native),
    ).toEqual({ totalCount: 3, records: [record], entries: [record, null, 'x'] });
  });

  it('classifies TOP error_response codes', () => {
    const bad = failure(() =>
      parseStockoutResponse(ok({ error_response: { code: 25, msg: 'Invalid signature' } }), qimen),
    );
    expect(bad).toBeInstanceOf(WdtAuthError);
    expect(bad).toMatchObject({ kind: 'auth', code: '25', gateway: 'qimen', pageNo: 2 });
    expect(bad.message).toContain('Invalid signature');

    const limited = failure(() =>
      parseStockoutResponse(
        ok({
          error_response: {
            code: 7,
            msg: 'App Call Limited',
            sub_code: 'accesscontrol.limited-by-app-access-count',
            sub_msg: 'This ban will last for 2 more seconds',
          },
        }),
        qimen,
      ),
    );
    expect(limited).toBeInstanceOf(WdtRateLimitedError);
    expect(limited).toMatchObject({ retryAfterMs: 2000 });

    expect(
      failure(() =>
        parseStockoutResponse(ok({ error_response: { code: '29', msg: 'Invalid app Key' } }), qimen),
      ),
    ).toBeInstanceOf(WdtAuthError);
    expect(
      failure(() =>
        parseStockoutResponse(
          ok({
            error_response: { code: 15, msg: 'Remote service error', sub_code: 'isp.remote-service-timeout' },
          }),
          qimen,
        ),
      ),
    ).toBeInstanceOf(WdtTransientError);
    expect(
      failure(() =>
        parseStockoutResponse(ok({ error_response: { code: 41, msg: 'Invalid arguments' } }), qimen),
      ),
    ).toBeInstanceOf(WdtInvalidParamsError);
  });

  it('classifies native and Qimen business codes, with overridable tables', () => {
    expect(
      failure(() =>
        parseStockoutResponse(ok({ code: 1012, message: '调用太频繁，1分钟内最多60次' }), native),
      ),
    ).toBeInstanceOf(WdtRateLimitedError);
    expect(
      failure(() => parseStockoutResponse(ok({ code: '100', message: '签名错误' }), native)),
    ).toBeInstanceOf(WdtAuthError);
    expect(
      failure(() =>
        parseStockoutResponse(
          ok({ response: { errorcode: 2000, message: '查询时间跨度不能超过30天' } }),
          qimen,
        ),
      ),
    ).toBeInstanceOf(WdtInvalidParamsError);
    // Unknown code: message hints first, then unknownCodeKind.
    expect(
      failure(() => parseStockoutResponse(ok({ code: 4242, message: '系统繁忙' }), native)),
    ).toBeInstanceOf(WdtTransientError);
    expect(failure(() => parseStockoutResponse(ok({ code: 4242, message: '?' }), native))).toBeInstanceOf(
      WdtInvalidParamsError,
    );
    const tables = resolveErrorCodeTables({ native: { '4242': 'rate_limited' } });
    expect(
      failure(() => parseStockoutResponse(ok({ code: 4242, message: '?' }), { ...native, tables })),
    ).toBeInstanceOf(WdtRateLimitedError);
  });

  it.each([
    [
      'an HTML page',
      { status: 200, body: '<html><head><title>系统维护中</title></head></html>' },
      'html_page',
    ],
    ['broken JSON', { status: 200, body: '{"code":0,"stockout_list":[{"stoc' }, 'invalid_json'],
    ['an empty body', { status: 200, body: '' }, 'empty_body'],
    ['no stockout_list', ok({ code: 0, total_count: '5' }), 'missing_stockout_list'],
    [
      'stockout_list not an array',
      ok({ code: 0, total_count: 1, stockout_list: { a: 1 } }),
      'invalid_stockout_list',
    ],
    [
      'total_count of a wrong type',
      ok({ code: 0, total_count: { v: 1 }, stockout_list: [] }),
      'invalid_total_count',
    ],
    ['no code at all', ok({ total_count: 1, stockout_list: [] }), 'missing_code'],
    ['Qimen without response', ok({ total_count: 1 }), 'missing_response'],
  ])('rejects %s as a malformed (transient) response', (_label, response, reason) => {
    const error = failure(() =>
      parseStockoutResponse(response, reason === 'missing_response' ? qimen : native),
    ) as WdtMalformedResponseError;
    expect(error).toBeInstanceOf(WdtMalformedResponseError);
    expect(error.kind).toBe('transient');
    expect(error.reason).toBe(reason);
  });

  it('names the HTML title and treats 5xx as transient, 429 as rate limited, 401 as auth', () => {
    const html = failure(() =>
      parseStockoutResponse(
        { status: 502, body: '<html><head><title>502 Bad Gateway</title></head></html>' },
        native,
      ),
    );
    expect(html).toBeInstanceOf(WdtTransientError);
    expect(html.message).toContain('502 Bad Gateway');
    expect(failure(() => parseStockoutResponse({ status: 429, body: 'slow down' }, native))).toBeInstanceOf(
      WdtRateLimitedError,
    );
    expect(failure(() => parseStockoutResponse({ status: 401, body: 'no' }, native))).toBeInstanceOf(
      WdtAuthError,
    );
  });

  it('scrubs response text before it reaches an error message', () => {
    const error = failure(() =>
      parseStockoutResponse(ok({ code: 100, message: 'sign mismatch for secret TOPSECRET' }), {
        ...native,
        scrub: (text) => text.split('TOPSECRET').join('***'),
      }),
    );
    expect(error.message).not.toContain('TOPSECRET');
  });
});

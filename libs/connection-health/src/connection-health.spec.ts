import { loadConnections } from '@libs/connections';
import { ConnectionStatusRecorder, ConnectionStatusValue } from './connection-status.recorder';
import { formatConnectionTable, selectConnections } from './connection-test.runner';
import { emptyWdtWindow, testWdtConnection } from './connection-test.util';

function fakeRows() {
  const writes: Array<{ key: string; value: ConnectionStatusValue }> = [];
  const rows = {
    put: async (key: string, value: object) => {
      // As stored (jsonb): a copy, not the recorder's live object.
      writes.push({ key, value: JSON.parse(JSON.stringify(value)) as ConnectionStatusValue });
    },
  };
  return { rows, writes };
}

describe('ConnectionStatusRecorder', () => {
  it('fails while any source fails, shows the newest failure, and writes only changes (and refreshes)', async () => {
    const { rows, writes } = fakeRows();
    let now = 1_000_000;
    const r = new ConnectionStatusRecorder(rows, { refreshMs: 30_000, now: () => now });
    r.report('wdt', 'shop-a', 'scheme:a', null);
    r.report('wdt', 'shop-a', 'scheme:a', null);
    now += 1000;
    r.report('wdt', 'shop-a', 'scheme:a', 'auth: 签名错误');
    r.report('wdt', 'shop-a', 'scheme:b', null);
    now += 1000;
    r.report('wdt', 'shop-a', 'scheme:a', null);
    await r.flush();
    expect(writes.map((w) => [w.key, w.value.ok, w.value.lastError])).toEqual([
      ['connection:wdt:shop-a', true, null],
      ['connection:wdt:shop-a', false, 'auth: 签名错误'],
      // ok again: the last error stays visible, `since` moves.
      ['connection:wdt:shop-a', true, 'auth: 签名错误'],
    ]);
    expect(writes[2]!.value.since).toBe(new Date(now).toISOString());
    now += 31_000;
    r.report('wdt', 'shop-a', 'scheme:a', null);
    await r.flush();
    expect(writes).toHaveLength(4);
    expect(writes[3]!.value.since).toBe(writes[2]!.value.since);
  });
});

describe('connection tests', () => {
  it('a WDT test queries one second a year back, page size 1; an error keeps its kind and message', async () => {
    const calls: unknown[] = [];
    const ok = await testWdtConnection({
      queryPage: async (q: unknown) => {
        calls.push(q);
        return { totalCount: 0, records: [], entries: [], pageNo: 0, pageSize: 1, attempts: 1 };
      },
    });
    expect(ok).toEqual({ ok: true, ms: expect.any(Number) });
    const now = Date.parse('2026-12-01T00:00:00Z');
    expect(emptyWdtWindow(now)).toEqual({ startTime: '2025-11-30 08:00:00', endTime: '2025-11-30 08:00:01' });
    expect(calls[0]).toMatchObject({ pageNo: 0, pageSize: 1 });
    const failed = await testWdtConnection({
      queryPage: async () => {
        throw Object.assign(new Error('boom'), { name: 'TimeoutError' });
      },
    });
    expect(failed).toMatchObject({ ok: false, errorKind: 'timeout' });
  });

  it('selects by kind and name, refuses unknown names listing the known ones, and prints a table', () => {
    const registry = loadConnections({
      env: {
        APP_MODE: 'sandbox',
        WDT_SID: 'sid-1',
        WDT_BASE_URL: 'http://127.0.0.1:1',
        WDT_APPKEY: 'k',
        KINGDEE_SERVER_URL: 'http://127.0.0.1:2/k3cloud/',
        KINGDEE_ACCT_ID: 'acct',
        KINGDEE_USERNAME: 'u',
        KINGDEE_APP_ID: 'a_b',
      },
      kinds: [],
    });
    expect(selectConnections(registry, { names: [] })).toEqual([
      { kind: 'wdt', name: 'default' },
      { kind: 'kingdee', name: 'default' },
    ]);
    expect(selectConnections(registry, { kind: 'kingdee', names: [] })).toEqual([
      { kind: 'kingdee', name: 'default' },
    ]);
    expect(() => selectConnections(registry, { names: ['x'] })).toThrow(
      'unknown connection "x" (known: wdt:default, kingdee:default)',
    );
    expect(
      formatConnectionTable([
        { name: 'default', kind: 'wdt', account: 'sid-1', ok: true, ms: 12 },
        {
          name: 'shop-b',
          kind: 'wdt',
          account: 'sid-b',
          ok: false,
          ms: 7,
          errorKind: 'auth',
          error: '签名\n错误',
        },
      ]),
    ).toBe(
      [
        'NAME     KIND  SID/ACCOUNT  OK      MS  ERROR',
        'default  wdt   sid-1        ok      12',
        'shop-b   wdt   sid-b        FAILED  7   auth: 签名 错误',
      ].join('\n'),
    );
  });
});

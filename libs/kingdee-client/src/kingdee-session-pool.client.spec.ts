import { KingdeeSessionPool } from './kingdee-session-pool.client';
import type { KingdeeHttpRequest, KingdeeHttpResponse, KingdeeHttpTransport } from './kingdee-http.transport';
import { findBillsByField } from './kingdee-query.util';

/** Issues one session per login and records how many calls each session has in flight. */
class CountingTransport implements KingdeeHttpTransport {
  private nextSid = 1;
  readonly inFlight = new Map<string, number>();
  maxPerSession = 0;
  maxTotal = 0;
  total = 0;
  readonly release: Array<() => void> = [];
  queries: string[] = [];

  async post(req: KingdeeHttpRequest): Promise<KingdeeHttpResponse> {
    if (req.url.includes('ValidateUser')) {
      const sid = `s${this.nextSid++}`;
      return {
        status: 200,
        setCookies: [`kdservice-sessionid=${sid}; path=/`],
        body: JSON.stringify({ LoginResultType: 1, KDSVCSessionId: sid }),
      };
    }
    if (req.url.includes('ExecuteBillQuery')) {
      const data = JSON.parse(req.body).data as { FilterString: string; StartRow: number; Limit: number };
      this.queries.push(`${data.FilterString}@${data.StartRow}`);
      const rows =
        data.StartRow === 0
          ? [
              [1, 'a', 'C'],
              [2, 'b', 'C'],
            ]
          : [[3, 'b', 'A']];
      return { status: 200, setCookies: [], body: JSON.stringify(rows) };
    }
    const sid = /kdservice-sessionid=([^;]+)/.exec(req.headers.Cookie ?? '')?.[1] ?? '?';
    const n = (this.inFlight.get(sid) ?? 0) + 1;
    this.inFlight.set(sid, n);
    this.total += 1;
    this.maxPerSession = Math.max(this.maxPerSession, n);
    this.maxTotal = Math.max(this.maxTotal, this.total);
    await new Promise<void>((resolve) => this.release.push(resolve));
    this.inFlight.set(sid, (this.inFlight.get(sid) ?? 1) - 1);
    this.total -= 1;
    return {
      status: 200,
      setCookies: [],
      body: JSON.stringify({
        Result: { ResponseStatus: { IsSuccess: true, MsgCode: 0, Errors: [], SuccessEntitys: [] } },
      }),
    };
  }
}

const options = {
  serverUrl: 'https://erp.example/k3cloud/',
  acctId: 'a',
  username: 'u',
  password: 'p',
  authMode: 'validate_user' as const,
};

async function flush(): Promise<void> {
  for (let i = 0; i < 20; i += 1) await new Promise<void>((r) => setImmediate(r));
}

describe('KingdeeSessionPool', () => {
  it('runs at most N calls at once, one per session, and queues the rest', async () => {
    const t = new CountingTransport();
    const pool = new KingdeeSessionPool({ ...options, sessions: 3 }, { transport: t });
    const calls = Array.from({ length: 7 }, (_, i) => pool.save('PUR_MRB', { FBillNo: `B${i}` }));
    await flush();
    expect(t.total).toBe(3);
    expect(pool.busy).toBe(3);
    expect(pool.waiting).toBe(4);
    while (t.release.length > 0 || t.total > 0) {
      t.release.splice(0).forEach((r) => r());
      await flush();
    }
    await Promise.all(calls);
    expect(t.maxTotal).toBe(3);
    expect(t.maxPerSession).toBe(1);
    expect(pool.busy).toBe(0);
  });

  it('rejects a pool of zero sessions', () => {
    expect(() => new KingdeeSessionPool({ ...options, sessions: 0 })).toThrow(/sessions/);
  });

  it('findBillsByField builds in-filters and pages', async () => {
    const t = new CountingTransport();
    const pool = new KingdeeSessionPool(options, { transport: t });
    const rows = await findBillsByField(pool, {
      formId: 'PUR_MRB',
      field: 'FBillNo',
      values: ['a', 'b'],
      pageSize: 2,
    });
    expect(rows).toEqual([
      { FID: 1, FBillNo: 'a', FDocumentStatus: 'C' },
      { FID: 2, FBillNo: 'b', FDocumentStatus: 'C' },
      { FID: 3, FBillNo: 'b', FDocumentStatus: 'A' },
    ]);
    expect(t.queries).toEqual(["FBillNo in ('a','b')@0", "FBillNo in ('a','b')@2"]);
  });
});

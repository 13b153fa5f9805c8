import { ManualClock } from '@libs/common';
import { HttpPostRequest, HttpPostResponse, HttpTransport } from './http-transport';
import { WdtConfigError } from './wdt-client.errors';
import { WdtCallGate, WdtCallGateRequest, wdtBudgetKeyOf } from './wdt-call-gate';
import { WDT_PRIORITY, WdtLimiterRegistry, WdtRateLimiter, createWdtLimiter } from './wdt-rate-limiter';
import { WdtStockoutReturnClient } from './wdt-stockout-return.client';

/** A gate the test opens by hand: each acquire waits until `open()` / `refuse()`. */
class HandGate implements WdtCallGate {
  readonly asked: WdtCallGateRequest[] = [];
  private readonly pending: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  stopped = false;

  acquire(req: WdtCallGateRequest): Promise<void> {
    this.asked.push(req);
    return new Promise<void>((resolve, reject) => {
      const entry = { resolve, reject };
      this.pending.push(entry);
      req.signal?.addEventListener(
        'abort',
        () => {
          this.pending.splice(this.pending.indexOf(entry), 1);
          reject(req.signal!.reason as Error);
        },
        { once: true },
      );
    });
  }
  open(n = 1): void {
    for (const p of this.pending.splice(0, n)) p.resolve();
  }
  refuse(error: Error): void {
    this.pending.shift()?.reject(error);
  }
  get waiting(): number {
    return this.pending.length;
  }
  async stop(): Promise<void> {
    this.stopped = true;
  }
}

const flush = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

describe('WdtRateLimiter with a shared gate', () => {
  let clock: ManualClock;
  let gate: HandGate;
  const make = (maxConcurrent = 2) =>
    new WdtRateLimiter({
      callsPerMinute: 60,
      maxConcurrent,
      clock,
      key: 'native:k:sid',
      gate,
      budgetKey: 'native:k',
    });

  beforeEach(() => {
    clock = new ManualClock(1_000_000);
    gate = new HandGate();
  });

  it('starts a call only once the gate lets it go, and counts it from then', async () => {
    const limiter = make();
    const started: number[] = [];
    const call = limiter.schedule({ scheme: 'shop-a' }, async (at) => {
      started.push(at);
      return 'ok';
    });
    await flush();
    expect(started).toEqual([]);
    expect(gate.asked).toEqual([
      {
        budgetKey: 'native:k',
        limit: 60,
        scheme: 'shop-a',
        priority: 'normal',
        signal: expect.any(AbortSignal),
      },
    ]);
    clock.advance(5000);
    gate.open();
    await expect(call).resolves.toBe('ok');
    expect(started).toEqual([1_005_000]);
  });

  it('asks the gate only for calls it could run now (its own slots stay in front)', async () => {
    const limiter = make(1);
    const a = limiter.schedule({ priority: WDT_PRIORITY.background, scheme: 'sweep' }, async () => 'a');
    const b = limiter.schedule({ scheme: 'poll' }, async () => 'b');
    await flush();
    expect(gate.asked.map((r) => [r.scheme, r.priority])).toEqual([['sweep', 'background']]);
    gate.open();
    await expect(a).resolves.toBe('a');
    await flush();
    expect(gate.asked.map((r) => r.scheme)).toEqual(['sweep', 'poll']);
    gate.open();
    await expect(b).resolves.toBe('b');
  });

  it('a refused or aborted wait fails the call without running it and frees the slot', async () => {
    const limiter = make(1);
    const ran: string[] = [];
    const refused = limiter.schedule({ scheme: 's' }, async () => void ran.push('refused'));
    const controller = new AbortController();
    const aborted = limiter.schedule(
      { scheme: 's', signal: controller.signal },
      async () => void ran.push('aborted'),
    );
    const last = limiter.schedule({ scheme: 's' }, async () => void ran.push('last'));
    await flush();
    gate.refuse(new Error('gate stopped'));
    await expect(refused).rejects.toThrow('gate stopped');
    await flush();
    controller.abort(new Error('caller gave up'));
    await expect(aborted).rejects.toThrow('caller gave up');
    await flush();
    expect(limiter.recentCalls()).toBe(1); // only `last`, at the gate: calls that never started do not count
    gate.open();
    await last;
    expect(ran).toEqual(['last']);
  });

  it('stop() aborts the waits at the gate', async () => {
    const limiter = make();
    const call = limiter.schedule({ scheme: 's' }, async () => 'never');
    await flush();
    expect(gate.waiting).toBe(1);
    await limiter.stop();
    await expect(call).rejects.toThrow('WDT rate limiter stopped');
  });

  it('without a gate nothing changes: the call starts at once', async () => {
    const limiter = createWdtLimiter({ callsPerMinute: 60, clock, key: 'plain' });
    let ran = false;
    const call = limiter.schedule({ scheme: 'ignored' }, async () => {
      ran = true;
    });
    expect(ran).toBe(true);
    await call;
  });
});

describe('WdtStockoutReturnClient with a shared gate', () => {
  class OkTransport implements HttpTransport {
    async post(_request: HttpPostRequest): Promise<HttpPostResponse> {
      return {
        status: 200,
        contentType: 'application/json',
        body: JSON.stringify({ code: 0, message: '', total_count: '0', stockout_list: [] }),
      };
    }
  }
  const options = {
    gateway: 'native' as const,
    baseUrl: 'https://sandbox.wangdian.cn/',
    sid: 'sid-1',
    appkey: 'appkey-1',
    appsecret: 'secret-123456',
    callsPerMinute: 30,
  };
  const window = { startTime: '2026-11-27 00:00:00', endTime: '2026-11-28 00:00:00' };

  it('passes its budget key, the scheme and the lane of each call to the gate', async () => {
    const gate = new HandGate();
    const client = new WdtStockoutReturnClient(options, {
      transport: new OkTransport(),
      limiterRegistry: new WdtLimiterRegistry(),
      gate,
    });
    const page = client.queryPage({ ...window, pageNo: 0 }, { scheme: 'shop-a', priority: 'background' });
    await flush();
    expect(gate.asked).toMatchObject([
      { budgetKey: 'native:appkey-1', limit: 30, scheme: 'shop-a', priority: 'background' },
    ]);
    gate.open();
    await expect(page).resolves.toMatchObject({ totalCount: 0 });
  });

  it('takes an explicit budget key, and refuses a gate beside an injected limiter', () => {
    expect(wdtBudgetKeyOf({ gateway: 'qimen', qimen: { appKey: '23000001' } })).toBe('qimen:23000001');
    const limiter = createWdtLimiter({ callsPerMinute: 30 });
    expect(() => new WdtStockoutReturnClient(options, { limiter, gate: new HandGate() })).toThrow(
      WdtConfigError,
    );
  });
});

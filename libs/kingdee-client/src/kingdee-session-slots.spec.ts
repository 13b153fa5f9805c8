import type { KingdeeHttpRequest, KingdeeHttpResponse, KingdeeHttpTransport } from './kingdee-http.transport';
import { KingdeeSessionPool } from './kingdee-session-pool.client';
import type { KingdeeSlotHold, KingdeeSlotHoldRequest, KingdeeSlotLeases } from './kingdee-session-slots';

/** Counts every request in flight (logins included); business calls wait until the test lets them end. */
class GatedTransport implements KingdeeHttpTransport {
  inFlight = 0;
  maxInFlight = 0;
  logins = 0;
  private nextSid = 1;
  readonly finish: Array<() => void> = [];

  async post(req: KingdeeHttpRequest): Promise<KingdeeHttpResponse> {
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (req.url.includes('ValidateUser')) {
        this.logins += 1;
        await new Promise<void>((r) => setImmediate(r));
        const sid = `s${this.nextSid++}`;
        return {
          status: 200,
          setCookies: [`kdservice-sessionid=${sid}; path=/`],
          body: JSON.stringify({ LoginResultType: 1, KDSVCSessionId: sid }),
        };
      }
      await new Promise<void>((resolve) => this.finish.push(resolve));
      return {
        status: 200,
        setCookies: [],
        body: JSON.stringify({
          Result: { ResponseStatus: { IsSuccess: true, MsgCode: 0, Errors: [], SuccessEntitys: [] } },
        }),
      };
    } finally {
      this.inFlight -= 1;
    }
  }

  /** Lets the calls waiting now end. */
  endAll(): void {
    this.finish.splice(0).forEach((f) => f());
  }
}

/** Leases the test moves by hand. */
class HandLeases implements KingdeeSlotLeases {
  req?: KingdeeSlotHoldRequest;
  held = 0;
  released = false;
  async hold(req: KingdeeSlotHoldRequest): Promise<KingdeeSlotHold> {
    this.req = req;
    return {
      held: () => this.held,
      release: async () => {
        this.released = true;
        this.set(0);
      },
    };
  }
  set(held: number): void {
    this.held = held;
    this.req?.onChange(held);
  }
}

const options = {
  serverUrl: 'https://erp.example/k3cloud/',
  acctId: 'a',
  username: 'u',
  password: 'p',
  authMode: 'validate_user' as const,
  sessions: 3,
};

async function flush(): Promise<void> {
  for (let i = 0; i < 20; i += 1) await new Promise<void>((r) => setImmediate(r));
}

describe('KingdeeSessionPool with shared session slots', () => {
  it('waits while it holds no slot, then uses at most the slots it holds, logins included', async () => {
    const t = new GatedTransport();
    const leases = new HandLeases();
    const pool = new KingdeeSessionPool(options, {
      transport: t,
      slots: { leases, account: 'erp.example/k3cloud/#a', cap: 4 },
    });
    const calls = Array.from({ length: 5 }, (_, i) => pool.save('PUR_MRB', { FBillNo: `B${i}` }));
    await flush();
    expect(leases.req).toMatchObject({ account: 'erp.example/k3cloud/#a', cap: 4, want: 3 });
    expect(t.inFlight).toBe(0);
    expect(t.logins).toBe(0);
    expect(pool.waiting).toBe(5);

    leases.set(1);
    await flush();
    expect(t.inFlight).toBe(1);
    expect(t.logins).toBe(1);
    expect(leases.req!.inUse!()).toBe(1);

    leases.set(3);
    await flush();
    expect(t.inFlight).toBe(3);
    expect(t.maxInFlight).toBe(3);
    expect(t.logins).toBe(3);
    while (t.finish.length > 0) {
      t.endAll();
      await flush();
    }
    await Promise.all(calls);
    expect(t.maxInFlight).toBe(3);
    expect(t.logins).toBe(3);
  });

  it('after losing slots, lets the calls in flight end and starts new ones only below what it holds', async () => {
    const t = new GatedTransport();
    const leases = new HandLeases();
    const pool = new KingdeeSessionPool(options, { transport: t, slots: { leases, account: 'x#a', cap: 3 } });
    pool.save('PUR_MRB', { FBillNo: 'warm' }).catch(() => undefined);
    await flush();
    leases.set(3);
    await flush();
    t.endAll();
    await flush();
    const first = Array.from({ length: 3 }, (_, i) => pool.save('PUR_MRB', { FBillNo: `A${i}` }));
    await flush();
    expect(t.inFlight).toBe(3);
    const more = Array.from({ length: 2 }, (_, i) => pool.save('PUR_MRB', { FBillNo: `C${i}` }));
    leases.set(1); // e.g. a lease that could not be renewed, or given to a waiting process
    await flush();
    expect(pool.usable).toBe(1);
    t.endAll(); // the three in flight end
    await flush();
    // One at a time now, on session 0 (sessions 1 and 2 were forgotten: no login for them).
    const loginsBefore = t.logins;
    expect(t.inFlight).toBe(1);
    t.endAll();
    await flush();
    expect(t.inFlight).toBe(1);
    t.endAll();
    await Promise.all([...first, ...more]);
    expect(t.logins).toBe(loginsBefore);
    // Given slots again, sessions 1 and 2 log in anew: their old sessions were forgotten.
    leases.set(3);
    const again = Array.from({ length: 3 }, (_, i) => pool.save('PUR_MRB', { FBillNo: `D${i}` }));
    await flush();
    expect(t.inFlight).toBe(3);
    expect(t.logins).toBe(loginsBefore + 2);
    t.endAll();
    await Promise.all(again);
  });

  it('close() gives the slots back and fails the calls still waiting', async () => {
    const t = new GatedTransport();
    const leases = new HandLeases();
    const pool = new KingdeeSessionPool(options, { transport: t, slots: { leases, account: 'x#a', cap: 2 } });
    const waiting = pool.save('PUR_MRB', { FBillNo: 'B' });
    await flush();
    await pool.close();
    await expect(waiting).rejects.toThrow('Kingdee session pool closed');
    expect(leases.released).toBe(true);
    await expect(pool.save('PUR_MRB', { FBillNo: 'late' })).rejects.toThrow('closed');
  });

  it('without slots every session is its own, as before', async () => {
    const t = new GatedTransport();
    const pool = new KingdeeSessionPool(options, { transport: t });
    const calls = Array.from({ length: 4 }, (_, i) => pool.save('PUR_MRB', { FBillNo: `B${i}` }));
    await flush();
    expect(t.inFlight).toBe(3);
    while (t.finish.length > 0) {
      t.endAll();
      await flush();
    }
    await Promise.all(calls);
    expect(pool.usable).toBe(3);
  });
});

import { WriteSlots } from './write-slots';

describe('WriteSlots: at most KINGDEE_SESSIONS writes at a time', () => {
  it('queues beyond the size, hands slots on in order, and lets an aborted waiter go', async () => {
    const slots = new WriteSlots(2);
    const r1 = await slots.acquire();
    const r2 = await slots.acquire();
    expect(slots.inUse).toBe(2);
    const order: string[] = [];
    const abort = new AbortController();
    const third = slots.acquire().then((r) => (order.push('third'), r));
    const aborted = slots.acquire(abort.signal).catch((e: unknown) => (order.push('aborted'), e));
    const fourth = slots.acquire().then((r) => (order.push('fourth'), r));
    abort.abort(new Error('revoked'));
    await aborted;
    r1();
    r1(); // twice: counted once
    const r3 = await third;
    expect(slots.inUse).toBe(2);
    r2();
    const r4 = await fourth;
    expect(order).toEqual(['aborted', 'third', 'fourth']);
    r3();
    r4();
    expect(slots.inUse).toBe(0);
  });
});

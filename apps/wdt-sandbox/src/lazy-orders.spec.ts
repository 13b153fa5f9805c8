import { formatShanghai, parseShanghai } from '@libs/common';
import { LAZY_MODIFIED_LAG_MS, LazyDefinition, LazyOrderSet } from './lazy-orders';
import { computeMd5Str } from './order-generator';
import { OrderStore, StockoutFilter } from './order-store';

const at = (text: string) => parseShanghai(text) as number;
const FROM = at('2026-11-01 00:00:00');

const definition = (overrides: Partial<LazyDefinition> = {}): LazyDefinition => ({
  count: 1000,
  seed: 7,
  fromMs: FROM,
  toMs: FROM + 3_600_000,
  ...overrides,
});

describe('LazyOrderSet', () => {
  it('generates order i from (seed, i) alone: same definition → same order, in any call order', () => {
    const a = new LazyOrderSet(definition(), 60_001, 100_001);
    const b = new LazyOrderSet(definition(), 60_001, 100_001);
    const later = b.order(999);
    expect(a.order(3)).toEqual(b.order(3));
    expect(a.order(999)).toEqual(later);
    expect(a.order(3)).toEqual(a.order(3));
    expect(a.order(3)).not.toEqual(a.order(4));
    expect(new LazyOrderSet(definition({ seed: 8 }), 60_001, 100_001).order(3)).not.toEqual(a.order(3));
  });

  it('gives each order its index-derived id, status, times, unique numbers and a valid md5_str', () => {
    const set = new LazyOrderSet(definition(), 60_001, 100_001);
    const numbers = new Set<string>();
    for (const i of [0, 1, 57, 500, 999]) {
      const order = set.order(i);
      expect(order.stockout_id).toBe(String(60_001 + i));
      expect(Number(order.status)).toBe(set.slot(i).status);
      expect(order.warehouse_no).toBe(set.slot(i).warehouseNo);
      if (set.shipped(i)) {
        expect(parseShanghai(String(order.consign_time))).toBe(set.timeOf(i));
        expect(parseShanghai(order.modified)).toBe(set.timeOf(i) + LAZY_MODIFIED_LAG_MS);
      } else {
        expect(parseShanghai(order.modified)).toBe(set.timeOf(i));
      }
      expect(order.md5_str).toBe(computeMd5Str(order));
      expect(set.indexOfNumber(order.order_no)).toBe(i);
      numbers.add(order.order_no);
      for (const [k, line] of (order.details_list ?? []).entries())
        expect(line.rec_id).toBe(String(100_001 + i * 5 + k));
    }
    expect(numbers.size).toBe(5);
  });

  it('spaces times monotonically from `from` to `to`, both included', () => {
    for (const count of [1, 2, 7, 1000, 10_000]) {
      const set = new LazyOrderSet(definition({ count }), 1, 1);
      expect(set.timeOf(0)).toBe(FROM);
      if (count > 1) expect(set.timeOf(count - 1)).toBe(FROM + 3_600_000);
      for (let i = 1; i < count; i++) expect(set.timeOf(i)).toBeGreaterThanOrEqual(set.timeOf(i - 1));
    }
  });

  it('finds the indices of a closed window by arithmetic, exactly as a scan would (one-second ends)', () => {
    const cases: Array<[number, number]> = [
      [1, 3_600],
      [2, 3_600],
      [1000, 3_600], // fewer orders than seconds
      [10_000, 3_600], // several orders per second
      [500, 0], // all in one second
    ];
    for (const [count, spanSec] of cases) {
      const set = new LazyOrderSet(definition({ count, toMs: FROM + spanSec * 1000 }), 1, 1);
      const times = Array.from({ length: count }, (_, i) => set.timeOf(i));
      const probes = [...new Set(times.slice(0, 50).concat(times.slice(-50)))];
      const windows: Array<[number, number]> = [
        [FROM - 5_000, FROM - 1_000],
        [FROM - 1_000, FROM],
        [FROM, FROM],
        [FROM + spanSec * 1000, FROM + spanSec * 1000 + 10_000],
        [FROM - 10_000, FROM + spanSec * 1000 + 10_000],
        [FROM + 1_000, FROM + 2_000],
      ];
      for (const t of probes)
        windows.push([t, t], [t - 1000, t], [t, t + 1000], [t + 1, t + 999], [t - 999, t - 1]);
      for (const [start, end] of windows) {
        const expected = times.flatMap((t, i) => (t >= start && t <= end ? [i] : []));
        const [lo, hi] = set.indexRange(start, end);
        expect({ start, end, got: [lo, hi], n: hi - lo }).toEqual({
          start,
          end,
          got: expected.length > 0 ? [expected[0], expected[expected.length - 1] + 1] : [lo, lo],
          n: expected.length,
        });
      }
    }
  });

  it('counts and finds the k-th order of a status without generating any', () => {
    const set = new LazyOrderSet(definition({ statusWeights: { '95': 3, '110': 4, '5': 1 } }), 1, 1);
    const is95 = (slot: { status: number }) => slot.status === 95;
    const statuses = Array.from({ length: 1000 }, (_, i) => set.slot(i).status);
    expect(new Set(statuses)).toEqual(new Set([95, 110, 5]));
    for (const [lo, hi] of [
      [0, 1000],
      [0, 0],
      [13, 14],
      [99, 201],
      [250, 777],
    ]) {
      const matching = statuses.flatMap((s, i) => (i >= lo && i < hi && s === 95 ? [i] : []));
      expect(set.countIn(lo, hi, '95', is95)).toBe(matching.length);
      matching.forEach((index, k) => expect(set.nth(lo, k, '95', is95)).toBe(index));
    }
  });
});

describe('OrderStore with a lazy set', () => {
  const windowFilter = (start: string, end: string, extra: Partial<StockoutFilter> = {}): StockoutFilter => ({
    startMs: at(start),
    endMs: at(end),
    axisMode: 'documented',
    ...extra,
  });

  /** The same orders, stored: what every lazy answer must equal. */
  function twins(count: number, spanMs = 3_600_000) {
    const lazy = new OrderStore();
    const set = lazy.defineLazy(definition({ count, toMs: FROM + spanMs }));
    const eager = new OrderStore();
    for (let i = 0; i < count; i++) eager.upsert(set.order(i));
    return { lazy, eager, set };
  }

  const filters: StockoutFilter[] = [
    windowFilter('2026-11-01 00:00:00', '2026-11-01 01:00:00'),
    windowFilter('2026-11-01 00:10:00', '2026-11-01 00:20:00'),
    windowFilter('2026-11-01 00:10:00', '2026-11-01 00:20:00', { status: 5 }),
    windowFilter('2026-11-01 00:10:00', '2026-11-01 00:20:00', { status: 95, warehouseNo: 'BJ02' }),
    windowFilter('2026-11-01 00:10:00', '2026-11-01 00:20:00', { axisMode: 'modified' }),
    windowFilter('2026-11-01 00:10:00', '2026-11-01 00:20:00', { status: 50, axisMode: 'consign_time' }),
    windowFilter('2026-10-31 00:00:00', '2026-10-31 23:59:59'),
  ];

  it('pages every filter exactly like the same orders stored (totals and content)', () => {
    const { lazy, eager } = twins(400);
    for (const filter of filters) {
      for (const size of [7, 100]) {
        const expected = eager.page(filter, 0, 10_000);
        for (let page = 0; page * size <= expected.total; page++) {
          expect(lazy.page(filter, page, size)).toEqual(eager.page(filter, page, size));
        }
      }
    }
    expect(lazy.size).toBe(400);
  });

  it('answers identity filters (stockout_no, src_order_no, outer_no) like the stored orders', () => {
    const { lazy, eager, set } = twins(200);
    const whole = windowFilter('2026-11-01 00:00:00', '2026-11-01 01:00:00');
    const shipped = [0, 1, 2, 3, 4, 5].find((i) => set.shipped(i)) as number;
    const order = set.order(shipped);
    const withOuter = Array.from({ length: 200 }, (_, i) => set.order(i)).find(
      (o) => o.outer_no !== '' && Number(o.status) >= 95,
    );
    const probes: Partial<StockoutFilter>[] = [
      { stockoutNo: order.order_no },
      { srcOrderNo: String(order.src_order_no) },
      { stockoutNo: 'CT2026110199999999' },
      { outerNo: String(withOuter?.outer_no) },
    ];
    for (const probe of probes) {
      const filter = { ...whole, ...probe };
      expect(lazy.page(filter, 0, 100)).toEqual(eager.page(filter, 0, 100));
    }
    expect(lazy.page({ ...whole, stockoutNo: order.order_no }, 0, 100).total).toBe(1);
  });

  it('stores an edited lazy order (the edit shows, once) and hides a deleted one', () => {
    const { lazy, eager, set } = twins(300);
    const shipped = Array.from({ length: 300 }, (_, i) => i).filter((i) => set.shipped(i));
    const [edited, moved, deleted] = [shipped[10], shipped[20], shipped[30]];
    const edit = (store: OrderStore, i: number, changes: Record<string, string>) => {
      const order = store.get(String(set.baseId + i));
      store.upsert({ ...order!, ...changes });
    };
    for (const store of [lazy, eager]) {
      edit(store, edited, { remark: 'edited' });
      // Moved to the end of the window: its position in the merge changes.
      edit(store, moved, { consign_time: '2026-11-01 00:59:59', remark: 'moved' });
      expect(store.remove(set.order(deleted).order_no)).toBe(true);
    }
    expect(lazy.get(String(set.baseId + edited))?.remark).toBe('edited');
    expect(lazy.get(set.order(deleted).order_no)).toBeUndefined();
    expect(lazy.size).toBe(299);
    for (const filter of filters) {
      for (const size of [9, 100]) {
        const expected = eager.page(filter, 0, 10_000);
        for (let page = 0; page * size <= expected.total; page++)
          expect(lazy.page(filter, page, size)).toEqual(eager.page(filter, page, size));
      }
    }
    const listAll = (store: OrderStore, status?: number) =>
      store.list({ pageNo: 0, pageSize: 1000, status }).orders.map((o) => `${o.stockout_id}:${o.remark}`);
    expect(listAll(lazy)).toEqual(listAll(eager));
    expect(listAll(lazy, 110)).toEqual(listAll(eager, 110));
    expect(lazy.list({ pageNo: 2, pageSize: 50 })).toEqual(eager.list({ pageNo: 2, pageSize: 50 }));

    // A new set replaces this one: nothing of the old one's edits and deletions hides any of its orders.
    const next = lazy.defineLazy(definition({ count: 300, seed: 99 }));
    const whole = windowFilter('2026-11-01 00:00:00', '2026-11-01 01:00:00');
    const nextShipped = Array.from({ length: 300 }, (_, i) => i).filter((i) => next.shipped(i));
    const page = lazy.page(whole, 0, 1000);
    expect(page.total).toBe(nextShipped.length + 2); // + the two edited orders, now plain stored ones
    expect(page.orders.filter((o) => Number(o.stockout_id) >= next.baseId).map((o) => o.stockout_id)).toEqual(
      nextShipped.map((i) => String(next.baseId + i)),
    );
  });

  it('merges a stored order among lazy ones of the same second by stockout_id', () => {
    // 1,000 orders over 50 s: ~20 per second, so (time, id) ties are broken by id.
    const { lazy, eager, set } = twins(1000, 50_000);
    const shipped = Array.from({ length: 1000 }, (_, i) => i).filter((i) => set.shipped(i));
    for (const store of [lazy, eager]) {
      const order = store.get(String(set.baseId + shipped[100]))!;
      // Into the middle of a later, crowded second; and a brand-new order there with a higher id.
      store.upsert({ ...order, consign_time: formatShanghai(set.timeOf(shipped[450])), remark: 'moved' });
      store.upsert({ ...set.order(shipped[451]), stockout_id: String(set.lastId + 1), order_no: 'CTNEW' });
    }
    const filter = windowFilter('2026-11-01 00:00:00', '2026-11-01 00:00:50');
    const expected = eager.page(filter, 0, 10_000);
    expect(expected.total).toBeGreaterThan(500);
    for (let page = 0; page * 97 <= expected.total; page++)
      expect(lazy.page(filter, page, 97)).toEqual(eager.page(filter, page, 97));
  });

  it('keeps new ids after the lazy range and reset forgets the set', () => {
    const store = new OrderStore();
    const set = store.defineLazy(definition({ count: 1_000_000 }));
    expect(store.size).toBe(1_000_000);
    expect(store.nextStockoutId()).toBe(set.lastId + 1);
    const page = store.page(windowFilter('2026-11-01 00:30:00', '2026-11-01 00:30:00'), 0, 100);
    expect(page.total).toBeGreaterThan(0);
    expect(page.orders.every((o) => o.consign_time === formatShanghai(at('2026-11-01 00:30:00')))).toBe(true);
    store.reset();
    expect(store.size).toBe(0);
    expect(store.lazySet).toBeUndefined();
  });
});

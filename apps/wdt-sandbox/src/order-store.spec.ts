import { parseShanghai } from '@libs/common';
import { WdtOrderRecord } from './order-generator';
import { OrderStore, StockoutFilter } from './order-store';

const order = (
  id: number,
  status: number,
  consign: string,
  modified: string,
  extra = {},
): WdtOrderRecord => ({
  stockout_id: String(id),
  order_no: `CT${id}`,
  status: String(status),
  consign_time: consign,
  modified,
  warehouse_no: 'SH01',
  src_order_no: `CGTH${id}`,
  ...extra,
});

const window = (start: string, end: string, extra: Partial<StockoutFilter> = {}): StockoutFilter => ({
  startMs: parseShanghai(start) as number,
  endMs: parseShanghai(end) as number,
  axisMode: 'documented',
  ...extra,
});

describe('OrderStore.query', () => {
  const store = new OrderStore();
  store.upsert(order(3, 110, '2026-11-28 01:00:00', '2026-11-28 01:01:00'));
  store.upsert(order(1, 95, '2026-11-28 01:00:00', '2026-11-28 02:00:00', { warehouse_no: 'BJ02' }));
  store.upsert(order(2, 95, '2026-11-27 23:00:00', '2026-11-28 01:30:00'));
  store.upsert(order(4, 55, '0000-00-00 00:00:00', '2026-11-28 01:10:00'));
  store.upsert(order(5, 5, '0000-00-00 00:00:00', '2026-11-28 01:20:00'));
  const ids = (filter: StockoutFilter) => store.page(filter, 0, 100).orders.map((o) => o.stockout_id);

  it('without status returns only shipped/completed, on consign_time, ordered by time then id', () => {
    expect(ids(window('2026-11-27 00:00:00', '2026-11-29 00:00:00'))).toEqual(['2', '1', '3']);
  });

  it('is a closed interval on the axis', () => {
    expect(ids(window('2026-11-28 01:00:00', '2026-11-28 01:00:00'))).toEqual(['1', '3']);
  });

  it('filters status < 95 on modified', () => {
    expect(ids(window('2026-11-28 01:00:00', '2026-11-28 01:15:00', { status: 55 }))).toEqual(['4']);
    expect(ids(window('2026-11-28 01:00:00', '2026-11-28 01:15:00', { status: 5 }))).toEqual([]);
    expect(
      ids(window('2026-11-28 01:30:00', '2026-11-28 03:00:00', { status: 95, axisMode: 'modified' })),
    ).toEqual(['2', '1']);
  });

  it('applies warehouse, src_order_no and stockout_no filters', () => {
    const all = window('2026-11-27 00:00:00', '2026-11-29 00:00:00');
    expect(ids({ ...all, warehouseNo: 'BJ02' })).toEqual(['1']);
    expect(ids({ ...all, srcOrderNo: 'CGTH3' })).toEqual(['3']);
    expect(ids({ ...all, stockoutNo: 'CT2' })).toEqual(['2']);
  });

  it('pages from 0 with a stable total and hands out copies', () => {
    const all = window('2026-11-27 00:00:00', '2026-11-29 00:00:00');
    expect(store.page(all, 1, 2)).toMatchObject({ total: 3, orders: [{ stockout_id: '3' }] });
    store.page(all, 0, 1).orders[0].status = '5';
    expect(store.get('2')?.status).toBe('95');
  });
});

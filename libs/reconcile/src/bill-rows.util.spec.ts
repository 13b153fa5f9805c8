import { billFromRows, billQueryOrder, groupBillsByKey } from './bill-rows.util';
import { ReconcileInputError } from './reconcile.errors';
import type { QueryRow, TargetBillGroup } from './reconcile.types';
import { shippedPlan } from '../../../test/support/reconcile/reconcile-fixtures.util';

const plan = shippedPlan();

function row(key: string, fid: number, entryId: number | null, qty = 1): QueryRow {
  return { FID: fid, FBillNo: key, FDocumentStatus: 'C', FPURMRBENTRY_FEntryID: entryId, FRMREALQTY: qty };
}
async function* stream<T>(items: T[]): AsyncGenerator<T> {
  for (const i of items) yield i;
}
async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('bill rows', () => {
  it('orders by key, FID, then entry id', () => {
    expect(billQueryOrder(plan)).toBe('FBillNo ASC,FID ASC,FPURMRBENTRY_FEntryID ASC');
  });

  it('turns one bill’s rows into header and lines; a bill without lines has none', () => {
    const b = billFromRows(plan, [row('A', 7, 70, 2), row('A', 7, 71, 3)]);
    expect(b).toMatchObject({ fid: '7', billNo: 'A', key: 'A', documentStatus: 'C' });
    expect(b.entries.FPURMRBENTRY.map((l) => l.FRMREALQTY)).toEqual([2, 3]);
    expect(billFromRows(plan, [row('B', 8, null)]).entries.FPURMRBENTRY).toEqual([]);
    expect(billFromRows(plan, [row('B', 8, 0)]).entries.FPURMRBENTRY).toEqual([]);
  });

  it('groups bills by key, several bills for one key together', async () => {
    const groups: TargetBillGroup[] = await collect(
      groupBillsByKey(
        plan,
        stream([row('A', 1, 10), row('A', 1, 11), row('A', 2, 20), row('B', 3, 30), row('C', 4, null)]),
      ),
    );
    expect(groups.map((g) => [g.key, g.bills.map((b) => [b.fid, b.entries.FPURMRBENTRY.length])])).toEqual([
      [
        'A',
        [
          ['1', 2],
          ['2', 1],
        ],
      ],
      ['B', [['3', 1]]],
      ['C', [['4', 0]]],
    ]);
    expect(await collect(groupBillsByKey(plan, stream([])))).toEqual([]);
  });

  it('refuses a bill whose rows are not adjacent', async () => {
    await expect(
      collect(groupBillsByKey(plan, stream([row('A', 1, 10), row('A', 2, 20), row('A', 1, 11)]))),
    ).rejects.toThrow(ReconcileInputError);
  });
});

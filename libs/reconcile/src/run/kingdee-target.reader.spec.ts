import type { KingdeeApi, KingdeeBillQuery } from '@libs/kingdee-client';
import { shippedPlan } from '../../../../test/support/reconcile/reconcile-fixtures.util';
import type { QueryRow } from '../reconcile.types';
import { KingdeeTargetReader } from './kingdee-target.reader';

/**
 * A Kingdee that answers ExecuteBillQuery over rows (one per bill line) sorted by FID and entry id,
 * honouring `FID >= n`, `FID = n`, StartRow and Limit — and lets a test change the bills between
 * two calls, as people do while a period is read.
 */
class FakeKingdee {
  rows: QueryRow[] = [];
  queries: KingdeeBillQuery[] = [];
  beforeCall?: (call: number) => void;

  bill(fid: number, lines: number): void {
    for (let i = 1; i <= lines; i++)
      this.rows.push({ FID: fid, FBillNo: `B${fid}`, FPURMRBENTRY_FEntryID: fid * 100 + i });
  }

  remove(fid: number): void {
    this.rows = this.rows.filter((r) => r.FID !== fid);
  }

  api(): KingdeeApi {
    return {
      executeBillQueryObjects: async (query: KingdeeBillQuery) => {
        this.queries.push(query);
        this.beforeCall?.(this.queries.length);
        const filter = String(query.FilterString);
        const min = /FID >= (\d+)/.exec(filter);
        const eq = /FID = (\d+)/.exec(filter);
        const matched = this.rows
          .filter((r) => (min ? Number(r.FID) >= Number(min[1]) : true))
          .filter((r) => (eq ? Number(r.FID) === Number(eq[1]) : true))
          .sort(
            (a, b) =>
              Number(a.FID) - Number(b.FID) ||
              Number(a.FPURMRBENTRY_FEntryID) - Number(b.FPURMRBENTRY_FEntryID),
          );
        const start = Number(query.StartRow ?? 0);
        return matched.slice(start, start + Number(query.Limit));
      },
    } as unknown as KingdeeApi;
  }
}

async function readAll(kd: FakeKingdee, pageRows: number) {
  const read: QueryRow[] = [];
  const stats = await new KingdeeTargetReader(kd.api(), pageRows).readPeriod({
    plan: shippedPlan(),
    from: '2026-11-01 00:00:00',
    to: '2026-11-30 23:59:59',
    dateField: 'FDate',
    signal: new AbortController().signal,
    onRows: async (rows) => {
      read.push(...rows);
    },
  });
  return { read, stats };
}

const linesOf = (rows: QueryRow[]) => rows.map((r) => `${String(r.FID)}:${String(r.FPURMRBENTRY_FEntryID)}`);

describe('KingdeeTargetReader.readPeriod', () => {
  it('reads every bill whole, once, although pages cut bills in two', async () => {
    const kd = new FakeKingdee();
    kd.bill(1, 2);
    kd.bill(2, 3);
    kd.bill(3, 1);
    kd.bill(4, 2);
    const { read, stats } = await readAll(kd, 3);
    expect(linesOf(read)).toEqual(['1:101', '1:102', '2:201', '2:202', '2:203', '3:301', '4:401', '4:402']);
    expect(stats).toEqual({ rows: 8, bills: 4, calls: kd.queries.length });
  });

  it('misses no bill when one is deleted, or entered, between two pages (row offsets would shift)', async () => {
    const kd = new FakeKingdee();
    for (let fid = 1; fid <= 6; fid++) kd.bill(fid, 2);
    // After the first page (bill 1 whole, bill 2 cut off): someone deletes bill 1 and enters bill 7.
    kd.beforeCall = (call) => {
      if (call === 2) {
        kd.remove(1);
        kd.bill(7, 1);
      }
    };
    const { read, stats } = await readAll(kd, 3);
    expect(linesOf(read)).toEqual([
      '1:101',
      '1:102',
      '2:201',
      '2:202',
      '3:301',
      '3:302',
      '4:401',
      '4:402',
      '5:501',
      '5:502',
      '6:601',
      '6:602',
      '7:701',
    ]);
    expect(stats.bills).toBe(7);
    // Keyset pages, never a row offset into the period.
    expect(
      kd.queries.map((q) => [q.StartRow, /FID >= (\d+)/.exec(String(q.FilterString))?.[1] ?? null]),
    ).toEqual([
      [0, null],
      [0, '2'],
      [0, '3'],
      [0, '4'],
      [0, '5'],
      [0, '6'],
      [0, '7'],
    ]);
  });

  it('reads a bill with more lines than a page by row offset within that bill, then goes on', async () => {
    const kd = new FakeKingdee();
    kd.bill(1, 7);
    kd.bill(2, 1);
    const { read, stats } = await readAll(kd, 3);
    expect(linesOf(read)).toEqual(['1:101', '1:102', '1:103', '1:104', '1:105', '1:106', '1:107', '2:201']);
    expect(stats).toEqual({ rows: 8, bills: 2, calls: kd.queries.length });
    expect(
      kd.queries.map((q) => [String(q.FilterString).replace(/^.*?(AND FID.*)?$/, '$1'), q.StartRow]),
    ).toEqual([
      ['', 0],
      ['AND FID = 1', 3],
      ['AND FID = 1', 6],
      ['AND FID >= 2', 0],
    ]);
  });
});

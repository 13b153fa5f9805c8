import { parseShanghai } from '@libs/common';
import { shippedPlan } from '../../../../test/support/reconcile/reconcile-fixtures.util';
import { periodFilter, periodOrder } from './kingdee-target.reader';
import { describeDifferences } from './reconcile-repush.service';
import { targetItemId } from './reconcile-staging.store';
import { billsOfKey, findingColumns, reconcileAlert } from './reconcile-summary.util';
import { EMPTY_COUNTS } from './reconcile-run.types';
import { planReadWindows } from './wdt-source.reader';

const ms = (s: string) => parseShanghai(s) as number;

describe('reconcile run helpers', () => {
  it('splits a period into windows of at most 30 days, without gaps or overlaps', () => {
    const w = planReadWindows(ms('2026-01-01 00:00:00'), ms('2026-03-02 23:59:59'));
    expect(w).toHaveLength(3);
    expect(w[0][1] - w[0][0]).toBe(30 * 86_400_000 - 1000);
    expect(w[1][0]).toBe(w[0][1] + 1000);
    expect(w[2][1]).toBe(ms('2026-03-02 23:59:59'));
    expect(planReadWindows(ms('2026-01-01 00:00:00'), ms('2026-01-01 00:00:00'))).toHaveLength(1);
  });

  it('filters the period on the date field, with the scheme filter AND-ed and quotes escaped', () => {
    expect(periodFilter('FDate', '2026-11-01 00:00:00', '2026-11-30 23:59:59')).toBe(
      "FDate >= '2026-11-01 00:00:00' AND FDate <= '2026-11-30 23:59:59'",
    );
    expect(periodFilter('FDate', 'a', "b'", "FBillTypeID.FNumber = 'TLD01_SYS'")).toBe(
      "FDate >= 'a' AND FDate <= 'b''' AND (FBillTypeID.FNumber = 'TLD01_SYS')",
    );
    expect(periodOrder(shippedPlan())).toBe('FID ASC, FPURMRBENTRY_FEntryID ASC');
  });

  it('identifies a staged row by bill and line', () => {
    expect(targetItemId(shippedPlan(), { FID: 100001, FPURMRBENTRY_FEntryID: 501, FBillNo: 'X' })).toBe(
      '100001:501',
    );
  });

  it('sends one alert only when something did not match; critical for duplicates', () => {
    const run = { id: 'r1', schemeId: 's', periodFrom: 'a', periodTo: 'b' };
    expect(reconcileAlert(run, { ...EMPTY_COUNTS, matched: 5 })).toBeUndefined();
    expect(reconcileAlert(run, { ...EMPTY_COUNTS, differs: 1 })).toMatchObject({
      key: 'reconcile:s',
      severity: 'warning',
    });
    const critical = reconcileAlert(run, { ...EMPTY_COUNTS, duplicated_in_erp: 2, matched: 1 });
    expect(critical?.severity).toBe('critical');
    expect(critical?.text).toContain('matched 1, missing in Kingdee 0, duplicated in Kingdee 2');
    expect(critical?.text).toContain('Run r1');
  });

  it('names the bills a person should review per finding', () => {
    const bill = { fid: '1', billNo: 'B1', documentStatus: 'C' };
    const matched = { kind: 'matched' as const, key: 'k', orderNo: 'k', bill, contentChecked: true };
    const trail = {
      kind: 'trail_disagrees' as const,
      key: 'k',
      orderNo: 'k',
      trailStatus: 'failed',
      trailBill: 'none' as const,
      billsInErp: 1,
      detail: 'x',
    };
    expect(billsOfKey([matched, trail])).toEqual(['B1']);
    expect(findingColumns(trail, ['B1'], 'failed')).toEqual({
      cause: null,
      trailStatus: 'failed',
      billNumbers: ['B1'],
    });
    expect(
      findingColumns(
        {
          kind: 'missing_in_erp',
          key: 'k',
          orderNo: 'k',
          cause: 'failed',
          trailStatus: 'failed',
          trailReason: null,
        },
        [],
        'failed',
      ),
    ).toEqual({ cause: 'failed', trailStatus: 'failed', billNumbers: [] });
  });

  it('describes content differences for a refused re-push', () => {
    expect(
      describeDifferences([
        { kind: 'value', field: 'FPURMRBENTRY[0].FRMREALQTY', expected: '2', actual: '1.25' },
        { kind: 'value', field: 'FSupplierID', expected: 'GYS001', actual: null },
      ]),
    ).toBe(
      'FPURMRBENTRY[0].FRMREALQTY (expected 2, Kingdee 1.25), FSupplierID (expected GYS001, Kingdee nothing)',
    );
  });
});

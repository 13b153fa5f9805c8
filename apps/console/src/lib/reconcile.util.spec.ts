import { findingTotal, isOpen, runPercent, trailContradiction, yesterdayShanghai } from './reconcile.util';

describe('reconciliation page helpers', () => {
  it('takes yesterday in Shanghai, whatever the UTC date', () => {
    // 2026-12-02 01:00 in Shanghai is still 2026-12-01 in UTC.
    expect(yesterdayShanghai(Date.parse('2026-12-01T17:00:00Z'))).toEqual([
      '2026-12-01 00:00:00',
      '2026-12-01 23:59:59',
    ]);
    expect(yesterdayShanghai(Date.parse('2026-12-01T15:59:59Z'))).toEqual([
      '2026-11-30 00:00:00',
      '2026-11-30 23:59:59',
    ]);
  });

  it('shows a run’s progress by phase, never past 100', () => {
    expect(runPercent({ state: 'queued', progress: {} })).toBe(0);
    expect(
      runPercent({ state: 'running', progress: { phase: 'source', sourceOrders: 50, sourceTotal: 100 } }),
    ).toBe(20);
    expect(
      runPercent({ state: 'running', progress: { phase: 'target', targetBills: 200, sourceTotal: 100 } }),
    ).toBe(80);
    expect(
      runPercent({ state: 'running', progress: { phase: 'compare', keysCompared: 5, keysTotal: 10 } }),
    ).toBe(90);
    expect(runPercent({ state: 'done', progress: { phase: 'source' } })).toBe(100);
  });

  it('counts what needs a person and knows an open run', () => {
    expect(
      findingTotal({
        matched: 90,
        missing_in_erp: 1,
        duplicated_in_erp: 2,
        extra_in_erp: 0,
        differs: 3,
        trail_disagrees: 1,
      }),
    ).toBe(7);
    expect(findingTotal(null)).toBe(0);
    expect(isOpen({ state: 'running' })).toBe(true);
    expect(isOpen({ state: 'failed' })).toBe(false);
  });

  it('says a trail contradiction from the finding’s fields, or leaves the sentence', () => {
    expect(trailContradiction({ kind: 'trail_disagrees', trailStatus: 'loaded', billNumbers: [] })).toEqual({
      key: 'reconcile.trailNoBill',
      bills: '',
    });
    expect(
      trailContradiction({ kind: 'trail_disagrees', trailStatus: 'failed', billNumbers: ['A', 'B'] }),
    ).toEqual({
      key: 'reconcile.trailHasBill',
      bills: 'A, B',
    });
    expect(
      trailContradiction({ kind: 'trail_disagrees', trailStatus: 'loaded', billNumbers: ['A'] }),
    ).toBeUndefined();
    expect(
      trailContradiction({ kind: 'differs', trailStatus: 'failed', billNumbers: ['A'] }),
    ).toBeUndefined();
  });
});

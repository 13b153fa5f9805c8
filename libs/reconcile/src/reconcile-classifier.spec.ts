import { classifyKey, compareBill, missingCause } from './reconcile-classifier';
import type { Finding, SourceEntry, TargetBill, TrailView } from './reconcile.types';
import { billFor, goldenEntry, shippedPlan } from '../../../test/support/reconcile/reconcile-fixtures.util';

const plan = shippedPlan();
const KEY = 'CT2026112800012';

function entry(): SourceEntry & { outcome: 'document' } {
  return goldenEntry();
}
function bill(fid = '100001'): TargetBill {
  return billFor(entry().model, fid);
}
/** A copy of a bill with one header or line value changed. */
function edited(
  b: TargetBill,
  change: { header?: Record<string, unknown>; line?: [number, Record<string, unknown>] },
): TargetBill {
  const lines = [...b.entries.FPURMRBENTRY];
  if (change.line) lines[change.line[0]] = { ...lines[change.line[0]], ...change.line[1] };
  return { ...b, header: { ...b.header, ...change.header }, entries: { FPURMRBENTRY: lines } };
}
const trail = (
  status: string,
  billState: TrailView['billState'] = 'none',
  extra: Partial<TrailView> = {},
): TrailView => ({
  status,
  billState,
  ...extra,
});
const kinds = (fs: Finding[]): string[] => fs.map((f) => f.kind);

describe('classifyKey', () => {
  it('matched: the golden order and the bill the loader wrote (quantities 2.0000 vs 2, FDate by day)', () => {
    const fs = classifyKey(plan, {
      key: KEY,
      source: entry(),
      bills: [bill()],
      trail: trail('loaded', 'audited', { kingdeeId: '100001' }),
    });
    expect(fs).toEqual([
      {
        kind: 'matched',
        key: KEY,
        orderNo: KEY,
        bill: { fid: '100001', billNo: KEY, documentStatus: 'C' },
        contentChecked: true,
      },
    ]);
  });

  it.each<[string, TrailView | undefined, string]>([
    ['never seen', undefined, 'never_seen'],
    ['waiting (parked)', trail('parked'), 'waiting'],
    ['waiting (settling)', trail('settling'), 'waiting'],
    ['waiting (base data)', trail('waiting_base_data'), 'waiting'],
    ['waiting (an unknown status)', trail('some_new_status'), 'waiting'],
    ['failed', trail('failed'), 'failed'],
    ['dead-lettered', trail('dead_lettered'), 'failed'],
    ['skipped earlier', trail('skipped'), 'skipped'],
    ['closed by an operator', trail('closed'), 'closed'],
  ])('missing_in_erp, %s', (_name, view, cause) => {
    const fs = classifyKey(plan, { key: KEY, source: entry(), bills: [], trail: view });
    expect(fs).toEqual([
      expect.objectContaining({
        kind: 'missing_in_erp',
        key: KEY,
        orderNo: KEY,
        cause,
        trailStatus: view?.status ?? null,
      }),
    ]);
  });

  it('missing_in_erp while the trail says loaded: unexplained, and the trail disagrees', () => {
    const fs = classifyKey(plan, {
      key: KEY,
      source: entry(),
      bills: [],
      trail: trail('loaded', 'audited', { kingdeeId: '100001', kingdeeNumber: KEY }),
    });
    expect(kinds(fs)).toEqual(['missing_in_erp', 'trail_disagrees']);
    expect(fs[0]).toMatchObject({ cause: 'unexplained' });
    expect(fs[1]).toMatchObject({ trailStatus: 'loaded', trailBill: 'audited', billsInErp: 0 });
    expect((fs[1] as { detail: string }).detail).toContain('no bill');
  });

  it('missing_in_erp of an order the mapping fails on today (a bill is still expected)', () => {
    const source: SourceEntry = { key: KEY, orderNo: KEY, outcome: 'unmappable', reason: 'bad decimal' };
    expect(kinds(classifyKey(plan, { key: KEY, source, bills: [] }))).toEqual(['missing_in_erp']);
    const withBill = classifyKey(plan, { key: KEY, source, bills: [bill()] });
    expect(withBill).toEqual([expect.objectContaining({ kind: 'matched', contentChecked: false })]);
  });

  it('duplicated_in_erp lists every bill number and FID', () => {
    const second = { ...bill('100002'), billNo: `${KEY}-1` };
    const fs = classifyKey(plan, {
      key: KEY,
      source: entry(),
      bills: [bill(), second],
      trail: trail('loaded', 'audited', { kingdeeId: '100001' }),
    });
    expect(fs).toEqual([
      {
        kind: 'duplicated_in_erp',
        key: KEY,
        orderNo: KEY,
        bills: [
          { fid: '100001', billNo: KEY, documentStatus: 'C' },
          { fid: '100002', billNo: `${KEY}-1`, documentStatus: 'C' },
        ],
      },
    ]);
  });

  it('extra_in_erp: a bill entered by hand (no order in the period, trail never saw it)', () => {
    const fs = classifyKey(plan, {
      key: 'HAND-1',
      bills: [{ ...bill('9'), key: 'HAND-1', billNo: 'HAND-1' }],
    });
    expect(fs).toEqual([
      {
        kind: 'extra_in_erp',
        key: 'HAND-1',
        orderNo: null,
        cause: 'no_order',
        sourceReason: null,
        bills: [{ fid: '9', billNo: 'HAND-1', documentStatus: 'C' }],
      },
    ]);
  });

  it('extra_in_erp: the bill of an order cancelled since (skipped today, with its reason)', () => {
    const source: SourceEntry = {
      key: KEY,
      orderNo: KEY,
      outcome: 'skipped',
      reason: 'order is cancelled (status 5)',
      precondition: 'not-cancelled',
    };
    const fs = classifyKey(plan, {
      key: KEY,
      source,
      bills: [bill()],
      trail: trail('loaded', 'audited', { kingdeeId: '100001' }),
    });
    expect(fs).toEqual([
      expect.objectContaining({
        kind: 'extra_in_erp',
        orderNo: KEY,
        cause: 'not_eligible',
        sourceReason: 'order is cancelled (status 5)',
      }),
    ]);
  });

  it('nothing for a skipped order without a bill', () => {
    const source: SourceEntry = { key: KEY, orderNo: KEY, outcome: 'skipped', reason: 'no lines' };
    expect(classifyKey(plan, { key: KEY, source, bills: [], trail: trail('skipped') })).toEqual([]);
  });

  it('differs: a quantity edited after audit, with both values and the line', () => {
    const b = edited(bill(), { line: [1, { FRMREALQTY: 0.25 }] });
    const fs = classifyKey(plan, {
      key: KEY,
      source: entry(),
      bills: [b],
      trail: trail('loaded', 'audited', { kingdeeId: '100001' }),
    });
    expect(fs).toEqual([
      {
        kind: 'differs',
        key: KEY,
        orderNo: KEY,
        bill: { fid: '100001', billNo: KEY, documentStatus: 'C' },
        differences: [
          { kind: 'value', field: 'FPURMRBENTRY[1].FRMREALQTY', expected: '0.5', actual: '0.25' },
        ],
      },
    ]);
  });

  it('differs: a supplier changed by a base-data fix (reference compared by number)', () => {
    const b = edited(bill(), { header: { 'FSupplierID.FNumber': 'GYS009' } });
    const d = compareBill(plan, entry().model, b);
    expect(d).toEqual([{ kind: 'value', field: 'FSupplierID', expected: 'GYS001', actual: 'GYS009' }]);
  });

  it('differs: another day, another material, a line fewer', () => {
    const full = bill();
    const b: TargetBill = {
      ...full,
      header: { ...full.header, FDate: '2026-11-29T00:00:00' },
      entries: { FPURMRBENTRY: [{ ...full.entries.FPURMRBENTRY[0], 'FMATERIALID.FNumber': 'X-1' }] },
    };
    expect(compareBill(plan, entry().model, b)).toEqual([
      { kind: 'value', field: 'FDate', expected: '2026-11-28 01:30:00', actual: '2026-11-29T00:00:00' },
      { kind: 'line_count', field: 'FPURMRBENTRY', expected: '2', actual: '1' },
      { kind: 'value', field: 'FPURMRBENTRY[0].FMATERIALID', expected: 'BWB-500-W', actual: 'X-1' },
    ]);
  });

  it('differs: a bill never audited, and a bill un-audited after loading', () => {
    const saved = { ...bill(), documentStatus: 'A' };
    expect(compareBill(plan, entry().model, saved)).toEqual([
      { kind: 'not_audited', field: 'FDocumentStatus', expected: 'C', actual: 'A' },
    ]);
    const unAudited = { ...bill(), documentStatus: 'D' };
    expect(compareBill(plan, entry().model, unAudited)).toEqual([
      { kind: 'un_audited', field: 'FDocumentStatus', expected: 'C', actual: 'D' },
    ]);
    // Re-submitted after an un-audit: the trail saw it audited.
    const resubmitted = { ...bill(), documentStatus: 'B' };
    expect(compareBill(plan, entry().model, resubmitted, trail('loaded', 'audited'))[0].kind).toBe(
      'un_audited',
    );
  });

  it('does not flag an empty optional field Kingdee returns as blank or 0', () => {
    const e = entry();
    const model = { ...e.model, FMRMODE: undefined };
    const b = edited(bill(), { header: { FMRMODE: '' } });
    expect(compareBill(plan, model, b)).toEqual([]);
  });

  it('reads field keys whatever their casing', () => {
    const b = bill();
    const header = Object.fromEntries(Object.entries(b.header).map(([k, v]) => [k.toUpperCase(), v]));
    expect(compareBill(plan, entry().model, { ...b, header })).toEqual([]);
  });

  it('trail_disagrees: failed in the trail while Kingdee holds the bill (content still checked)', () => {
    const fs = classifyKey(plan, { key: KEY, source: entry(), bills: [bill()], trail: trail('failed') });
    expect(kinds(fs)).toEqual(['matched', 'trail_disagrees']);
    expect(fs[1]).toMatchObject({ trailStatus: 'failed', trailBill: 'none', billsInErp: 1 });
    expect((fs[1] as { detail: string }).detail).toContain(KEY);
  });

  it('trail_disagrees: the trail links another bill (deleted and entered again by hand)', () => {
    const fs = classifyKey(plan, {
      key: KEY,
      source: entry(),
      bills: [bill('200001')],
      trail: trail('loaded', 'audited', { kingdeeId: '100001' }),
    });
    expect(kinds(fs)).toEqual(['matched', 'trail_disagrees']);
    expect((fs[1] as { detail: string }).detail).toContain('100001');
  });

  it('trail_disagrees: saved-not-audited with its bill gone, alongside missing_in_erp', () => {
    const fs = classifyKey(plan, {
      key: KEY,
      source: entry(),
      bills: [],
      trail: trail('saved_not_audited', 'saved'),
    });
    expect(kinds(fs)).toEqual(['missing_in_erp', 'trail_disagrees']);
    expect(fs[0]).toMatchObject({ cause: 'waiting' });
  });

  it('trail_disagrees without a source order: the trail says loaded, the bill is gone and the order too', () => {
    const source: SourceEntry = { key: KEY, orderNo: KEY, outcome: 'skipped', reason: 'cancelled' };
    expect(
      kinds(classifyKey(plan, { key: KEY, source, bills: [], trail: trail('loaded', 'audited') })),
    ).toEqual(['trail_disagrees']);
  });

  it('no disagreement: a waiting order whose bill already exists, or a trail that never saw a bill', () => {
    expect(
      kinds(classifyKey(plan, { key: KEY, source: entry(), bills: [bill()], trail: trail('settling') })),
    ).toEqual(['matched']);
    expect(
      kinds(classifyKey(plan, { key: KEY, source: entry(), bills: [], trail: trail('failed') })),
    ).toEqual(['missing_in_erp']);
  });

  it('a duplicate and a disagreement together', () => {
    const fs = classifyKey(plan, {
      key: KEY,
      source: entry(),
      bills: [bill('1'), bill('2')],
      trail: trail('dead_lettered'),
    });
    expect(kinds(fs)).toEqual(['duplicated_in_erp', 'trail_disagrees']);
  });
});

describe('missingCause', () => {
  it('reads loaded-like statuses as unexplained', () => {
    for (const s of ['loaded', 'changed_after_load', 'duplicate', 'conflict_in_erp', 'duplicate_in_erp'])
      expect(missingCause(trail(s))).toBe('unexplained');
  });
});

import { EMPTY_COUNTS } from '@libs/reconcile';
import { parseReconcileArgs, progressView, reconcileExitCode } from './reconcile-args';

const known = ['s1', 's2'];

describe('parseReconcileArgs', () => {
  it('takes --from and --to as Shanghai wall-clock, inclusive', () => {
    expect(
      parseReconcileArgs({ scheme: 's1', from: '2026-11-01 00:00:00', to: '2026-11-30 23:59:59' }, known),
    ).toEqual({ schemeId: 's1', from: '2026-11-01 00:00:00', to: '2026-11-30 23:59:59' });
    // ISO 8601 with an offset is converted to Shanghai time.
    expect(
      parseReconcileArgs({ scheme: 's1', from: '2026-10-31T16:00:00Z', to: '2026-11-01' }, known),
    ).toEqual({ schemeId: 's1', from: '2026-11-01 00:00:00', to: '2026-11-01 00:00:00' });
  });

  it('takes --day as that whole Shanghai day', () => {
    expect(parseReconcileArgs({ scheme: 's2', day: '2026-02-28' }, known)).toEqual({
      schemeId: 's2',
      from: '2026-02-28 00:00:00',
      to: '2026-02-28 23:59:59',
    });
  });

  it.each([
    [{}, /--scheme is required \(one of: s1, s2\)/],
    [{ scheme: 'nope', day: '2026-11-01' }, /unknown scheme "nope" \(known: s1, s2\)/],
    [{ scheme: 's1' }, /give the period/],
    [{ scheme: 's1', from: '2026-11-01 00:00:00' }, /give the period/],
    [
      { scheme: 's1', from: '2026-11-02 00:00:00', to: '2026-11-01 00:00:00' },
      /--from \(2026-11-02 00:00:00\) is after --to/,
    ],
    [{ scheme: 's1', from: 'yesterday', to: '2026-11-01 00:00:00' }, /--from "yesterday" is not a time/],
    [{ scheme: 's1', day: '2026-02-30' }, /--day "2026-02-30" is not a date/],
    [{ scheme: 's1', day: '2026-02-01 10:00:00' }, /--day .* is not a date/],
    [{ scheme: 's1', day: '2026-02-01', from: '2026-02-01 00:00:00' }, /either --day or --from and --to/],
  ])('refuses %j', (opts, message) => {
    expect(() => parseReconcileArgs(opts, known)).toThrow(message);
  });
});

describe('reconcileExitCode', () => {
  it('is 0 when every key matched, 3 with findings, 1 when the run did not finish', () => {
    expect(reconcileExitCode('done', { ...EMPTY_COUNTS, matched: 12 })).toBe(0);
    expect(reconcileExitCode('done', { ...EMPTY_COUNTS, matched: 12, trail_disagrees: 1 })).toBe(3);
    expect(reconcileExitCode('failed', null)).toBe(1);
    expect(reconcileExitCode('cancelled', null)).toBe(1);
  });
});

describe('progressView', () => {
  it('shows the current phase against its total', () => {
    expect(progressView({ phase: 'source', sourceOrders: 40, sourceTotal: 100, wdtCalls: 3 })).toMatchObject({
      done: 40,
      total: 100,
      fields: { phase: 'reading WDT', wdtCalls: 3 },
    });
    expect(progressView({ phase: 'target', sourceOrders: 100, targetBills: 60 })).toMatchObject({
      done: 60,
      total: 60,
    });
    expect(progressView({ phase: 'compare', keysCompared: 5, keysTotal: null })).toMatchObject({
      done: 5,
      total: 5,
    });
    expect(progressView({})).toMatchObject({ done: 0, total: 0, fields: { phase: 'reading WDT' } });
  });
});

import { displayValue, normaliseValue, reportValue, sameValue } from './field-compare.util';
import type { CompareKind } from './reconcile.types';

describe('sameValue', () => {
  const cases: Array<[CompareKind, unknown, unknown, boolean]> = [
    ['decimal', 2, '2.0000', true],
    ['decimal', '2', 2, true],
    ['decimal', '0.5000', 0.5, true],
    ['decimal', '0.1', 0.1, true],
    ['decimal', '2', '2.0001', false],
    ['decimal', '12345678901234.5678', '12345678901234.5679', false],
    ['decimal', undefined, 0, true],
    ['decimal', undefined, null, true],
    ['decimal', '3', 0, false],
    ['decimal', '-1.50', '-1.5', true],
    ['ref', { FNumber: 'GYS001' }, 'GYS001', true],
    ['ref', { FNUMBER: 'GYS001' }, { FNumber: 'GYS001' }, true],
    ['ref', { FNumber: 'GYS001' }, 'GYS002', false],
    ['ref', undefined, '', true],
    ['ref', { FNumber: 'GYS001' }, null, false],
    ['day', '2026-11-28 01:30:00', '2026-11-28T00:00:00', true],
    ['day', '2026-11-28', '2026-11-28T00:00:00.000', true],
    ['day', '2026-11-28 23:59:59', '2026-11-29T00:00:00', false],
    ['day', '2026-1-5', '2026-01-05T00:00:00', true],
    ['text', 'B', 'B', true],
    ['text', 'B', 'b', false],
    ['text', 'B ', 'B', true],
    ['text', undefined, '', true],
    ['text', undefined, '  ', true],
    ['text', 'x', null, false],
    ['text', 12, '12', true],
    ['boolean', true, 1, true],
    ['boolean', true, 'true', true],
    ['boolean', false, null, true],
    ['boolean', true, false, false],
  ];
  it.each(cases)('%s: %j vs %j → %s', (kind, expected, actual, same) => {
    expect(sameValue(kind, expected, actual)).toBe(same);
  });

  it('keeps unparseable values as text rather than calling them equal', () => {
    expect(normaliseValue('decimal', 'abc')).toBe('abc');
    expect(sameValue('decimal', 'abc', 'abd')).toBe(false);
    expect(normaliseValue('day', 'soon')).toBe('soon');
  });
});

describe('report text', () => {
  it('shows base data by number, empties as null, objects as JSON', () => {
    expect(reportValue({ FNumber: 'GYS001' })).toBe('GYS001');
    expect(reportValue('')).toBeNull();
    expect(reportValue(undefined)).toBeNull();
    expect(reportValue(2)).toBe('2');
    expect(displayValue({ a: 1 })).toBe('{"a":1}');
  });
});

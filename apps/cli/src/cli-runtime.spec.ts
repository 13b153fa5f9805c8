import { assertOrderedRange, parseBound, parseWallClock } from './cli-runtime';

describe('CLI ranges', () => {
  const bound = (text: string) => ({ text, bound: parseBound(text) });

  it('reads Shanghai wall-clock, ISO times and offsets', () => {
    expect(parseBound('2026-11-28 08:00:00')).toEqual({ timestamp: Date.UTC(2026, 10, 28, 0, 0, 0) });
    expect(parseBound('2026-11-28T00:00:00Z')).toEqual({ timestamp: Date.UTC(2026, 10, 28, 0, 0, 0) });
    expect(parseBound('42')).toEqual({ offset: 42n });
    expect(parseWallClock('--from', '2026-11-28T00:00:00Z')).toBe('2026-11-28 08:00:00');
    expect(() => parseWallClock('--to', 'tomorrow')).toThrow(/^--to "tomorrow" is not a time/);
  });

  it('refuses --from after --to, times or offsets; accepts the rest', () => {
    expect(() =>
      assertOrderedRange(bound('2026-11-02 00:00:00'), bound('2026-11-01T23:00:00+08:00')),
    ).toThrow('--from (2026-11-02 00:00:00) is after --to (2026-11-01T23:00:00+08:00)');
    expect(() => assertOrderedRange(bound('10'), bound('9'))).toThrow('--from (10) is after --to (9)');
    expect(() =>
      assertOrderedRange(bound('2026-11-01 00:00:00'), bound('2026-11-02 00:00:00')),
    ).not.toThrow();
    expect(() => assertOrderedRange(bound('beginning'), bound('2026-11-02 00:00:00'))).not.toThrow();
    expect(() => assertOrderedRange(bound('2026-11-02 00:00:00'), undefined)).not.toThrow();
  });
});

import { formatShanghai, formatShanghaiDate, parseShanghai } from './shanghai-time';

describe('Shanghai wall-clock time', () => {
  it('parses WDT wall-clock strings as UTC+8 whatever the host zone', () => {
    expect(parseShanghai('2026-11-28 01:30:00')).toBe(Date.UTC(2026, 10, 27, 17, 30, 0));
    expect(parseShanghai('2026-11-28')).toBe(Date.UTC(2026, 10, 27, 16, 0, 0));
  });

  it('round-trips and keeps the Shanghai calendar date', () => {
    const ms = parseShanghai('2026-11-28 01:30:00')!;
    expect(formatShanghai(ms)).toBe('2026-11-28 01:30:00');
    expect(formatShanghaiDate(ms)).toBe('2026-11-28');
  });

  it.each(['', '2026-13-01 00:00:00', '2026-02-30 00:00:00', '28/11/2026', '2026-11-28 24:00:00'])(
    'rejects %p',
    (text) => expect(parseShanghai(text)).toBeUndefined(),
  );
});

import {
  formatShanghai,
  formatShanghaiDate,
  formatShanghaiIso,
  parseShanghai,
  parseTimeInput,
} from './shanghai-time';

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

describe.each(['UTC', 'America/Los_Angeles', 'Pacific/Kiritimati'])(
  'time input and output with host TZ=%s',
  (zone) => {
    const saved = process.env.TZ;
    beforeAll(() => {
      process.env.TZ = zone;
    });
    afterAll(() => {
      process.env.TZ = saved;
    });
    const at = Date.UTC(2026, 11, 4, 2, 0, 0); // 2026-12-04 10:00:00 in Shanghai

    it.each([
      ['2026-12-04 10:00:00', at],
      ['2026-12-04 10:00', at],
      ['2026-12-04', at - 10 * 3_600_000],
      ['2026-12-04T10:00:00', at],
      ['2026-12-04T10:00:00.250', at + 250],
      ['2026-12-04T02:00:00Z', at],
      ['2026-12-04T02:00:00.000z', at],
      ['2026-12-04T10:00:00+08:00', at],
      ['2026-12-03T18:00:00-08:00', at],
      ['2026-12-04T15:45:00+1345', at],
    ])('reads %p (no offset: Shanghai)', (text, expected) => expect(parseTimeInput(text)).toBe(expected));

    it.each([
      '',
      'yesterday',
      '2026-12-04 10',
      '2026-13-04 10:00:00',
      '2026-02-30T10:00:00Z',
      '2026-12-04T10:00:00+25:00',
    ])('rejects %p', (text) => expect(parseTimeInput(text)).toBeUndefined());

    it('writes ISO 8601 with +08:00', () => {
      expect(formatShanghaiIso(Date.UTC(2026, 11, 4, 11, 20, 0))).toBe('2026-12-04T19:20:00.000+08:00');
      expect(formatShanghaiIso(Date.UTC(2026, 11, 31, 16, 0, 0, 5))).toBe('2027-01-01T00:00:00.005+08:00');
      expect(parseTimeInput(formatShanghaiIso(at + 1))).toBe(at + 1);
    });
  },
);

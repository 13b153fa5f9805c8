import { parseShanghai } from '@libs/common';
import { planWindows } from './window-planner';

const DAY = 86_400_000;
const zones = ['UTC', 'America/Los_Angeles', 'Asia/Shanghai', 'Pacific/Kiritimati'];

describe.each(zones)('planWindows with host TZ=%s', (zone) => {
  const saved = process.env.TZ;
  beforeAll(() => {
    process.env.TZ = zone;
  });
  afterAll(() => {
    process.env.TZ = saved;
  });

  const now = parseShanghai('2026-11-28 12:00:00')!;

  it('reads from cursor − lookback to now − safety lag, in Shanghai wall-clock', () => {
    expect(
      planWindows({
        cursor: '2026-11-28 11:50:00',
        initial: 'x',
        lookbackMs: 600_000,
        safetyLagMs: 30_000,
        maxWindowMs: 30 * DAY,
        nowMs: now,
      }),
    ).toEqual([{ start: '2026-11-28 11:40:00', end: '2026-11-28 11:59:30' }]);
  });

  it('starts a fresh cursor at the initial time without lookback', () => {
    expect(
      planWindows({
        cursor: undefined,
        initial: '2026-11-28 00:00:00',
        lookbackMs: 600_000,
        safetyLagMs: 0,
        maxWindowMs: 30 * DAY,
        nowMs: now,
      }),
    ).toEqual([{ start: '2026-11-28 00:00:00', end: '2026-11-28 12:00:00' }]);
  });

  it('splits a span longer than the API allows into contiguous closed windows that skip no second', () => {
    const windows = planWindows({
      cursor: undefined,
      initial: '2026-09-01 00:00:00',
      lookbackMs: 0,
      safetyLagMs: 0,
      maxWindowMs: 30 * DAY,
      nowMs: now,
    });
    expect(windows.length).toBe(3);
    expect(windows[0]).toEqual({ start: '2026-09-01 00:00:00', end: '2026-09-30 23:59:59' });
    expect(windows[1].start).toBe('2026-10-01 00:00:00');
    expect(windows[windows.length - 1].end).toBe('2026-11-28 12:00:00');
    for (let i = 1; i < windows.length; i++) {
      expect(parseShanghai(windows[i].start)! - parseShanghai(windows[i - 1].end)!).toBe(1000);
    }
    for (const w of windows) expect(parseShanghai(w.end)! - parseShanghai(w.start)!).toBeLessThan(30 * DAY);
  });

  it('plans nothing while the safety lag has not passed', () => {
    expect(
      planWindows({
        cursor: '2026-11-28 12:00:00',
        initial: 'x',
        lookbackMs: 0,
        safetyLagMs: 30_000,
        maxWindowMs: DAY,
        nowMs: now,
      }),
    ).toEqual([]);
  });

  it('rejects a cursor that is not a wall-clock time', () => {
    expect(() =>
      planWindows({
        cursor: '28/11/2026',
        initial: 'x',
        lookbackMs: 0,
        safetyLagMs: 0,
        maxWindowMs: DAY,
        nowMs: now,
      }),
    ).toThrow(/not a Shanghai wall-clock/);
  });
});

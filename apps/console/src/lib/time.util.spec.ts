import { formatWallClock, bucketFor, formatDuration, formatTime, presetRange, toApiTime } from './time.util';

describe('time formatting (+08:00)', () => {
  it('shows any instant as Shanghai wall-clock', () => {
    expect(formatTime('2026-11-28T06:03:05Z')).toBe('2026-11-28 14:03:05');
    expect(formatTime('2026-11-28T14:03:05+08:00')).toBe('2026-11-28 14:03:05');
    expect(formatTime('2026-11-28T23:30:00Z', false)).toBe('2026-11-29 07:30');
    expect(formatTime(null)).toBe('—');
    expect(formatTime('not a time')).toBe('not a time');
  });

  it('sends times to the API as ISO with +08:00', () => {
    expect(toApiTime('2026-11-28T06:03:05Z')).toBe('2026-11-28T14:03:05+08:00');
  });

  it('formats lags and picks a chart bucket', () => {
    expect(formatDuration(45)).toBe('45s');
    expect(formatDuration(200)).toBe('3m 20s');
    expect(formatDuration(7200)).toBe('2h');
    expect(formatDuration(3 * 86400 + 4 * 3600)).toBe('3d 4h');
    expect(formatDuration(null)).toBe('—');
    const now = Date.parse('2026-11-28T06:00:00Z');
    expect(bucketFor(...presetRange('1h', now))).toBe('1m');
    expect(bucketFor(...presetRange('24h', now))).toBe('5m');
    expect(bucketFor(...presetRange('7d', now))).toBe('1h');
  });
  it('shows a Shanghai wall-clock value (a cursor) as it is, whatever the browser zone', () => {
    expect(formatWallClock('2026-12-04 22:41:25')).toBe('2026-12-04 22:41:25');
    expect(formatWallClock(null)).toBe('—');
  });
});

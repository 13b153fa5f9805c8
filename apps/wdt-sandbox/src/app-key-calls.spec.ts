import { AppKeyCalls } from './app-key-calls';
import { seededRandom } from './knobs';

/** Most calls in any window (t − w, t] ending at a call, by brute force. */
const bruteMax = (times: number[], w: number): number =>
  Math.max(0, ...times.map((end) => times.filter((t) => t > end - w && t <= end).length));

describe('AppKeyCalls', () => {
  it('tracks the exact maximum over every sliding window, per gateway and app key', () => {
    const random = seededRandom(7);
    for (const w of [1, 10, 1000]) {
      const calls = new AppKeyCalls();
      const times: Record<string, number[]> = { a: [], b: [] };
      let now = 0;
      for (let i = 0; i < 3000; i++) {
        now += [0, 1, w - 1, w, w + 1, Math.floor(random() * w)][Math.floor(random() * 6)];
        const key = random() < 0.5 ? 'a' : 'b';
        calls.record('native', key, now, w);
        times[key].push(now);
      }
      for (const key of ['a', 'b']) {
        expect(calls.get('native', key)).toEqual({
          calls: times[key].length,
          maxInWindow: bruteMax(times[key], w),
          limited: 0,
        });
      }
      expect(calls.get('qimen', 'a')).toEqual({ calls: 0, maxInWindow: 0, limited: 0 });
    }
  });

  it('counts a clock stepping back at the last time seen, and resets', () => {
    const calls = new AppKeyCalls();
    calls.record('qimen', 'k', 1000, 100);
    calls.record('qimen', 'k', 500, 100);
    calls.record('qimen', 'k', 1100, 100);
    expect(calls.get('qimen', 'k')).toMatchObject({ calls: 3, maxInWindow: 2 });
    calls.limitedCall('qimen', 'k');
    expect(calls.get('qimen', 'k').limited).toBe(1);
    calls.reset();
    expect(calls.get('qimen', 'k')).toEqual({ calls: 0, maxInWindow: 0, limited: 0 });
  });
});

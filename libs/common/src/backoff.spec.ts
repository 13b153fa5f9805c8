import { cappedExponentialDelay } from './backoff';

describe('cappedExponentialDelay', () => {
  it('doubles from the initial delay and stays at the cap', () => {
    const delay = cappedExponentialDelay(200, 5000);
    expect([1, 2, 3, 4, 5, 6, 50].map(delay)).toEqual([200, 400, 800, 1600, 3200, 5000, 5000]);
    // Asking out of order gives the same steps.
    expect(delay(3)).toBe(800);
    expect(delay(0)).toBe(200);
  });
});

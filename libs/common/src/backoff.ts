import { ExponentialBackoff, IBackoff, noJitterGenerator } from 'cockatiel';

/**
 * Delay before the n-th consecutive retry (n ≥ 1): `initialMs`, doubling, never above `maxMs` — the
 * steps of cockatiel's exponential backoff (no jitter: these pace our own consumers and schedulers,
 * not a crowd of clients against one server). The steps are computed once and reused.
 */
export function cappedExponentialDelay(initialMs: number, maxMs: number): (n: number) => number {
  const steps: number[] = [];
  let backoff: IBackoff<unknown> = new ExponentialBackoff({
    generator: noJitterGenerator,
    initialDelay: initialMs,
    maxDelay: maxMs,
  }).next();
  return (n) => {
    const index = Math.max(0, n - 1);
    while (steps.length <= index && (steps.length === 0 || steps[steps.length - 1] < maxMs)) {
      steps.push(backoff.duration);
      backoff = backoff.next(undefined);
    }
    return steps[Math.min(index, steps.length - 1)];
  };
}

import Bottleneck from 'bottleneck';

/**
 * Client-side rate limiting. WDT publishes no limit (≈60 calls/min per sid is reported for the native
 * API; Qimen adds TOP app-level flow control), so the budget is configurable and conservative by default.
 * Every caller in a process must share ONE limiter per gateway+sid: get it from a `WdtLimiterRegistry`
 * (the process-wide `sharedWdtLimiterRegistry` by default) or inject your own Bottleneck instance.
 */
export const DEFAULT_CALLS_PER_MINUTE = 50;

/** Lanes: normal extraction runs before a background reconciliation sweep queued on the same limiter. */
export type WdtCallPriority = 'normal' | 'background';

/** Bottleneck priorities (0 = most important, 9 = least). */
export const WDT_PRIORITY: Readonly<Record<WdtCallPriority, number>> = { normal: 4, background: 8 };

export interface WdtLimiterSettings {
  callsPerMinute: number;
  /** Calls in flight at once (default 2). */
  maxConcurrent?: number;
}

/**
 * A limiter that starts at most `callsPerMinute` calls in any 60-second span: starts are spaced by
 * `60000 / callsPerMinute` ms (`minTime`), which also smooths bursts.
 */
export function createWdtLimiter(settings: WdtLimiterSettings): Bottleneck {
  if (!(settings.callsPerMinute > 0)) throw new RangeError('callsPerMinute must be > 0');
  return new Bottleneck({
    minTime: Math.ceil(60_000 / settings.callsPerMinute),
    maxConcurrent: settings.maxConcurrent ?? 2,
  });
}

/** Limiter key: one budget per gateway and seller (and Qimen app, which TOP also limits). */
export function wdtLimiterKey(gateway: 'native' | 'qimen', sid: string, appKey?: string): string {
  return appKey ? `${gateway}:${appKey}:${sid}` : `${gateway}:${sid}`;
}

export class WdtLimiterRegistry {
  private readonly limiters = new Map<string, Bottleneck>();

  /**
   * Returns the limiter for `key`, creating it on first use. The first caller's settings win: a later
   * caller asking for a different budget gets the existing limiter (one budget per key, by design).
   */
  get(key: string, settings: WdtLimiterSettings): Bottleneck {
    let limiter = this.limiters.get(key);
    if (!limiter) {
      limiter = createWdtLimiter(settings);
      this.limiters.set(key, limiter);
    }
    return limiter;
  }

  has(key: string): boolean {
    return this.limiters.has(key);
  }

  keys(): string[] {
    return [...this.limiters.keys()];
  }

  /** Stops every limiter (pending jobs are dropped) and forgets them. */
  async stopAll(): Promise<void> {
    const all = [...this.limiters.values()];
    this.limiters.clear();
    await Promise.all(all.map((limiter) => limiter.stop({ dropWaitingJobs: true }).catch(() => undefined)));
  }
}

/** The process-wide registry used when no limiter or registry is injected. */
export const sharedWdtLimiterRegistry = new WdtLimiterRegistry();

import { ManualClock } from '@libs/common';
import { register } from 'prom-client';
import { LimiterTimers, WDT_PRIORITY, WdtLimiterRegistry, WdtRateLimiter } from './wdt-rate-limiter';

/** Timers on a manual clock: `advance` moves the clock and fires what fell due, in time order. */
class ManualTimers implements LimiterTimers {
  private pending: Array<{ at: number; fn: () => void; id: number }> = [];
  private next = 0;
  constructor(private readonly clock: ManualClock) {}
  set(fn: () => void, ms: number): unknown {
    const id = this.next++;
    this.pending.push({ at: this.clock.now() + ms, fn, id });
    return id;
  }
  clear(handle: unknown): void {
    this.pending = this.pending.filter((t) => t.id !== handle);
  }
  async advance(ms: number): Promise<void> {
    const target = this.clock.now() + ms;
    for (;;) {
      await flush();
      const due = this.pending.filter((t) => t.at <= target).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.clear(due.id);
      this.clock.set(Math.max(this.clock.now(), due.at));
      due.fn();
    }
    this.clock.set(target);
    await flush();
  }
}

const flush = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

describe('WdtRateLimiter (sliding 60 s window)', () => {
  let clock: ManualClock;
  let timers: ManualTimers;
  const make = (callsPerMinute: number, maxConcurrent = 100, key = 'test') =>
    new WdtRateLimiter({ callsPerMinute, maxConcurrent, clock, timers, key });

  beforeEach(() => {
    clock = new ManualClock(1_000_000);
    timers = new ManualTimers(clock);
  });

  /** Schedules n instant calls and records when each started. */
  const burst = (limiter: WdtRateLimiter, n: number, starts: number[], priority?: number) =>
    Array.from({ length: n }, () =>
      limiter.schedule({ priority }, async (at) => {
        starts.push(at);
      }),
    );

  it('lets L calls go at once, then the next only when the oldest leaves the 60 s window', async () => {
    const limiter = make(60);
    const starts: number[] = [];
    const all = burst(limiter, 61, starts);
    await flush();
    expect(starts).toHaveLength(60); // no spacing: the whole budget at once
    expect(new Set(starts)).toEqual(new Set([1_000_000]));
    await timers.advance(59_999);
    expect(starts).toHaveLength(60);
    await timers.advance(1);
    expect(starts).toHaveLength(61);
    expect(starts[60]).toBe(1_060_000);
    await Promise.all(all);
  });

  it('never starts more than L calls in any 60 s span', async () => {
    const limiter = make(10);
    const starts: number[] = [];
    const all = burst(limiter, 35, starts);
    await timers.advance(200_000);
    await Promise.all(all);
    expect(starts).toHaveLength(35);
    for (const s of starts)
      expect(starts.filter((t) => t >= s && t < s + 60_000).length).toBeLessThanOrEqual(10);
  });

  it('runs normal calls before background calls waiting on the same limiter', async () => {
    const limiter = make(1);
    const order: string[] = [];
    const run = (tag: string, p: 'normal' | 'background') =>
      limiter.schedule({ priority: WDT_PRIORITY[p] }, async () => {
        order.push(tag);
      });
    const calls = [run('first', 'normal'), run('bg', 'background'), run('normal', 'normal')];
    await flush();
    expect(limiter.queued()).toBe(2);
    await timers.advance(120_000);
    await Promise.all(calls);
    expect(order).toEqual(['first', 'normal', 'bg']);
  });

  it('holds at most maxConcurrent calls in flight', async () => {
    const limiter = make(100, 2);
    let inFlight = 0;
    let peak = 0;
    const release: Array<() => void> = [];
    const calls = Array.from({ length: 5 }, () =>
      limiter.schedule({}, async () => {
        inFlight += 1;
        peak = Math.max(peak, inFlight);
        await new Promise<void>((r) => release.push(r));
        inFlight -= 1;
      }),
    );
    for (let i = 0; i < 5; i++) {
      await flush();
      release.shift()?.();
    }
    await flush();
    while (release.length) {
      release.shift()!();
      await flush();
    }
    await Promise.all(calls);
    expect(peak).toBe(2);
  });

  it('halves L on a "too frequent" reply (once per event) and recovers 10 % of L a minute', async () => {
    const limiter = make(60);
    const starts: number[] = [];
    await Promise.all(burst(limiter, 2, starts));
    limiter.penalize(starts[0]);
    limiter.penalize(starts[1]); // the same event: a second reply to a call started before the halving
    expect(limiter.effectiveLimit()).toBe(30);
    const metric = await register.getSingleMetric('wdt_rate_limit_calls_per_minute')!.get();
    expect(metric.values.find((v) => v.labels.key === 'test')?.value).toBe(30);
    await timers.advance(60_000);
    expect(limiter.effectiveLimit()).toBeCloseTo(36);
    await timers.advance(4 * 60_000);
    expect(limiter.effectiveLimit()).toBe(60);
    // A later event halves again.
    limiter.penalize(clock.now());
    expect(limiter.effectiveLimit()).toBe(30);
  });

  it('starts at most the halved limit in the next 60 s', async () => {
    const limiter = make(20);
    const starts: number[] = [];
    await Promise.all(burst(limiter, 20, starts));
    limiter.penalize(starts[19]);
    await timers.advance(60_000); // the first 20 left the window; limit ≈ 10 + 2 recovered
    starts.length = 0;
    const more = burst(limiter, 40, starts);
    await flush();
    expect(starts.length).toBe(12);
    await timers.advance(400_000);
    await Promise.all(more);
    expect(starts).toHaveLength(40);
  });

  it('counts a call from its end (the server saw it in between), over a configurable window', async () => {
    const limiter = new WdtRateLimiter({
      callsPerMinute: 1,
      windowMs: 1000,
      clock,
      timers,
      maxConcurrent: 5,
    });
    const starts: number[] = [];
    let finish: () => void = () => undefined;
    const slow = limiter.schedule({}, async (at) => {
      starts.push(at);
      await new Promise<void>((r) => (finish = r));
    });
    const next = limiter.schedule({}, async (at) => {
      starts.push(at);
    });
    await timers.advance(500);
    finish();
    await slow;
    await timers.advance(999);
    expect(starts).toEqual([1_000_000]);
    await timers.advance(1);
    await next;
    expect(starts).toEqual([1_000_000, 1_001_500]);
  });

  it('stop() rejects waiting calls', async () => {
    const limiter = make(1);
    const starts: number[] = [];
    const [first, second] = burst(limiter, 2, starts);
    await first;
    const stopped = limiter.stop();
    await expect(second).rejects.toThrow(/stopped/);
    await stopped;
  });

  it('one limiter per key in a registry', () => {
    const registry = new WdtLimiterRegistry();
    const a = registry.get('native:1', { callsPerMinute: 60, clock, timers });
    expect(registry.get('native:1', { callsPerMinute: 10 })).toBe(a);
    expect(registry.get('native:2', { callsPerMinute: 10 })).not.toBe(a);
    expect(a.limit).toBe(60);
  });
});

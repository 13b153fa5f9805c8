import { AppLogger, Clock, silentLogger, systemClock } from '@libs/common';
import { setWdtRateLimit } from '@libs/metrics';
import { WDT_GATE_DEFAULT_SCHEME, type WdtCallGate } from './wdt-call-gate';

/**
 * Client-side rate limiting. WDT publishes no limit (≈60 calls/min per sid is reported for the native
 * API — unconfirmed, hence configurable; Qimen adds TOP app-level flow control). The limit means at most
 * L calls in every sliding 60 s (not a spacing: a burst of L calls may go at once, then the
 * next waits until the oldest leaves the window). Every caller in a process must share ONE limiter per
 * gateway+app key+sid: get it from a `WdtLimiterRegistry` (the process-wide `sharedWdtLimiterRegistry`
 * by default) or inject your own.
 */
export const DEFAULT_CALLS_PER_MINUTE = 60;

/** The span the limit counts calls over. */
export const WDT_RATE_WINDOW_MS = 60_000;

/** After a "too frequent" reply the effective limit is halved, then regains this share of L per minute. */
export const WDT_RATE_RECOVERY_PER_MINUTE = 0.1;

/** Lanes: normal extraction runs before a background reconciliation sweep queued on the same limiter. */
export type WdtCallPriority = 'normal' | 'background';

/** Priorities (0 = most important, 9 = least), as Bottleneck numbers them. */
export const WDT_PRIORITY: Readonly<Record<WdtCallPriority, number>> = { normal: 4, background: 8 };

/** Timers behind the limiter (tests drive them with a manual clock). */
export interface LimiterTimers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export const realTimers: LimiterTimers = {
  set: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clear: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface WdtLimiterSettings {
  callsPerMinute: number;
  /** Calls in flight at once (default 2). */
  maxConcurrent?: number;
  /** The span the limit counts over (default 60 s; tests shorten it, as the sandbox's `rateLimitWindowMs`). */
  windowMs?: number;
  /** Name in the `wdt_rate_limit_calls_per_minute{key}` gauge and logs. */
  key?: string;
  clock?: Clock;
  timers?: LimiterTimers;
  logger?: AppLogger;
  /**
   * A budget shared with other processes (`@libs/shared-limits`): each call, once this limiter lets it
   * start, also waits for `gate.acquire` on `budgetKey` (holding its place here meanwhile) and counts
   * from the moment the gate lets it go. Without it the limiter is process-local, as before.
   */
  gate?: WdtCallGate;
  /** The gate's budget key (default: `key`). */
  budgetKey?: string;
}

/** Per call: the priority lane and, with a gate, the scheme the call is for and a signal to stop waiting. */
export interface WdtScheduleOptions {
  priority?: number;
  /** Fair share at the gate is per scheme (default `(none)`). */
  scheme?: string;
  /** Aborts the wait at the gate (the call then rejects and never starts). */
  signal?: AbortSignal;
}

/** The gate's lane of a Bottleneck-style priority number. */
export function wdtPriorityName(priority: number | undefined): WdtCallPriority {
  return priority !== undefined && priority >= WDT_PRIORITY.background ? 'background' : 'normal';
}

interface Job {
  priority: number;
  seq: number;
  run: () => void;
  drop: (error: Error) => void;
}

/**
 * At most L calls in every sliding 60 s, at most `maxConcurrent` at once, queued by priority (then
 * arrival). `penalize` (a "too frequent" reply) halves the effective limit once per event; it then
 * recovers by 10 % of L per minute up to L. The window is a log of start times (at most L entries).
 */
export class WdtRateLimiter {
  readonly limit: number;
  readonly key: string;
  private readonly maxConcurrent: number;
  private readonly clock: Clock;
  private readonly timers: LimiterTimers;
  private readonly logger: AppLogger;
  /**
   * One entry per call in the window: its start while in flight, then its end — the server saw the call
   * somewhere in between, so counting from the end never lets the next call land inside its window.
   */
  private readonly starts: Array<{ at: number }> = [];
  private readonly windowMs: number;
  private readonly queue: Job[] = [];
  private running = 0;
  private seq = 0;
  private timer: unknown;
  private stopped = false;
  /** Effective limit after the last halving (or L) and when that was. */
  private reduced: number;
  private reducedAt = -Infinity;
  private readonly gate?: WdtCallGate;
  private readonly budgetKey: string;
  /** Waits at the gate in progress, aborted by `stop()`. */
  private readonly gateWaits = new Set<AbortController>();

  constructor(settings: WdtLimiterSettings) {
    if (!(settings.callsPerMinute > 0)) throw new RangeError('callsPerMinute must be > 0');
    this.limit = settings.callsPerMinute;
    this.reduced = this.limit;
    this.key = settings.key ?? 'default';
    this.maxConcurrent = settings.maxConcurrent ?? 2;
    this.clock = settings.clock ?? systemClock;
    this.timers = settings.timers ?? realTimers;
    this.logger = settings.logger ?? silentLogger;
    this.windowMs = settings.windowMs ?? WDT_RATE_WINDOW_MS;
    if (!(this.windowMs > 0)) throw new RangeError('windowMs must be > 0');
    this.gate = settings.gate;
    this.budgetKey = settings.budgetKey ?? this.key;
    setWdtRateLimit(this.key, this.limit);
  }

  /** The effective calls per 60 s now (L, or less while recovering from a "too frequent" reply). */
  effectiveLimit(now = this.clock.now()): number {
    if (this.reduced >= this.limit) return this.limit;
    const recovered =
      this.reduced +
      (this.limit * WDT_RATE_RECOVERY_PER_MINUTE * Math.max(0, now - this.reducedAt)) / this.windowMs;
    return Math.min(this.limit, recovered);
  }

  /** Calls waiting for a slot. */
  queued(): number {
    return this.queue.length;
  }

  /** Calls started in the last 60 s. */
  recentCalls(now = this.clock.now()): number {
    this.expire(now);
    return this.starts.length;
  }

  /**
   * WDT answered "too frequent" to a call started at `startedAt`: halve the effective limit, once per
   * event (replies to calls started before (or as) the last halving do not halve again).
   */
  penalize(startedAt: number): void {
    if (startedAt <= this.reducedAt) return;
    const now = this.clock.now();
    const before = this.effectiveLimit(now);
    this.reduced = Math.max(1, before / 2);
    this.reducedAt = now;
    setWdtRateLimit(this.key, this.reduced);
    this.logger.warn(
      { key: this.key, callsPerMinute: Math.floor(this.reduced), configured: this.limit },
      'WDT answered "too frequent": halving the client rate limit, recovering 10 % a minute',
    );
  }

  /**
   * Runs `fn` when a slot is free (and, with a gate, the shared budget lets it go); `fn` receives the
   * time it started (for `penalize`).
   */
  schedule<T>(options: WdtScheduleOptions, fn: (startedAt: number) => Promise<T>): Promise<T> {
    if (this.stopped) return Promise.reject(new Error('WDT rate limiter stopped'));
    return new Promise<T>((resolve, reject) => {
      const job: Job = {
        priority: options.priority ?? WDT_PRIORITY.normal,
        seq: this.seq++,
        run: () => {
          const entry = { at: this.clock.now() };
          this.starts.push(entry);
          this.running += 1;
          this.runJob(entry, options, fn).then(resolve, reject);
        },
        drop: reject,
      };
      // Stable priority queue: lower number first, then arrival.
      let i = this.queue.length;
      while (i > 0 && this.queue[i - 1].priority > job.priority) i -= 1;
      this.queue.splice(i, 0, job);
      this.pump();
    });
  }

  /** Without a gate `fn` is called synchronously (as the slot is taken), as before the gate existed. */
  private async runJob<T>(
    entry: { at: number },
    options: WdtScheduleOptions,
    fn: (startedAt: number) => Promise<T>,
  ): Promise<T> {
    if (this.gate) {
      try {
        await this.passGate(this.gate, options);
      } catch (err) {
        // Never started: it leaves the window and gives its place back.
        const index = this.starts.indexOf(entry);
        if (index >= 0) this.starts.splice(index, 1);
        this.running -= 1;
        this.pump();
        throw err;
      }
      // The shared budget counts the call from now; so does this window.
      this.restamp(entry, this.clock.now());
    }
    try {
      return await fn(entry.at);
    } finally {
      this.running -= 1;
      this.ended(entry);
      this.pump();
    }
  }

  private async passGate(gate: WdtCallGate, options: WdtScheduleOptions): Promise<void> {
    const controller = new AbortController();
    const onAbort = () => controller.abort(options.signal?.reason);
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener('abort', onAbort, { once: true });
    this.gateWaits.add(controller);
    try {
      await gate.acquire({
        budgetKey: this.budgetKey,
        limit: this.limit,
        scheme: options.scheme ?? WDT_GATE_DEFAULT_SCHEME,
        priority: wdtPriorityName(options.priority),
        signal: controller.signal,
      });
    } finally {
      this.gateWaits.delete(controller);
      options.signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Drops waiting calls (they reject, those waiting at the gate too) and refuses new ones. */
  stop(): Promise<void> {
    this.stopped = true;
    for (const wait of this.gateWaits) wait.abort(new Error('WDT rate limiter stopped'));
    if (this.timer !== undefined) this.timers.clear(this.timer);
    this.timer = undefined;
    for (const job of this.queue.splice(0, this.queue.length))
      job.drop(new Error('WDT rate limiter stopped'));
    return Promise.resolve();
  }

  private expire(now: number): void {
    while (this.starts.length > 0 && this.starts[0].at <= now - this.windowMs) this.starts.shift();
  }

  /** A call ended: it counts from its end (the log stays sorted; an entry already expired comes back). */
  private ended(entry: { at: number }): void {
    this.restamp(entry, this.clock.now());
  }

  /** Moves `entry` to `at`, keeping the log sorted. */
  private restamp(entry: { at: number }, at: number): void {
    const index = this.starts.indexOf(entry);
    if (index >= 0) this.starts.splice(index, 1);
    entry.at = at;
    let i = this.starts.length;
    while (i > 0 && this.starts[i - 1].at > entry.at) i -= 1;
    this.starts.splice(i, 0, entry);
  }

  private pump(): void {
    if (this.stopped) return;
    if (this.timer !== undefined) {
      this.timers.clear(this.timer);
      this.timer = undefined;
    }
    while (this.queue.length > 0 && this.running < this.maxConcurrent) {
      const now = this.clock.now();
      this.expire(now);
      const allowed = Math.max(1, Math.floor(this.effectiveLimit(now)));
      if (this.reduced < this.limit && this.effectiveLimit(now) >= this.limit) {
        this.reduced = this.limit;
        setWdtRateLimit(this.key, this.limit);
      }
      if (this.starts.length >= allowed) {
        // The oldest start leaves the window at starts[len − allowed] + 60 s; recovery may come sooner.
        const frees = this.starts[this.starts.length - allowed].at + this.windowMs - now;
        this.timer = this.timers.set(
          () => {
            this.timer = undefined;
            this.pump();
          },
          Math.max(1, Math.min(frees, this.untilNextStep(now))),
        );
        return;
      }
      this.queue.shift()!.run();
    }
  }

  /** While recovering: ms until the effective limit grows by one call (so a waiting call may start). */
  private untilNextStep(now: number): number {
    if (this.reduced >= this.limit) return Infinity;
    const current = this.effectiveLimit(now);
    const next = Math.min(this.limit, Math.floor(current) + 1);
    const perMs = (this.limit * WDT_RATE_RECOVERY_PER_MINUTE) / this.windowMs;
    return Math.ceil((next - current) / perMs);
  }
}

export function createWdtLimiter(settings: WdtLimiterSettings): WdtRateLimiter {
  return new WdtRateLimiter(settings);
}

/** Limiter key: one budget per gateway and seller (and Qimen app, which TOP also limits). */
export function wdtLimiterKey(gateway: 'native' | 'qimen', sid: string, appKey?: string): string {
  return appKey ? `${gateway}:${appKey}:${sid}` : `${gateway}:${sid}`;
}

export class WdtLimiterRegistry {
  private readonly limiters = new Map<string, WdtRateLimiter>();

  /**
   * Returns the limiter for `key`, creating it on first use. The first caller's settings win: a later
   * caller asking for a different budget gets the existing limiter (one budget per key, by design).
   */
  get(key: string, settings: WdtLimiterSettings): WdtRateLimiter {
    let limiter = this.limiters.get(key);
    if (!limiter) {
      limiter = createWdtLimiter({ key, ...settings });
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
    await Promise.all(all.map((limiter) => limiter.stop().catch(() => undefined)));
  }
}

/** The process-wide registry used when no limiter or registry is injected. */
export const sharedWdtLimiterRegistry = new WdtLimiterRegistry();

export type Admission = { ok: true } | { ok: false; retryAfterMs: number };

/**
 * Sliding-window call counter per key, like WDT's "1分钟内最多60次": the per-sid keys (gateway + sid)
 * and the per-app-key keys (`appkey:<gateway>:<appKey>`) live side by side. Only admitted calls are
 * recorded, and only while the key has a limit.
 */
export class SidRateLimiter {
  private readonly calls = new Map<string, number[]>();

  /** Whether one more call at `nowMs` fits (nothing is recorded); `limit` 0 = unlimited. */
  check(key: string, nowMs: number, limit: number, windowMs: number): Admission {
    if (limit <= 0) return { ok: true };
    const recent = (this.calls.get(key) ?? []).filter((at) => at > nowMs - windowMs);
    this.calls.set(key, recent);
    if (recent.length >= limit) return { ok: false, retryAfterMs: Math.max(1, recent[0] + windowMs - nowMs) };
    return { ok: true };
  }

  /** Records an admitted call (kept only for limited keys, so unlimited ones never accumulate). */
  record(key: string, nowMs: number, limit: number): void {
    if (limit <= 0) return;
    const recent = this.calls.get(key) ?? [];
    recent.push(nowMs);
    this.calls.set(key, recent);
  }

  /** Records the call if allowed; otherwise says how long until a slot frees up. */
  tryAcquire(key: string, nowMs: number, limit: number, windowMs: number): Admission {
    const admitted = this.check(key, nowMs, limit, windowMs);
    if (admitted.ok) this.record(key, nowMs, limit);
    return admitted;
  }

  reset(): void {
    this.calls.clear();
  }
}

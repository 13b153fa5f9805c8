/** Sliding-window call counter per key (gateway + sid), like WDT's "1分钟内最多60次". */
export class SidRateLimiter {
  private readonly calls = new Map<string, number[]>();

  /** Records the call if allowed; otherwise says how long until a slot frees up. */
  tryAcquire(
    key: string,
    nowMs: number,
    limit: number,
    windowMs: number,
  ): { ok: true } | { ok: false; retryAfterMs: number } {
    if (limit <= 0) return { ok: true };
    const recent = (this.calls.get(key) ?? []).filter((at) => at > nowMs - windowMs);
    if (recent.length >= limit) {
      this.calls.set(key, recent);
      return { ok: false, retryAfterMs: Math.max(1, recent[0] + windowMs - nowMs) };
    }
    recent.push(nowMs);
    this.calls.set(key, recent);
    return { ok: true };
  }

  reset(): void {
    this.calls.clear();
  }
}

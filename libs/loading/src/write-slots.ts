/**
 * At most `size` writes to Kingdee at a time in the process (KINGDEE_SESSIONS), whatever the number
 * of handler calls running: a call takes a slot before its fence and gives it back when Kingdee
 * answered, so the bookkeeping of one call (claims, outcomes, audit) overlaps the next call, and a
 * fenced write never waits in the session pool's queue.
 */
export class WriteSlots {
  private used = 0;
  private readonly waiters: Array<() => void> = [];

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new Error(`write slots must be >= 1 (got ${size})`);
  }

  /** Writes under way. */
  get inUse(): number {
    return this.used;
  }

  /** Resolves with a release function once a slot is free; rejects when `signal` aborts first. */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.used < this.size) {
      this.used += 1;
      return Promise.resolve(this.releaser());
    }
    return new Promise((resolve, reject) => {
      const grant = () => {
        signal?.removeEventListener('abort', onAbort);
        this.used += 1;
        resolve(this.releaser());
      };
      const onAbort = () => {
        const i = this.waiters.indexOf(grant);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(grant);
    });
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.used -= 1;
      this.waiters.shift()?.();
    };
  }
}

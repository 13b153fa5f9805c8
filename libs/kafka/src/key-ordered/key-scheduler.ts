/** Records of one key handed out together: the key's queued records, oldest first. */
export interface KeyGroup<T> {
  key: string;
  items: T[];
}

interface KeyState<T> {
  queue: T[];
  busy: boolean;
  /** Not handed out before this time (ms, the scheduler's clock) after a failed attempt. */
  notBefore: number;
  failures: number;
}

/**
 * Which records may be processed now: one group per key at a time (a key's records strictly in offset
 * order, the next only after the previous finished), keys in the order they became ready, so records
 * of different keys run concurrently however few partitions they come from. Pure: the consumer feeds
 * it and calls `done` / `retryLater`.
 */
export class KeyScheduler<T> {
  private readonly keys = new Map<string, KeyState<T>>();
  /** Keys with queued records, not busy (insertion order = readiness order). */
  private readonly ready = new Set<string>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Queued records (not handed out). */
  get queued(): number {
    let n = 0;
    for (const k of this.ready) n += this.keys.get(k)?.queue.length ?? 0;
    return n;
  }

  /** Keys with records waiting to be handed out (some may still be in a retry backoff). */
  get readyKeys(): number {
    return this.ready.size;
  }

  /** Keys being processed. */
  get busyKeys(): number {
    let n = 0;
    for (const s of this.keys.values()) if (s.busy) n += 1;
    return n;
  }

  add(key: string, item: T): void {
    let s = this.keys.get(key);
    if (!s) {
      s = { queue: [], busy: false, notBefore: 0, failures: 0 };
      this.keys.set(key, s);
    }
    s.queue.push(item);
    if (!s.busy) this.ready.add(key);
  }

  /**
   * Up to `maxKeys` ready keys with all their queued records (several versions of one key go
   * together, in order: the handler may keep only the newest). The keys are busy until `done`.
   */
  take(maxKeys: number): KeyGroup<T>[] {
    const out: KeyGroup<T>[] = [];
    const now = this.now();
    for (const key of this.ready) {
      if (out.length >= maxKeys) break;
      const s = this.keys.get(key) as KeyState<T>;
      if (s.notBefore > now) continue;
      this.ready.delete(key);
      s.busy = true;
      out.push({ key, items: s.queue.splice(0) });
    }
    return out;
  }

  /** When the next key held back by `retryLater` becomes ready (ms, scheduler clock), if any. */
  nextRetryAt(): number | undefined {
    let at: number | undefined;
    const now = this.now();
    for (const key of this.ready) {
      const s = this.keys.get(key) as KeyState<T>;
      if (s.notBefore > now) at = at === undefined ? s.notBefore : Math.min(at, s.notBefore);
    }
    return at;
  }

  /** The key's group finished: its next records (if any) become ready. */
  done(key: string): void {
    const s = this.keys.get(key);
    if (!s) return;
    s.busy = false;
    s.failures = 0;
    s.notBefore = 0;
    if (s.queue.length > 0) this.ready.add(key);
    else this.keys.delete(key);
  }

  /**
   * The key's group failed and must be tried again: its records go back in front of the key's
   * queue, ready after `backoffMs(failures)`.
   */
  retryLater(key: string, items: T[], backoffMs: (failures: number) => number): void {
    const s = this.keys.get(key);
    if (!s) return;
    s.busy = false;
    s.failures += 1;
    s.queue.unshift(...items);
    s.notBefore = this.now() + backoffMs(s.failures);
    if (s.queue.length > 0) this.ready.add(key);
    else this.keys.delete(key);
  }

  /** Drops queued (not busy) records matching `drop`, e.g. those of revoked partitions. */
  dropQueued(drop: (item: T) => boolean): number {
    let dropped = 0;
    for (const [key, s] of this.keys) {
      const before = s.queue.length;
      s.queue = s.queue.filter((i) => !drop(i));
      dropped += before - s.queue.length;
      if (s.queue.length === 0) {
        this.ready.delete(key);
        if (!s.busy) this.keys.delete(key);
      }
    }
    return dropped;
  }
}

import { AppLogger, silentLogger } from '@libs/common';
import { ClaimStore, claimKey, HeldClaim } from './claim.store';

/** Milliseconds on a clock that never jumps (performance.now / hrtime), injectable for tests. */
export type MonotonicClock = () => number;
export const monotonicNow: MonotonicClock = () => performance.now();

export class LeaseLostError extends Error {
  override readonly name = 'LeaseLostError';
}

export interface LeaseKeeperOptions {
  owner: string;
  leaseMs: number;
  /** Subtracted from every lease end on our clock: its end always comes before Postgres's. */
  skewMs: number;
  /** How often all held claims are renewed (default a quarter of the lease). */
  renewEveryMs?: number;
  clock?: MonotonicClock;
  logger?: AppLogger;
}

interface Lease {
  claim: HeldClaim;
  /** End of the lease on our monotonic clock (renewal *sent* at + lease − skew). */
  endsAt: number;
  lost: boolean;
  watchers: Set<AbortController>;
}

/**
 * The writer's side of claim leases. Postgres holds the truth (`lease_until`); this keeps, per held
 * `writing` claim, when the lease ends on our own monotonic clock — counted from when the statement
 * that granted or renewed it was sent, minus the skew margin, so it ends before Postgres lets anyone
 * take the claim over. A write starts only on a live lease, and every call is bound to its leases by
 * an abort signal that fires before they can end (or at once when a renewal shows the claim lost).
 */
export class LeaseKeeper {
  private readonly leases = new Map<string, Lease>();
  private readonly clock: MonotonicClock;
  private readonly logger: AppLogger;
  private timer?: NodeJS.Timeout;
  private watchdog?: NodeJS.Timeout;
  private renewing?: Promise<void>;

  constructor(
    private readonly store: ClaimStore,
    private readonly options: LeaseKeeperOptions,
  ) {
    this.clock = options.clock ?? monotonicNow;
    this.logger = options.logger ?? silentLogger;
  }

  get owner(): string {
    return this.options.owner;
  }

  get leaseMs(): number {
    return this.options.leaseMs;
  }

  get skewMs(): number {
    return this.options.skewMs;
  }

  start(): void {
    const every = this.options.renewEveryMs ?? Math.max(250, Math.floor(this.options.leaseMs / 4));
    this.timer = setInterval(() => void this.renew(), every);
    this.timer.unref();
    this.watchdog = setInterval(() => this.expireDue(), Math.max(50, Math.min(500, this.options.skewMs / 2)));
    this.watchdog.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    clearInterval(this.watchdog);
  }

  /** Marks the time a claiming/fencing statement is sent; pass it to {@link granted}. */
  now(): number {
    return this.clock();
  }

  /** Claims a statement sent at `sentAt` granted or renewed. */
  granted(sentAt: number, claims: HeldClaim[]): void {
    const endsAt = sentAt + this.options.leaseMs - this.options.skewMs;
    for (const claim of claims) {
      const key = claimKey(claim);
      const lease = this.leases.get(key);
      if (lease && lease.claim.epoch === claim.epoch && !lease.lost)
        lease.endsAt = Math.max(lease.endsAt, endsAt);
      else this.leases.set(key, { claim, endsAt, lost: false, watchers: new Set() });
    }
  }

  /** Claims that left `writing` under our hands (settled, released): no longer watched. */
  forget(claims: HeldClaim[]): void {
    for (const claim of claims) {
      const key = claimKey(claim);
      if (this.leases.get(key)?.claim.epoch === claim.epoch) this.leases.delete(key);
    }
  }

  /** Milliseconds the claim's lease still has on our clock (negative when ended or lost). */
  remaining(claim: HeldClaim): number {
    const lease = this.leases.get(claimKey(claim));
    if (!lease || lease.lost || lease.claim.epoch !== claim.epoch) return -1;
    return lease.endsAt - this.clock();
  }

  /** Claims among `claims` whose lease is live for at least `minMs` more. */
  writable(claims: HeldClaim[], minMs: number): HeldClaim[] {
    return claims.filter((c) => this.remaining(c) >= minMs);
  }

  /**
   * An abort signal for a call made under these claims: it fires when any of their leases ends on
   * our clock or is found lost, so the writer stops waiting before someone else may own the bill.
   */
  bind(claims: HeldClaim[]): { signal: AbortSignal; done: () => void } {
    const controller = new AbortController();
    const leases = claims.map((c) => this.leases.get(claimKey(c))).filter((l): l is Lease => l !== undefined);
    if (leases.length < claims.length || leases.some((l) => l.lost || l.endsAt <= this.clock()))
      controller.abort(new LeaseLostError('claim lease ended before the call'));
    else for (const l of leases) l.watchers.add(controller);
    return {
      signal: controller.signal,
      done: () => {
        for (const l of leases) l.watchers.delete(controller);
      },
    };
  }

  /** Renews every claim this owner holds (one statement); the missing ones are lost. */
  async renew(): Promise<void> {
    this.renewing ??= this.doRenew().finally(() => {
      this.renewing = undefined;
    });
    return this.renewing;
  }

  private async doRenew(): Promise<void> {
    const sentAt = this.clock();
    const watched = [...this.leases.values()].filter((l) => !l.lost).map((l) => l.claim);
    let kept: HeldClaim[];
    try {
      kept = await this.store.renew(this.options.owner, this.options.leaseMs);
    } catch (err) {
      // Not renewed: our leases run out on their own and the watchdog aborts what is bound to them.
      this.logger.warn({ err: (err as Error).message }, 'claim lease renewal failed');
      return;
    }
    const still = new Set(kept.map((c) => `${claimKey(c)}\u0000${c.epoch}`));
    const endsAt = sentAt + this.options.leaseMs - this.options.skewMs;
    for (const claim of watched) {
      const lease = this.leases.get(claimKey(claim));
      if (!lease || lease.claim.epoch !== claim.epoch) continue;
      if (still.has(`${claimKey(claim)}\u0000${claim.epoch}`)) lease.endsAt = Math.max(lease.endsAt, endsAt);
      else if (this.leases.get(claimKey(claim)) === lease)
        this.lose(lease, 'claim no longer held (taken over or settled elsewhere)');
    }
  }

  private expireDue(): void {
    const now = this.clock();
    for (const lease of this.leases.values())
      if (!lease.lost && lease.endsAt <= now)
        this.lose(lease, 'claim lease ran out before it could be renewed');
  }

  private lose(lease: Lease, why: string): void {
    lease.lost = true;
    for (const w of lease.watchers) w.abort(new LeaseLostError(why));
    lease.watchers.clear();
  }
}

/**
 * Liveness (`/health`): a restart helps only a process that is stuck, not one that is waiting for
 * good reasons. A consumer is stuck when it has made no progress for LIVENESS_STALL_SECONDS while
 * there is work (lag), it is not paused, its ERP circuit is closed and nothing is settling; in
 * every other case `/health` stays 200, so an outage of Kingdee never turns into a restart loop.
 */
export interface ConsumerProgress {
  lastProgressAt: number;
  /** Last lag measured from the broker; undefined until the first measurement. */
  lag: number | undefined;
  paused: boolean;
}

/** A consumer whose progress liveness watches (the services' batch consumers). */
export interface ProgressSource {
  progress(): ConsumerProgress;
}

/** Reasons a stalled consumer is waiting rather than stuck (the loader: circuit, settling). */
export interface WaitReasons {
  circuitOpen?: () => boolean;
  settling?: () => Promise<boolean>;
}

export interface LivenessVerdict {
  live: boolean;
  consumers: Array<{
    name: string;
    idleSeconds: number;
    lag: number | undefined;
    paused: boolean;
    stalled: boolean;
  }>;
  waiting?: 'circuit open' | 'settling';
}

/** The pure rule, unit-tested: stalled = idle past the limit with lag, not paused. */
export function judgeConsumers(
  consumers: Array<{ name: string; progress: ConsumerProgress }>,
  now: number,
  stallMs: number,
): LivenessVerdict['consumers'] {
  return consumers.map(({ name, progress }) => {
    const idleMs = now - progress.lastProgressAt;
    return {
      name,
      idleSeconds: Math.floor(idleMs / 1000),
      lag: progress.lag,
      paused: progress.paused,
      stalled: idleMs > stallMs && (progress.lag ?? 0) > 0 && !progress.paused,
    };
  });
}

export class Liveness {
  private readonly sources = new Map<string, ProgressSource>();
  private reasons: WaitReasons = {};

  constructor(
    private readonly stallMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  watch(name: string, source: ProgressSource): void {
    this.sources.set(name, source);
  }

  waitReasons(reasons: WaitReasons): void {
    this.reasons = reasons;
  }

  /** Whether an ERP circuit is open now; undefined in services without one. */
  circuitOpen(): boolean | undefined {
    return this.reasons.circuitOpen?.();
  }

  async check(): Promise<LivenessVerdict> {
    const consumers = judgeConsumers(
      [...this.sources].map(([name, s]) => ({ name, progress: s.progress() })),
      this.now(),
      this.stallMs,
    );
    if (!consumers.some((c) => c.stalled)) return { live: true, consumers };
    if (this.reasons.circuitOpen?.()) return { live: true, consumers, waiting: 'circuit open' };
    if (await this.reasons.settling?.().catch(() => false))
      return { live: true, consumers, waiting: 'settling' };
    return { live: false, consumers };
  }
}

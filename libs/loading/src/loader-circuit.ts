import {
  circuitBreaker,
  CircuitBreakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  handleWhen,
  isBrokenCircuitError,
} from 'cockatiel';
import { AppLogger, silentLogger } from '@libs/common';
import { isKingdeeError } from '@libs/kingdee-client';

export class SystemicFailureError extends Error {
  override readonly name = 'SystemicFailureError';
  constructor(
    message: string,
    override readonly cause?: unknown,
  ) {
    super(message);
  }
}

export type CircuitStateName = 'closed' | 'open' | 'half_open';

export interface LoaderCircuitOptions {
  /** Consecutive systemic failures that open the circuit. */
  threshold: number;
  /** How long the circuit stays open before a probe call is let through. */
  halfOpenAfterMs: number;
  initialDelayMs: number;
  maxDelayMs: number;
  onStateChange?: (state: CircuitStateName, lastError?: string) => void;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

/** Failures of the ERP as a whole (down, auth, throttled): never a reason to fail a record. */
export function isSystemic(error: unknown): boolean {
  return isKingdeeError(error) && (error.kind === 'transient' || error.kind === 'auth');
}

const NAMES: Record<number, CircuitStateName> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half_open',
  [CircuitState.Isolated]: 'open',
};

/**
 * Every Kingdee call of the loader goes through here. Systemic failures are retried with capped,
 * jittered exponential backoff for as long as the loader runs: after `threshold` in a row the
 * cockatiel breaker opens, calls stop hitting the ERP, a probe goes through every
 * `halfOpenAfterMs`, and the first success closes it. Records wait on the topic meanwhile.
 */
export class LoaderCircuit {
  private readonly breaker: CircuitBreakerPolicy;
  private readonly sleep: (ms: number) => Promise<void>;
  private lastError?: string;

  constructor(
    private readonly options: LoaderCircuitOptions,
    private readonly logger: AppLogger = silentLogger,
  ) {
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.breaker = circuitBreaker(handleWhen(isSystemic), {
      halfOpenAfter: options.halfOpenAfterMs,
      breaker: new ConsecutiveBreaker(options.threshold),
    });
    this.breaker.onStateChange((state) => {
      const name = NAMES[state];
      this.logger[name === 'open' ? 'error' : 'info'](
        { circuit: name, lastError: this.lastError },
        `Kingdee circuit ${name}`,
      );
      options.onStateChange?.(name, this.lastError);
    });
  }

  get state(): CircuitStateName {
    return NAMES[this.breaker.state];
  }

  async call<T>(fn: () => Promise<T>, ctx: { heartbeat(): Promise<void>; isRunning(): boolean }): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      if (!ctx.isRunning())
        throw new SystemicFailureError('loader stopping while waiting for Kingdee', this.lastError);
      try {
        return await this.breaker.execute(() => fn());
      } catch (error) {
        if (!isSystemic(error) && !isBrokenCircuitError(error)) throw error;
        if (!isBrokenCircuitError(error)) this.lastError = (error as Error).message;
        const ceiling = Math.min(
          this.options.maxDelayMs,
          this.options.initialDelayMs * 2 ** Math.min(attempt - 1, 20),
        );
        const delay = isBrokenCircuitError(error)
          ? this.options.halfOpenAfterMs
          : ceiling / 2 + ((this.options.random ?? Math.random)() * ceiling) / 2;
        await this.wait(delay, ctx);
      }
    }
  }

  /** Sleeps in slices so the consumer keeps heartbeating and a shutdown is noticed. */
  private async wait(ms: number, ctx: { heartbeat(): Promise<void>; isRunning(): boolean }): Promise<void> {
    const until = Date.now() + ms;
    while (Date.now() < until && ctx.isRunning()) {
      await this.sleep(Math.min(1000, until - Date.now()));
      await ctx.heartbeat().catch(() => undefined);
    }
  }
}

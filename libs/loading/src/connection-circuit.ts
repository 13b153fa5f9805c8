import {
  circuitBreaker,
  CircuitBreakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  ExponentialBackoff,
  handleWhen,
  isBrokenCircuitError,
  retry,
} from 'cockatiel';
import { AppLogger, silentLogger } from '@libs/common';
import { isKingdeeError, KingdeeApi } from '@libs/kingdee-client';

export type CircuitStateName = 'closed' | 'open' | 'half_open';

/** Kingdee as a whole failing (down, auth, throttled beyond retries, unreadable): never a record's fault. */
export function isSystemic(error: unknown): boolean {
  return (
    isKingdeeError(error) &&
    (error.kind === 'transient' || error.kind === 'auth' || error.kind === 'ambiguous') &&
    // Our own abort (lease lost, shutdown) says nothing about Kingdee.
    error.code !== 'KD_ABORTED'
  );
}

/** Failures after which the same request may simply be sent again: nothing was applied. */
export function isNotApplied(error: unknown): boolean {
  return isKingdeeError(error) && error.kind === 'transient';
}

export { isBrokenCircuitError };

/**
 * Failures of the loader's outside world (Kingdee, its circuit, our own stop or a lost lease) that
 * say nothing about the document: the batch is redelivered, never dead-lettered.
 */
export function isLoaderTransient(error: unknown): boolean {
  if (isKingdeeError(error) || isBrokenCircuitError(error)) return true;
  return (
    error instanceof Error &&
    ['LoaderStoppedError', 'LeaseLostError', 'AbortError', 'TaskCancelledError'].includes(error.name)
  );
}

export interface RetrySettings {
  /** Retries after the first attempt. */
  count: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

export interface ConnectionCircuitOptions {
  /** Consecutive systemic failures that open the circuit. */
  threshold: number;
  /** How long it stays open before one probe call is let through. */
  halfOpenAfterMs: number;
  onStateChange?: (state: CircuitStateName, lastError?: string) => void;
}

const NAMES: Record<number, CircuitStateName> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half_open',
  [CircuitState.Isolated]: 'open',
};

/**
 * The breaker of one Kingdee connection (cockatiel): after `threshold` systemic failures in a row
 * calls stop reaching Kingdee, a probe goes through every `halfOpenAfterMs`, and the first success
 * closes it. Callers never wait on an open circuit: the loader parks the documents of schemes on an
 * open connection and moves on, so one connection's outage blocks nobody else.
 */
export class ConnectionCircuit {
  private readonly breaker: CircuitBreakerPolicy;
  private openedAt = 0;
  private lastErrorText?: string;

  constructor(
    readonly connectionId: string,
    private readonly options: ConnectionCircuitOptions,
    private readonly logger: AppLogger = silentLogger,
  ) {
    this.breaker = circuitBreaker(handleWhen(isSystemic), {
      halfOpenAfter: options.halfOpenAfterMs,
      breaker: new ConsecutiveBreaker(options.threshold),
    });
    this.breaker.onFailure(({ reason }) => {
      if ('error' in reason) this.lastErrorText = (reason.error as Error).message;
    });
    this.breaker.onStateChange((state) => {
      const name = NAMES[state];
      if (name === 'open') this.openedAt = Date.now();
      this.logger[name === 'open' ? 'error' : 'info'](
        { connection: connectionId, circuit: name, lastError: this.lastErrorText },
        `Kingdee circuit ${name} (connection ${connectionId})`,
      );
      options.onStateChange?.(name, this.lastErrorText);
    });
  }

  get state(): CircuitStateName {
    return NAMES[this.breaker.state];
  }

  get lastError(): string | undefined {
    return this.lastErrorText;
  }

  /** Open and not yet due for a probe: work for this connection should wait (parked). */
  get blocked(): boolean {
    return this.state === 'open' && Date.now() - this.openedAt < this.options.halfOpenAfterMs;
  }

  /** One Kingdee call through the breaker (throws BrokenCircuitError when open). */
  call<T>(fn: () => Promise<T>): Promise<T> {
    return this.breaker.execute(() => fn());
  }

  /**
   * Runs `attempt` (which makes its calls through {@link call}) with capped, jittered exponential
   * backoff between attempts for failures that applied nothing, up to `retry.count` retries. Stops
   * at once when `signal` aborts (the policy's pending delay is abandoned, not awaited).
   */
  async withRetries<T>(
    retrySettings: RetrySettings,
    attempt: () => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    const policy = retry(handleWhen(isNotApplied), {
      maxAttempts: retrySettings.count,
      backoff: new ExponentialBackoff({
        initialDelay: retrySettings.initialDelayMs,
        maxDelay: retrySettings.maxDelayMs,
      }),
    });
    const run = policy.execute(() => attempt(), signal);
    if (!signal) return run;
    run.catch(() => undefined);
    // Long-lived signals (the settler's) see many calls: the listener goes when the call is done.
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
    aborted.catch(() => undefined);
    try {
      return await Promise.race([run, aborted]);
    } finally {
      if (onAbort) signal.removeEventListener('abort', onAbort);
    }
  }
}

/** One Kingdee account the loader writes to (today the deployment has one: `default`). */
export interface KingdeeConnection {
  readonly id: string;
  readonly api: KingdeeApi;
  readonly circuit: ConnectionCircuit;
  /** The account set bills are identified in (`ConnectionRegistry`'s `account`); default: `id`. */
  readonly account?: string;
}

import {
  DelegateBackoff,
  ExponentialBackoff,
  halfJitterGenerator,
  IBackoff,
  IBackoffFactory,
  IRetryBackoffContext,
} from 'cockatiel';
import { isWdtError } from './wdt-client.errors';
import { WdtBackoffOptions } from './wdt-client.options';

interface Chains {
  transient?: IBackoff<unknown>;
  rateLimited?: IBackoff<unknown>;
}

/**
 * The WDT client's retry delays, as cockatiel backoffs: capped exponential with equal ("half")
 * jitter, a rate-limit refusal on its own chain from a larger base, and never shorter than the
 * server's retry-after hint (itself capped at the maximum).
 */
export function wdtRetryBackoff(options: WdtBackoffOptions): IBackoffFactory<IRetryBackoffContext<unknown>> {
  const transient = new ExponentialBackoff({
    generator: halfJitterGenerator,
    initialDelay: options.initialDelayMs,
    maxDelay: options.maxDelayMs,
  });
  const rateLimited = new ExponentialBackoff({
    generator: halfJitterGenerator,
    initialDelay: options.rateLimitedInitialDelayMs,
    maxDelay: options.maxDelayMs,
  });
  return new DelegateBackoff<IRetryBackoffContext<unknown>, Chains>((context, chains = {}) => {
    const error = 'error' in context.result ? context.result.error : undefined;
    const limited = isWdtError(error) && error.kind === 'rate_limited';
    const next = limited
      ? { ...chains, rateLimited: (chains.rateLimited ?? rateLimited).next(context) }
      : { ...chains, transient: (chains.transient ?? transient).next(context) };
    const delay = (limited ? next.rateLimited : next.transient)!.duration;
    const hint =
      isWdtError(error) && error.retryAfterMs ? Math.min(error.retryAfterMs, options.maxDelayMs) : 0;
    return { delay: Math.round(Math.max(delay, hint)), state: next };
  });
}

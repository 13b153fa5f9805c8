import type { WdtCallPriority } from './wdt-rate-limiter';

/** What one call asks of a budget shared with other processes. */
export interface WdtCallGateRequest {
  /** What the API's per-minute limit counts against: `native:<appKey>` or `qimen:<qimen appKey>`. */
  budgetKey: string;
  /** L: calls per window on that key, all processes together. */
  limit: number;
  /** The scheme the call is made for (fair share is per scheme). */
  scheme: string;
  priority: WdtCallPriority;
  /** Gives up waiting (the promise rejects with the signal's reason). */
  signal?: AbortSignal;
}

/**
 * A second gate after the in-process {@link WdtRateLimiter}: a budget shared by every process calling on
 * one app key (replicas and CLIs). `@libs/shared-limits` implements it over Postgres. The limiter holds
 * one of its slots while it waits here, so a process never asks for more than it could use.
 */
export interface WdtCallGate {
  /** Resolves when this caller may start one call on `budgetKey`; rejects on stop (or abort). */
  acquire(req: WdtCallGateRequest): Promise<void>;
  stop(): Promise<void>;
}

/** The budget key of a WDT client: `native:<appkey>` or `qimen:<qimen appKey>` (as `@libs/connections`). */
export function wdtBudgetKeyOf(options: {
  gateway: 'native' | 'qimen';
  appkey?: string;
  qimen?: { appKey: string };
}): string {
  return options.gateway === 'qimen'
    ? `qimen:${options.qimen?.appKey ?? ''}`
    : `native:${options.appkey ?? ''}`;
}

/** Scheme named at the gate when a call does not say which (fair share then treats such calls as one). */
export const WDT_GATE_DEFAULT_SCHEME = '(none)';

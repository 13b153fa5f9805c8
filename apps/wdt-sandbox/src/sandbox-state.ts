import { Clock } from '@libs/common';
import { DEFAULT_QIMEN_TARGET_APP_KEY } from '@libs/wdt-client';
import { CallStats } from './call-stats';
import { DEFAULT_KNOBS, FaultInjector, SandboxKnobs, mergeKnobs } from './knobs';
import { OrderStore } from './order-store';
import { PageCorruptor } from './page-corruptor';
import { SidRateLimiter } from './sid-rate-limiter';

/** The one seller account the sandbox serves, on both gateways. */
export interface SandboxAccount {
  sid: string;
  appkey: string;
  appsecret: string;
  qimenAppKey: string;
  qimenSecret: string;
  qimenTargetAppKey: string;
}

export const DEFAULT_SANDBOX_ACCOUNT: Readonly<SandboxAccount> = Object.freeze({
  sid: 'sandbox-sid',
  appkey: 'sandbox-appkey',
  appsecret: 'sandbox-appsecret',
  qimenAppKey: '23000001',
  qimenSecret: 'sandbox-qimen-secret',
  qimenTargetAppKey: DEFAULT_QIMEN_TARGET_APP_KEY,
});

/** Everything the handlers share: orders, knobs, counters, the per-sid limiter and the clock. */
export class SandboxState {
  readonly store = new OrderStore();
  readonly stats = new CallStats();
  readonly limiter = new SidRateLimiter();
  readonly faults: FaultInjector;
  readonly corruptor = new PageCorruptor();
  private currentKnobs: SandboxKnobs;

  constructor(
    readonly account: SandboxAccount,
    readonly clock: Clock,
    private readonly initialKnobs: SandboxKnobs = { ...DEFAULT_KNOBS },
  ) {
    this.currentKnobs = { ...initialKnobs };
    this.faults = new FaultInjector(() => this.currentKnobs);
  }

  get knobs(): SandboxKnobs {
    return this.currentKnobs;
  }

  /** Validated partial update; throws `KnobValidationError` naming the field. */
  setKnobs(patch: unknown): SandboxKnobs {
    this.currentKnobs = mergeKnobs(this.currentKnobs, patch);
    return this.currentKnobs;
  }

  /** Internal update (fault counters); no validation needed. */
  consume = (patch: Partial<SandboxKnobs>): void => {
    this.currentKnobs = { ...this.currentKnobs, ...patch };
  };

  resetKnobs(): void {
    this.currentKnobs = { ...this.initialKnobs };
  }

  /** Clears orders, counters and rate-limit windows; knobs too unless `keepKnobs`. */
  reset(keepKnobs = false): void {
    this.store.reset();
    this.stats.reset();
    this.limiter.reset();
    if (!keepKnobs) this.resetKnobs();
  }
}

import { Clock } from '@libs/common';
import { DEFAULT_QIMEN_TARGET_APP_KEY } from '@libs/wdt-client';
import { AppKeyCalls } from './app-key-calls';
import { CallStats, SandboxGatewayName } from './call-stats';
import { DEFAULT_KNOBS, FaultInjector, SandboxKnobs, mergeKnobs } from './knobs';
import { OrderGenerator, defaultSeedRange } from './order-generator';
import { OrderStore } from './order-store';
import { PageCorruptor } from './page-corruptor';
import {
  SandboxAccount,
  SandboxSeller,
  SandboxSellers,
  WdtSandboxAccountSpec,
  accountSpecSchema,
} from './sandbox-accounts';
import { Admission, SidRateLimiter } from './sid-rate-limiter';

export {
  AccountConflictError,
  type AppKeyUse,
  type SandboxAccount,
  type SandboxSeller,
  SandboxSellers,
  type WdtSandboxAccountSpec,
  accountSpecSchema,
} from './sandbox-accounts';

export const DEFAULT_SANDBOX_ACCOUNT: Readonly<SandboxAccount> = Object.freeze({
  sid: 'sandbox-sid',
  appkey: 'sandbox-appkey',
  appsecret: 'sandbox-appsecret',
  qimenAppKey: '23000001',
  qimenSecret: 'sandbox-qimen-secret',
  qimenTargetAppKey: DEFAULT_QIMEN_TARGET_APP_KEY,
});

/** No account with the sid an admin request names. */
export class UnknownSidError extends Error {
  constructor(readonly sid: string) {
    super(`no account with sid ${sid}`);
    this.name = 'UnknownSidError';
  }
}

/** `GET /admin/stats` `byAppKey` entry. */
export interface AppKeyReport {
  gateway: SandboxGatewayName;
  /** Sids the app key calls for. */
  sids: string[];
  /** Calls that named the app key (every one that reached the sandbox, faulted or rejected too). */
  calls: number;
  /** The most calls in any sliding window of `windowMs` (exact). */
  maxInWindow: number;
  /** Calls refused "too frequent" by the app key's own limit. */
  limited: number;
  /** The app key's limit per `windowMs` (knobs `appKeyLimits` / `appKeyCallsPerMinute`); null = none. */
  limit: number | null;
  windowMs: number;
}

/** Orders to generate for a seller (the sandbox start options, or an account spec). */
export interface SeedRequest {
  seedCount?: number;
  seedLazy?: boolean;
  seedFromMs?: number;
  seedToMs?: number;
}

/** Everything the handlers share: sellers and their orders, knobs, counters, limiters and the clock. */
export class SandboxState {
  readonly sellers: SandboxSellers;
  readonly stats = new CallStats();
  readonly appKeyCalls = new AppKeyCalls();
  readonly limiter = new SidRateLimiter();
  readonly faults: FaultInjector;
  readonly corruptor = new PageCorruptor();
  private currentKnobs: SandboxKnobs;

  constructor(
    account: SandboxAccount,
    readonly clock: Clock,
    private readonly initialKnobs: SandboxKnobs = { ...DEFAULT_KNOBS },
    /** Generator seed of the first account, and of added ones that name none. */
    readonly defaultSeed = 1,
  ) {
    this.currentKnobs = { ...initialKnobs };
    this.faults = new FaultInjector(() => this.currentKnobs);
    this.sellers = new SandboxSellers({ account, store: new OrderStore(), seed: defaultSeed });
  }

  /** The first (default) account. */
  get account(): SandboxAccount {
    return this.sellers.first.account;
  }

  /** The first (default) account's orders. */
  get store(): OrderStore {
    return this.sellers.first.store;
  }

  /** The seller of `sid` (absent: the first); throws {@link UnknownSidError}. */
  seller(sid?: string | null): SandboxSeller {
    if (sid === undefined || sid === null || sid === '') return this.sellers.first;
    const seller = this.sellers.bySid(sid);
    if (!seller) throw new UnknownSidError(sid);
    return seller;
  }

  /**
   * Adds an account (validated; throws a ZodError on a bad spec, {@link AccountConflictError} on a taken
   * sid or a key used with another secret) and generates its `seedCount` orders.
   */
  addAccount(input: unknown): SandboxSeller {
    const spec: WdtSandboxAccountSpec = accountSpecSchema.parse(input);
    const first = this.account;
    const appkey = spec.appkey ?? `${spec.sid}-appkey`;
    const qimenAppKey = spec.qimenAppKey ?? first.qimenAppKey;
    // A key already in use brings its secret along unless one is given.
    const nativeTwin = this.sellers.withAppKey(appkey)[0]?.account;
    const qimenTwin = this.sellers.withQimenAppKey(qimenAppKey)[0]?.account;
    const account: SandboxAccount = {
      sid: spec.sid,
      appkey,
      appsecret: spec.appsecret ?? nativeTwin?.appsecret ?? `${spec.sid}-appsecret`,
      qimenAppKey,
      qimenSecret: spec.qimenSecret ?? qimenTwin?.qimenSecret ?? `${spec.sid}-qimen-secret`,
      qimenTargetAppKey: spec.qimenTargetAppKey ?? qimenTwin?.qimenTargetAppKey ?? first.qimenTargetAppKey,
    };
    const seller: SandboxSeller = { account, store: new OrderStore(), seed: spec.seed ?? this.defaultSeed };
    this.sellers.add(seller);
    this.seedOrders(seller, spec);
    return seller;
  }

  /** Generates (or defines lazily) a seller's start-up orders. */
  seedOrders(seller: SandboxSeller, request: SeedRequest): void {
    const count = request.seedCount ?? 0;
    if (count <= 0) return;
    const range = defaultSeedRange(this.clock.now());
    const spec = {
      count,
      seed: seller.seed,
      fromMs: request.seedFromMs ?? range.fromMs,
      toMs: request.seedToMs ?? range.toMs,
    };
    if (request.seedLazy) {
      seller.store.defineLazy(spec);
      return;
    }
    const orders = new OrderGenerator(spec.seed).generate(spec, seller.store);
    for (const order of orders) seller.store.upsert(order);
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

  /** The limit of an app key per `rateLimitWindowMs` (0 = unlimited). */
  appKeyLimit(appKey: string): number {
    const own = this.currentKnobs.appKeyLimits[appKey];
    return own ?? this.currentKnobs.appKeyCallsPerMinute;
  }

  /** Counts a gateway call naming `appKey` (configured app keys only) at the current time. */
  noteAppKeyCall(gateway: SandboxGatewayName, appKey: string | undefined): void {
    if (!appKey || !this.sellers.knows(gateway, appKey)) return;
    this.appKeyCalls.record(gateway, appKey, this.clock.now(), this.currentKnobs.rateLimitWindowMs);
  }

  /**
   * Admits one call of `sid` on `appKey`: the app key's limit, then the per-sid one (knob
   * `callsPerMinute`, key `perSidKey`). Records the call in both windows only when both admit it.
   */
  admit(
    gateway: SandboxGatewayName,
    appKey: string,
    perSidKey: string,
  ): { ok: true } | { ok: false; limit: number; retryAfterMs: number; byAppKey: boolean } {
    const now = this.clock.now();
    const windowMs = this.currentKnobs.rateLimitWindowMs;
    const appLimit = this.appKeyLimit(appKey);
    const appLimiterKey = `appkey:${gateway}:${appKey}`;
    const byApp: Admission = this.limiter.check(appLimiterKey, now, appLimit, windowMs);
    if (!byApp.ok) {
      this.appKeyCalls.limitedCall(gateway, appKey);
      return { ok: false, limit: appLimit, retryAfterMs: byApp.retryAfterMs, byAppKey: true };
    }
    const sidLimit = this.currentKnobs.callsPerMinute;
    const bySid = this.limiter.check(perSidKey, now, sidLimit, windowMs);
    if (!bySid.ok) return { ok: false, limit: sidLimit, retryAfterMs: bySid.retryAfterMs, byAppKey: false };
    this.limiter.record(appLimiterKey, now, appLimit);
    this.limiter.record(perSidKey, now, sidLimit);
    return { ok: true };
  }

  /** `byAppKey` of `GET /admin/stats`: every configured app key, called or not. */
  appKeyReport(): Record<string, AppKeyReport> {
    const report: Record<string, AppKeyReport> = {};
    const windowMs = this.currentKnobs.rateLimitWindowMs;
    for (const use of this.sellers.appKeys()) {
      const limit = this.appKeyLimit(use.appKey);
      report[use.appKey] = {
        gateway: use.gateway,
        sids: use.sids,
        ...this.appKeyCalls.get(use.gateway, use.appKey),
        limit: limit > 0 ? limit : null,
        windowMs,
      };
    }
    return report;
  }

  /** Clears every account's orders, counters and rate-limit windows; knobs too unless `keepKnobs`. */
  reset(keepKnobs = false): void {
    for (const seller of this.sellers.all()) seller.store.reset();
    this.stats.reset();
    this.appKeyCalls.reset();
    this.limiter.reset();
    if (!keepKnobs) this.resetKnobs();
  }

  /** Clears one account's orders (stats, limits and knobs are the whole sandbox's). */
  resetOrders(sid: string): void {
    this.seller(sid).store.reset();
  }
}

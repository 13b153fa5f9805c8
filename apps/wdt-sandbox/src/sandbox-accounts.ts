import { z } from 'zod';
import { SandboxGatewayName } from './call-stats';
import { OrderStore } from './order-store';

/** One seller account (sid) and the keys that may call for it, on both gateways. */
export interface SandboxAccount {
  sid: string;
  /** Native appkey (several sids may share one, with one appsecret). */
  appkey: string;
  appsecret: string;
  /** The Qimen app allowed to serve this sid (one Qimen app may serve several sids, with one secret). */
  qimenAppKey: string;
  qimenSecret: string;
  qimenTargetAppKey: string;
}

/** A seller the sandbox serves: its keys, its own orders and its generator seed. */
export interface SandboxSeller {
  account: SandboxAccount;
  store: OrderStore;
  /** Default generator seed of this sid's admin seed/generate/upsert requests. */
  seed: number;
}

const key = z.string().min(1);

/**
 * One more account (option `accounts`, env `WDT_SANDBOX_ACCOUNTS`, `POST /admin/accounts`). Keys not
 * given: native `<sid>-appkey` / `<sid>-appsecret`, the first account's Qimen app (key, secret, target).
 */
export const accountSpecSchema = z
  .strictObject({
    sid: key,
    appkey: key.optional(),
    appsecret: key.optional(),
    qimenAppKey: key.optional(),
    qimenSecret: key.optional(),
    qimenTargetAppKey: key.optional(),
    /** Generator seed of this sid (default: the sandbox's `seed`). */
    seed: z.number().int().optional(),
    /** Orders generated when the account is added (default 0; stored: ≤ 200,000, lazy: ≤ 10,000,000). */
    seedCount: z.number().int().min(0).max(10_000_000).optional(),
    seedLazy: z.boolean().optional(),
    /** Range of the generated times (epoch ms); default the 7 days before now. */
    seedFromMs: z.number().int().optional(),
    seedToMs: z.number().int().optional(),
  })
  .refine((spec) => spec.seedLazy === true || (spec.seedCount ?? 0) <= 200_000, {
    message: 'at most 200000 stored orders (use seedLazy: true for more)',
    path: ['seedCount'],
  });
export type WdtSandboxAccountSpec = z.infer<typeof accountSpecSchema>;

/** An account that cannot join: a sid taken, or a key already used with another secret. */
export class AccountConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AccountConflictError';
  }
}

/** An app key and the sids it calls for (what `GET /admin/stats` `byAppKey` reports on). */
export interface AppKeyUse {
  appKey: string;
  gateway: SandboxGatewayName;
  sids: string[];
}

/**
 * The sellers, first one = the default (`?sid=` absent). Accounts are read live (never copied), so a
 * test that changes `sandbox.account.appsecret` changes what the gateway accepts.
 */
export class SandboxSellers {
  private readonly sellers: SandboxSeller[];

  constructor(first: SandboxSeller) {
    this.sellers = [first];
  }

  get first(): SandboxSeller {
    return this.sellers[0];
  }

  all(): readonly SandboxSeller[] {
    return this.sellers;
  }

  bySid(sid: string | undefined): SandboxSeller | undefined {
    return sid === undefined ? undefined : this.sellers.find((s) => s.account.sid === sid);
  }

  /** Sellers whose native appkey is `appkey`. */
  withAppKey(appkey: string): SandboxSeller[] {
    return this.sellers.filter((s) => s.account.appkey === appkey);
  }

  /** Sellers the Qimen app `appKey` may serve. */
  withQimenAppKey(appKey: string): SandboxSeller[] {
    return this.sellers.filter((s) => s.account.qimenAppKey === appKey);
  }

  /** Whether `appKey` is a configured app key of `gateway`. */
  knows(gateway: SandboxGatewayName, appKey: string | undefined): boolean {
    if (!appKey) return false;
    return gateway === 'native'
      ? this.withAppKey(appKey).length > 0
      : this.withQimenAppKey(appKey).length > 0;
  }

  /** Throws {@link AccountConflictError} if `account` cannot join the current ones. */
  check(account: SandboxAccount): void {
    for (const other of this.sellers.map((s) => s.account)) {
      if (other.sid === account.sid) throw new AccountConflictError(`sid ${account.sid} already exists`);
      if (other.appkey === account.appkey && other.appsecret !== account.appsecret)
        throw new AccountConflictError(
          `appkey ${account.appkey} is already used by sid ${other.sid} with another appsecret`,
        );
      if (other.qimenAppKey === account.qimenAppKey && other.qimenSecret !== account.qimenSecret)
        throw new AccountConflictError(
          `Qimen app key ${account.qimenAppKey} is already used by sid ${other.sid} with another secret`,
        );
      if (other.appkey === account.qimenAppKey || other.qimenAppKey === account.appkey)
        throw new AccountConflictError(
          `app key ${other.appkey === account.qimenAppKey ? account.qimenAppKey : account.appkey} cannot be both a native appkey and a Qimen app key`,
        );
    }
    if (account.appkey === account.qimenAppKey)
      throw new AccountConflictError(
        `app key ${account.appkey} cannot be both a native appkey and a Qimen app key`,
      );
  }

  add(seller: SandboxSeller): void {
    this.check(seller.account);
    this.sellers.push(seller);
  }

  /** Every app key in use (native ones first, then Qimen ones, in account order) with its sids. */
  appKeys(): AppKeyUse[] {
    const uses = new Map<string, AppKeyUse>();
    const note = (gateway: SandboxGatewayName, appKey: string, sid: string) => {
      const id = `${gateway}:${appKey}`;
      const use = uses.get(id) ?? { appKey, gateway, sids: [] };
      if (!use.sids.includes(sid)) use.sids.push(sid);
      uses.set(id, use);
    };
    for (const { account } of this.sellers) note('native', account.appkey, account.sid);
    for (const { account } of this.sellers) note('qimen', account.qimenAppKey, account.sid);
    return [...uses.values()];
  }

  /** Without secrets (admin `GET /admin/accounts`, `/admin/config`). */
  describe(): Array<{
    sid: string;
    appkey: string;
    qimenAppKey: string;
    qimenTargetAppKey: string;
    seed: number;
    orders: number;
  }> {
    return this.sellers.map(({ account, store, seed }) => ({
      sid: account.sid,
      appkey: account.appkey,
      qimenAppKey: account.qimenAppKey,
      qimenTargetAppKey: account.qimenTargetAppKey,
      seed,
      orders: store.size,
    }));
  }
}

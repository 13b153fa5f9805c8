import type { KingdeeClientOptions } from '@libs/kingdee-client';
import type { WdtClientOptions } from '@libs/wdt-client';
import type { ConnectionsOutline } from '@libs/scheme';
import { ConnectionsConfigError } from './connections.errors';

/** A WDT connection ready to use: validated, secrets read. */
export interface WdtConnection {
  name: string;
  gateway: 'native' | 'qimen';
  sid: string;
  /** What the API's per-minute limit counts against: `native:<appKey>` or `qimen:<qimen app key>`. */
  budgetKey: string;
  /** L of the budget key (every connection on one key agrees). */
  callsPerMinute: number;
  /** `file` or `env` (the implicit `default` connection). */
  origin: 'file' | 'env';
  clientOptions: WdtClientOptions;
}

/** A Kingdee connection ready to use: validated, secrets read. */
export interface KingdeeConnection {
  name: string;
  /** The account set: `<host[:port]><path>#<acctId>`. Claims and bill identities are keyed by it. */
  account: string;
  /**
   * The account's session cap, shared by every process through leased slots. Undefined (the `default`
   * connection without KINGDEE_SESSION_CAP): no shared cap, each process uses its own session count.
   */
  sessionCap?: number;
  origin: 'file' | 'env';
  clientOptions: KingdeeClientOptions;
}

export interface WdtConnectionView {
  name: string;
  gateway: 'native' | 'qimen';
  sid: string;
  budgetKey: string;
  callsPerMinute: number;
  /** The gateway's URL: `baseUrl` (native) or `qimenUrl` (Qimen). */
  url: string;
  baseUrl?: string;
  qimenUrl?: string;
  /** The native app key or the Qimen app key (not secrets). */
  appKey: string;
  origin: 'file' | 'env';
}

export interface KingdeeConnectionView {
  name: string;
  account: string;
  serverUrl: string;
  acctId: string;
  username: string;
  authMode: string;
  sessionCap: number | null;
  origin: 'file' | 'env';
}

/**
 * The connections one process may use. Secrets are only in `clientOptions` of the kinds the process
 * asked for; `describe()` and `outline()` never carry them.
 */
export class ConnectionRegistry {
  constructor(
    private readonly wdtViews: ReadonlyMap<string, WdtConnectionView>,
    private readonly kingdeeViews: ReadonlyMap<string, KingdeeConnectionView>,
    private readonly wdtResolved: ReadonlyMap<string, WdtConnection>,
    private readonly kingdeeResolved: ReadonlyMap<string, KingdeeConnection>,
    /** Where the connections came from, for messages (`config/connections.yaml`, `environment`). */
    readonly source: string,
  ) {}

  wdt(name: string): WdtConnection {
    const found = this.wdtResolved.get(name);
    if (found) return found;
    if (this.wdtViews.has(name))
      throw new ConnectionsConfigError(
        `WDT connection "${name}" is not loaded with its secrets in this process`,
      );
    throw new ConnectionsConfigError(
      `unknown WDT connection "${name}" (known: ${list(this.wdtNames())}; from ${this.source})`,
    );
  }

  kingdee(name: string): KingdeeConnection {
    const found = this.kingdeeResolved.get(name);
    if (found) return found;
    if (this.kingdeeViews.has(name))
      throw new ConnectionsConfigError(
        `Kingdee connection "${name}" is not loaded with its secrets in this process`,
      );
    throw new ConnectionsConfigError(
      `unknown Kingdee connection "${name}" (known: ${list(this.kingdeeNames())}; from ${this.source})`,
    );
  }

  hasWdt(name: string): boolean {
    return this.wdtViews.has(name);
  }

  hasKingdee(name: string): boolean {
    return this.kingdeeViews.has(name);
  }

  wdtNames(): string[] {
    return [...this.wdtViews.keys()].sort();
  }

  kingdeeNames(): string[] {
    return [...this.kingdeeViews.keys()].sort();
  }

  /** WDT connections sharing one budget key (one app key's L calls a minute). */
  wdtOnBudget(budgetKey: string): string[] {
    return this.wdtNames().filter((n) => this.wdtViews.get(n)!.budgetKey === budgetKey);
  }

  describe(): { wdt: WdtConnectionView[]; kingdee: KingdeeConnectionView[] } {
    return {
      wdt: this.wdtNames().map((n) => ({ ...this.wdtViews.get(n)! })),
      kingdee: this.kingdeeNames().map((n) => ({ ...this.kingdeeViews.get(n)! })),
    };
  }

  outline(): ConnectionsOutline {
    return {
      wdt: Object.fromEntries(
        this.wdtNames().map((n) => {
          const v = this.wdtViews.get(n)!;
          return [n, { sid: v.sid, gateway: v.gateway, budgetKey: v.budgetKey }];
        }),
      ),
      kingdee: Object.fromEntries(
        this.kingdeeNames().map((n) => [n, { account: this.kingdeeViews.get(n)!.account }]),
      ),
    };
  }
}

function list(names: string[]): string {
  return names.length > 0 ? names.join(', ') : 'none';
}

/**
 * The seller and account each scheme reads and writes, as far as this process's connections say:
 * what the services record per scheme, so that a scheme with state never changes shop or account.
 */
export function schemeIdentityOf(registry: ConnectionRegistry): (scheme: {
  source: { connection: string };
  target: { connection: string };
}) => {
  sid?: string;
  account?: string;
} {
  const outline = registry.outline();
  return (scheme) => ({
    sid: outline.wdt[scheme.source.connection]?.sid,
    account: outline.kingdee[scheme.target.connection]?.account,
  });
}

import type { AppLogger, Clock } from '@libs/common';
import {
  type BaseDataSeed,
  DEFAULT_SANDBOX_KNOBS,
  DEFAULT_SANDBOX_SWITCHES,
  type KingdeeSandboxAccountOptions,
  type KingdeeSandboxCredentials,
  type KingdeeSandboxKnobs,
  type KingdeeSandboxSwitches,
} from './sandbox.options';
import { createSandboxControl, type SandboxControl } from './sandbox-admin.controller';
import { AccountConflictError, UnknownAccountError } from './sandbox-accounts.errors';
import { SandboxAuth } from './sandbox-auth.handler';
import { SandboxBills } from './sandbox-bill.handler';
import { SandboxFaultLog } from './sandbox-fault-log.service';
import { SandboxSettings } from './sandbox-faults.service';
import { SandboxManualBills } from './sandbox-manual-bills.service';
import { SandboxQuery } from './sandbox-query.handler';
import { SandboxSessions } from './sandbox-session.service';
import { accountSpecSchema, knobsPatchSchema, switchesPatchSchema } from './sandbox-settings.schema';
import { SandboxStats } from './sandbox-stats.service';
import { SandboxWriteFaults } from './sandbox-write-faults.service';
import { SandboxStore } from './sandbox.store';

/** What an account set starts with (resolved: defaults applied, validated). */
export interface SandboxAccountInit {
  credentials: KingdeeSandboxCredentials;
  knobs: KingdeeSandboxKnobs;
  switches: KingdeeSandboxSwitches;
  baseData: BaseDataSeed;
  seed: number;
}

/**
 * One account set (账套, a data centre): its users and app secrets, base data and bills, sessions,
 * knobs, switches, fault dice and stats. Sessions are bound to it; everything a session does acts here.
 */
export class SandboxAccount {
  readonly settings: SandboxSettings;
  readonly faults: SandboxFaultLog;
  readonly store: SandboxStore;
  readonly sessions: SandboxSessions;
  readonly stats = new SandboxStats();
  readonly auth: SandboxAuth;
  readonly bills: SandboxBills;
  readonly query: SandboxQuery;
  readonly writes: SandboxWriteFaults;
  readonly control: SandboxControl;
  readonly manual: SandboxManualBills;

  constructor(
    /** Read live: changing a secret here changes what logins accept. */
    readonly credentials: KingdeeSandboxCredentials,
    init: Omit<SandboxAccountInit, 'credentials'>,
    clock: Clock,
    logger: AppLogger,
  ) {
    this.settings = new SandboxSettings(init.knobs, init.switches, init.seed);
    this.faults = new SandboxFaultLog(this.settings);
    this.store = new SandboxStore(init.baseData);
    this.sessions = new SandboxSessions(clock, () => this.settings.switches.sessionIdleMs);
    this.auth = new SandboxAuth(credentials, this.sessions, this.settings, clock);
    this.bills = new SandboxBills(this.store, this.settings, this.stats, clock);
    this.query = new SandboxQuery(this.store, this.settings);
    this.writes = new SandboxWriteFaults(this.settings, this.faults, this.stats, logger);
    this.control = createSandboxControl(this.store, this.settings, this.sessions, this.stats, this.faults);
    this.manual = new SandboxManualBills(this.store, this.settings, this.bills);
  }

  get acctId(): string {
    return this.credentials.acctId;
  }

  /** For `GET /admin/accounts`: no secrets. */
  describe(): { acctId: string; username: string; bills: number; sessions: number; logins: number } {
    return {
      acctId: this.acctId,
      username: this.credentials.username,
      bills: this.store.count(),
      sessions: this.sessions.count(),
      logins: this.stats.snapshot().logins,
    };
  }
}

/** How the sandbox was started: what added account sets inherit. */
export interface SandboxAccountDefaults {
  /** The first account's credentials (added accounts copy the fields they do not give). */
  credentials: KingdeeSandboxCredentials;
  knobs?: Partial<KingdeeSandboxKnobs>;
  switches?: Partial<KingdeeSandboxSwitches>;
  baseData: BaseDataSeed;
  seed: number;
  clock: Clock;
  logger: AppLogger;
}

/** Resolves an account's start-up settings from the sandbox's defaults and the account's own options. */
function resolveInit(
  defaults: SandboxAccountDefaults,
  own: KingdeeSandboxAccountOptions | undefined,
): SandboxAccountInit {
  const baseData = { ...(own?.baseData ?? defaults.baseData) };
  if (own?.materials) baseData.materials = own.materials;
  return {
    credentials: {
      acctId: own?.acctId ?? defaults.credentials.acctId,
      username: own?.username ?? defaults.credentials.username,
      password: own?.password ?? defaults.credentials.password,
      appId: own?.appId ?? defaults.credentials.appId,
      appSecret: own?.appSecret ?? defaults.credentials.appSecret,
    },
    knobs: {
      ...DEFAULT_SANDBOX_KNOBS,
      ...knobsPatchSchema.parse(defaults.knobs ?? {}),
      ...knobsPatchSchema.parse(own?.knobs ?? {}),
    },
    switches: {
      ...DEFAULT_SANDBOX_SWITCHES,
      ...switchesPatchSchema.parse(defaults.switches ?? {}),
      ...switchesPatchSchema.parse(own?.switches ?? {}),
    },
    baseData,
    seed: own?.seed ?? defaults.seed,
  };
}

/**
 * The account sets, the first one the default: admin requests without `?acctId=` and requests that
 * name no known account (a login to an unknown acctId, a call without a session) go to it.
 */
export class SandboxAccounts {
  private readonly accounts: SandboxAccount[];

  constructor(private readonly defaults: SandboxAccountDefaults) {
    const init = resolveInit(defaults, undefined);
    // The first account keeps the very credentials object it was given (tests change it in place).
    this.accounts = [new SandboxAccount(defaults.credentials, init, defaults.clock, defaults.logger)];
  }

  get first(): SandboxAccount {
    return this.accounts[0];
  }

  all(): readonly SandboxAccount[] {
    return this.accounts;
  }

  get(acctId: string | null | undefined): SandboxAccount | undefined {
    if (acctId === null || acctId === undefined) return undefined;
    return this.accounts.find((a) => a.acctId === acctId);
  }

  /** The account `acctId` names (absent or empty: the first); throws {@link UnknownAccountError}. */
  require(acctId: string | null | undefined): SandboxAccount {
    if (acctId === null || acctId === undefined || acctId === '') return this.first;
    const account = this.get(acctId);
    if (!account) throw new UnknownAccountError(acctId);
    return account;
  }

  /** Where a login for `acctId` goes: that account, else the first (whose checks then refuse it). */
  forLogin(acctId: string | undefined): SandboxAccount {
    return this.get(acctId) ?? this.first;
  }

  /** The account holding the session id (live or expired), if any. */
  owningSession(sessionId: string | undefined): SandboxAccount | undefined {
    if (!sessionId) return undefined;
    return this.accounts.find((a) => a.sessions.has(sessionId));
  }

  /** Adds an account set (validated: ZodError on a bad spec, {@link AccountConflictError} on a taken acctId). */
  add(input: unknown): SandboxAccount {
    const own = accountSpecSchema.parse(input);
    if (this.get(own.acctId)) throw new AccountConflictError(`account ${own.acctId} already exists`);
    const init = resolveInit(this.defaults, own);
    const account = new SandboxAccount(init.credentials, init, this.defaults.clock, this.defaults.logger);
    this.accounts.push(account);
    return account;
  }
}

export { AccountConflictError, UnknownAccountError } from './sandbox-accounts.errors';

import type { AppLogger, Clock } from '@libs/common';

/** Accounts the sandbox accepts (one data centre, one user, one third-party app). */
export interface KingdeeSandboxCredentials {
  acctId: string;
  username: string;
  password: string;
  /** `clientId_secPart` with a 32-character base64 secPart (api_signature needs it). */
  appId: string;
  appSecret: string;
}

/** Behaviour that is unconfirmed in real Kingdee: chosen per run. */
export interface KingdeeSandboxSwitches {
  /** Creating a bill whose FBillNo already exists: reject (validation error) or accept (a second bill). */
  duplicateBillNo: 'reject' | 'accept';
  /** BatchSave with some failing models: keep the successful ones, or roll back the whole call. */
  atomicity: 'keep_successes' | 'rollback_all';
  /** `supplied` keeps the request's FBillNo; `erp` replaces it by prefix + serial (other fields kept). */
  numbering: 'supplied' | 'erp';
  numberPrefix: string;
  numberDigits: number;
  /** Header fields required on top of the defaults (e.g. `FDESCRIPTION`). */
  extraRequiredHeaderFields: string[];
  /** Entry fields required on top of the defaults (e.g. `FTAXPRICE`). */
  extraRequiredEntryFields: string[];
  /** LoginBySign hash accepted. */
  loginSignAlgorithm: 'sha256' | 'sha1' | 'either';
  /** Max |server time − request timestamp| for LoginBySign and signed requests; 0 = not checked. */
  signatureMaxSkewSec: number;
  /** ExecuteBillQuery row cap per call (old servers: 2000). */
  queryMaxLimit: number;
  /** A session unused this long is gone (MsgCode 1). */
  sessionIdleMs: number;
  /** Requests of one session are handled one at a time (as Kingdee does). */
  serialisePerSession: boolean;
  /**
   * Login bodies bound: `any` dialect, or only `positional` (and the legacy wrapper, which is positional)
   * as the official SDKs send them; a named login then fails with "参数个数不匹配" (MsgCode 4).
   */
  loginBodies: 'any' | 'positional';
}

/** The DynamicFormService methods that write (the ones write faults can hit). */
export const SANDBOX_WRITE_METHODS = ['Save', 'BatchSave', 'Submit', 'Audit', 'UnAudit', 'Delete'] as const;
export type SandboxWriteMethod = (typeof SANDBOX_WRITE_METHODS)[number];

/** Fault injection. `next*` counters are deterministic (decremented as they fire); rates use a seeded PRNG. */
export interface KingdeeSandboxKnobs {
  /** Delay before handling each business call (inside the session's serialisation). */
  latencyMs: number;
  http5xxRate: number;
  next5xx: number;
  http5xxStatus: number;
  /** MsgCode 14 (call limit). */
  throttleRate: number;
  nextThrottles: number;
  /** The session vanishes: MsgCode 1 lost-session reply. */
  sessionDropRate: number;
  nextSessionDrops: number;
  /** Writes (Save/BatchSave/Submit/Audit/UnAudit/Delete) are applied but the reply never arrives. */
  lostResponseRate: number;
  nextLostResponses: number;
  /** `hold`: keep the socket open until the client gives up; `destroy`: reset the connection. */
  lostResponseMode: 'hold' | 'destroy';
  /** Write methods the write faults (lost reply, 5xx after commit, late commit, …) may hit. */
  faultMethods: SandboxWriteMethod[];
  /** The write commits, then a proxy answers with its HTML error page (as nginx does). */
  http5xxAfterCommitRate: number;
  next5xxAfterCommit: number;
  http5xxAfterCommitStatus: number;
  /**
   * The write waits `lateCommitHoldMs` (session locked, nothing applied), then commits even if the
   * client has given up: IIS does not stop a request when its client disconnects.
   */
  lateCommitRate: number;
  nextLateCommits: number;
  lateCommitHoldMs: number;
  /**
   * true: IIS holds the request, its session stays locked (later calls of the session queue behind
   * it); false: a proxy or load balancer in front holds it, and the session serves other calls meanwhile.
   */
  lateCommitLocksSession: boolean;
  /** Save/BatchSave: the models are saved, then MsgCode 4 (an exception thrown after the save). */
  exceptionAfterSaveRate: number;
  nextExceptionsAfterSave: number;
  /** `draft`: with IsAutoSubmitAndAudit the bills stay in status A (the submit/audit step threw). */
  exceptionAfterSaveMode: 'committed' | 'draft';
  /** The write commits; the 200 JSON reply is cut in half. */
  truncatedReplyRate: number;
  nextTruncatedReplies: number;
  /** Save/BatchSave: `SuccessEntitys` items without `DIndex`. */
  omitDIndexRate: number;
  nextOmitDIndex: number;
  /** Save/BatchSave with ≥ 2 saved models: `IsSuccess` true but the last entity is missing. */
  shortEntitiesRate: number;
  nextShortEntities: number;
  /** Submit/Audit refused (MsgCode 11 per bill); nothing transitions. */
  submitAuditFailureRate: number;
  nextSubmitAuditFailures: number;
  /** A session handles this many business calls, then is lost (MsgCode 1); 0 = unlimited. */
  sessionCallLimit: number;
  /** Also apply latency/5xx to AuthService calls (default false so next-N knobs hit business calls). */
  faultsOnAuth: boolean;
}

export interface BaseDataItemInput {
  number: string;
  name?: string;
  /** Disabled (forbidden, FForbidStatus B) base data fails verification like unknown data. */
  enabled?: boolean;
  /** Not audited (FDocumentStatus A instead of C) fails verification too (default audited). */
  audited?: boolean;
  /**
   * Use organisations it is allocated to (分配); a bill of another organisation cannot use it. Absent:
   * allocated to every organisation. Not used for `orgs`.
   */
  useOrgs?: string[];
}

export type BaseDataKind = 'orgs' | 'stocks' | 'suppliers' | 'materials';
export const BASE_DATA_KINDS: readonly BaseDataKind[] = ['orgs', 'stocks', 'suppliers', 'materials'];

export type BaseDataSeed = Partial<Record<BaseDataKind, Array<string | BaseDataItemInput>>>;

/**
 * One more account set (账套) served by the same sandbox: its own base data, bills, sessions, knobs,
 * switches and stats. Credentials not given are the first account's; `baseData`/`materials` not given are
 * the sandbox's start-up ones; `switches`/`knobs` are merged over the sandbox's start-up ones.
 */
export interface KingdeeSandboxAccountOptions {
  acctId: string;
  username?: string;
  password?: string;
  appId?: string;
  appSecret?: string;
  baseData?: BaseDataSeed;
  materials?: string[];
  switches?: Partial<KingdeeSandboxSwitches>;
  knobs?: Partial<KingdeeSandboxKnobs>;
  /** PRNG seed for this account's rate knobs (default: the sandbox's `seed`). */
  seed?: number;
}

/**
 * The sandbox's options. `credentials`, `switches`, `knobs`, `baseData`, `materials` and `seed` define the
 * first (default) account; `accounts` adds more.
 */
export interface KingdeeSandboxOptions {
  /** More account sets after the first (validated like `POST /admin/accounts`). */
  accounts?: KingdeeSandboxAccountOptions[];
  /** 0 = any free port. */
  port?: number;
  host?: string;
  /** Path prefix of the service URLs (default `/k3cloud/`). Any prefix is accepted on requests. */
  pathPrefix?: string;
  credentials?: Partial<KingdeeSandboxCredentials>;
  switches?: Partial<KingdeeSandboxSwitches>;
  knobs?: Partial<KingdeeSandboxKnobs>;
  /** Replaces the default list of each kind given. */
  baseData?: BaseDataSeed;
  /** Shortcut for `baseData.materials` (e.g. the WDT sandbox's spec_no list). */
  materials?: string[];
  clock?: Clock;
  /** PRNG seed for rate knobs (default 42). */
  seed?: number;
  logger?: AppLogger;
}

export const DEFAULT_SANDBOX_CREDENTIALS: KingdeeSandboxCredentials = {
  acctId: '6500000000000001',
  username: 'sandbox_api',
  password: 'sandbox-password',
  // secPart = base64 of 24 ASCII bytes.
  appId: `260101_${Buffer.from('sandbox-kingdee-app-0001', 'ascii').toString('base64')}`,
  appSecret: 'c0ffee00sandbox00secret00c0ffee0',
};

export const DEFAULT_SANDBOX_SWITCHES: KingdeeSandboxSwitches = {
  duplicateBillNo: 'reject',
  atomicity: 'keep_successes',
  numbering: 'supplied',
  numberPrefix: 'CGTL',
  numberDigits: 6,
  extraRequiredHeaderFields: [],
  extraRequiredEntryFields: [],
  loginSignAlgorithm: 'sha256',
  signatureMaxSkewSec: 600,
  queryMaxLimit: 2000,
  sessionIdleMs: 20 * 60 * 1000,
  serialisePerSession: true,
  loginBodies: 'any',
};

export const DEFAULT_SANDBOX_KNOBS: KingdeeSandboxKnobs = {
  latencyMs: 0,
  http5xxRate: 0,
  next5xx: 0,
  http5xxStatus: 500,
  throttleRate: 0,
  nextThrottles: 0,
  sessionDropRate: 0,
  nextSessionDrops: 0,
  lostResponseRate: 0,
  nextLostResponses: 0,
  lostResponseMode: 'destroy',
  faultsOnAuth: false,
  faultMethods: [...SANDBOX_WRITE_METHODS],
  http5xxAfterCommitRate: 0,
  next5xxAfterCommit: 0,
  http5xxAfterCommitStatus: 502,
  lateCommitRate: 0,
  nextLateCommits: 0,
  lateCommitHoldMs: 6000,
  lateCommitLocksSession: true,
  exceptionAfterSaveRate: 0,
  nextExceptionsAfterSave: 0,
  exceptionAfterSaveMode: 'committed',
  truncatedReplyRate: 0,
  nextTruncatedReplies: 0,
  omitDIndexRate: 0,
  nextOmitDIndex: 0,
  shortEntitiesRate: 0,
  nextShortEntities: 0,
  submitAuditFailureRate: 0,
  nextSubmitAuditFailures: 0,
  sessionCallLimit: 0,
};

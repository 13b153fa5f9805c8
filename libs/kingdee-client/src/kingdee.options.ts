import type { AppLogger, Clock } from '@libs/common';
import type { KingdeeErrorKind } from './kingdee.errors';
import type { KingdeeHttpTransport } from './kingdee-http.transport';

/**
 * How the client authenticates:
 * - `validate_user`: AuthService.ValidateUser [acctId, username, password, lcid];
 * - `app_secret`: AuthService.LoginByAppSecret [acctId, username, appId, appSecret, lcid];
 * - `sign`: AuthService.LoginBySign [acctId, username, appId, timestamp, sign, lcid];
 * - `api_signature`: no login call, every request carries the SDK's "auth version 2.0" headers.
 */
export type KingdeeAuthMode = 'validate_user' | 'app_secret' | 'sign' | 'api_signature';

/**
 * Request body shape:
 * - `named`: `{"formid":"PUR_MRB","data":{…}}` (Python SDK);
 * - `positional`: `{"parameters":["PUR_MRB","<data JSON>"]}` (Java SDK);
 * - `legacy`: `{"format":1,"useragent":"ApiClient","rid":…,"parameters":"[…]","timestamp":…,"v":"1.0"}`.
 */
export type KingdeeDialect = 'named' | 'positional' | 'legacy';

/**
 * Body form of the login calls (ValidateUser, LoginByAppSecret, LoginBySign), independent of the
 * business-call {@link KingdeeDialect}:
 * - `positional`: `{"parameters":[acctId, username, password, lcid]}`, as the official SDKs send it;
 * - `named`: `{"acctID":…,"username":…,"password":…,"lcid":…}`.
 */
export type KingdeeLoginBody = 'positional' | 'named';

/** Everything the client needs; plain values (the caller reads env/config and validates it). */
export interface KingdeeClientOptions {
  /** e.g. `https://host/k3cloud/` (a trailing slash is added when missing). */
  serverUrl: string;
  /** Data centre id (账套 id). */
  acctId: string;
  username: string;
  /** Needed for `validate_user`. */
  password?: string;
  /** Needed for `app_secret`, `sign`, `api_signature` (for the latter: `clientId_secPart`). */
  appId?: string;
  appSecret?: string;
  /** Language id, 2052 = zh-CN (default). */
  lcid?: number;
  /** Organisation number sent in `X-Kd-Appdata` (api_signature mode); default "0". */
  orgNumber?: string;
  authMode: KingdeeAuthMode;
  /** Number of sessions in a {@link KingdeeSessionPool} (default 1). */
  sessions?: number;
  /** Per-request timeout in ms (default 120000, as the SDKs). */
  timeoutMs?: number;
  /** Body dialect of business calls (default `named`); logins follow `loginBody`. */
  dialect?: KingdeeDialect;
  /**
   * Body form of the login call (default `positional`, as the official SDKs send it). Set `named` only
   * for a server that binds the named form; a login reply without `LoginResultType` fails with
   * `KD_LOGIN_REPLY_UNRECOGNISED` naming the form sent.
   */
  loginBody?: KingdeeLoginBody;
  /** Hash for LoginBySign; older patches used SHA-1 (default `sha256`). */
  signAlgorithm?: 'sha256' | 'sha1';
  /** Also send the session id as a `kdservice-sessionid` header, as the Python SDK does (default true). */
  sendSessionHeader?: boolean;
  /** Override how a MsgCode is classified (e.g. `{4: 'permanent'}`). */
  msgCodeKinds?: Partial<Record<number, KingdeeErrorKind>>;
}

/** Collaborators, replaceable in tests. */
export interface KingdeeClientDeps {
  transport?: KingdeeHttpTransport;
  clock?: Clock;
  logger?: AppLogger;
  /** Source of request ids for the legacy dialect (default random). */
  randomId?: () => string;
  /** The connection's name: labels the call metrics (`kingdee_api_request_duration_seconds{connection}`). */
  connection?: string;
}

export const KINGDEE_DEFAULTS = {
  lcid: 2052,
  orgNumber: '0',
  sessions: 1,
  timeoutMs: 120_000,
  dialect: 'named' as KingdeeDialect,
  loginBody: 'positional' as KingdeeLoginBody,
  signAlgorithm: 'sha256' as const,
} as const;

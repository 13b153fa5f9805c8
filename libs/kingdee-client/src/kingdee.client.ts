import { randomUUID } from 'node:crypto';
import { type AppLogger, type Clock, silentLogger, systemClock } from '@libs/common';
import { observeKingdeeRequest } from '@libs/metrics';
import {
  KINGDEE_ASPNET_SESSION_COOKIE,
  KINGDEE_LOGIN_SUCCESS,
  KINGDEE_LOST_SESSION_MESSAGE,
  KINGDEE_SERVICES,
  KINGDEE_SESSION_COOKIE,
  KINGDEE_WRITE_SERVICES,
  KingdeeMsgCode,
} from './kingdee.constants';
import {
  CALL_LEVEL_MSG_CODES,
  KingdeeError,
  type KingdeeErrorKind,
  WRITE_AMBIGUOUS_MSG_CODES,
  classifyMsgCode,
  isKingdeeError,
  msgCodeErrorCode,
} from './kingdee.errors';
import {
  type KingdeeAuthMode,
  type KingdeeClientDeps,
  type KingdeeClientOptions,
  type KingdeeDialect,
  type KingdeeLoginBody,
  KINGDEE_DEFAULTS,
} from './kingdee.options';
import type {
  KingdeeBillQuery,
  KingdeeOperationResult,
  KingdeeQueryRow,
  KingdeeResponseStatus,
  KingdeeSaveResult,
  KingdeeViewResult,
} from './kingdee.types';
import { buildRequestBody, type KingdeeParam } from './kingdee-body.util';
import {
  FetchKingdeeHttpTransport,
  type KingdeeHttpResponse,
  type KingdeeHttpTransport,
  KingdeeTransportError,
} from './kingdee-http.transport';
import {
  buildModelOutcomes,
  extractResponseStatus,
  normaliseFieldKeys,
  parseLoginReply,
  parseQueryReply,
  parseSetCookies,
  rowsToObjects,
} from './kingdee-response.util';
import { KingdeeSecrets } from './kingdee-secrets.util';
import {
  buildApiSignatureHeaders,
  computeLoginSign,
  deriveClientSecret,
  signaturePathOf,
  splitAppId,
} from './kingdee-sign.util';

/** Request-level options of Save/BatchSave (omitted ones take the server's defaults). */
export interface KingdeeSaveOptions {
  isAutoSubmitAndAudit?: boolean;
  isVerifyBaseDataField?: boolean;
  subSystemId?: string;
  needUpDateFields?: string[];
  needReturnFields?: string[];
  isDeleteEntry?: boolean;
  isEntryBatchFill?: boolean;
  validateFlag?: boolean;
  numberSearch?: boolean;
  isAutoAdjustField?: boolean;
  interationFlags?: string;
  ignoreInterationFlag?: boolean;
  isControlPrecision?: boolean;
  validateRepeatJson?: boolean;
  /** Server-side threads; only used when there are more models than it. */
  batchCount?: number;
  /** Send booleans as "true"/"false" as the official templates do (default false). */
  booleansAsStrings?: boolean;
  /** Further `data` keys, sent as given. */
  extra?: Record<string, unknown>;
  signal?: AbortSignal;
}

/** Which bills a Submit/Audit targets. */
export interface KingdeeBillTarget {
  numbers?: string[];
  ids?: Array<string | number>;
  createOrgId?: number;
  /** Further `data` keys (SelectedPostId, NetworkCtrl, InterationFlags, IsVerifyProcInst, ...). */
  extra?: Record<string, unknown>;
  signal?: AbortSignal;
}

export interface KingdeeViewTarget {
  number?: string;
  id?: string | number;
  createOrgId?: number;
  signal?: AbortSignal;
}

/** The calls the loader needs; implemented by {@link KingdeeClient} and {@link KingdeeSessionPool}. */
export interface KingdeeApi {
  batchSave(
    formId: string,
    models: Record<string, unknown>[],
    options?: KingdeeSaveOptions,
  ): Promise<KingdeeSaveResult>;
  save(
    formId: string,
    model: Record<string, unknown>,
    options?: KingdeeSaveOptions,
  ): Promise<KingdeeSaveResult>;
  submit(formId: string, target: KingdeeBillTarget): Promise<KingdeeOperationResult>;
  audit(formId: string, target: KingdeeBillTarget): Promise<KingdeeOperationResult>;
  view(formId: string, target: KingdeeViewTarget): Promise<KingdeeViewResult>;
  executeBillQuery(query: KingdeeBillQuery, signal?: AbortSignal): Promise<unknown[][]>;
  executeBillQueryObjects(query: KingdeeBillQuery, signal?: AbortSignal): Promise<KingdeeQueryRow[]>;
}

interface ResolvedConfig {
  serverUrl: string;
  acctId: string;
  username: string;
  appId: string;
  lcid: number;
  orgNumber: string;
  authMode: KingdeeAuthMode;
  timeoutMs: number;
  dialect: KingdeeDialect;
  loginBody: KingdeeLoginBody;
  signAlgorithm: 'sha256' | 'sha1';
  sendSessionHeader: boolean;
  msgCodeKinds: Partial<Record<number, KingdeeErrorKind>> | undefined;
}

const AUTH_MODES: readonly KingdeeAuthMode[] = ['validate_user', 'app_secret', 'sign', 'api_signature'];
const DIALECTS: readonly KingdeeDialect[] = ['named', 'positional', 'legacy'];
const LOGIN_BODIES: readonly KingdeeLoginBody[] = ['positional', 'named'];

/** Longest server text quoted in an unrecognised-login error. */
const MAX_QUOTED_SERVER_TEXT = 300;

function clip(text: string): string {
  return text.length > MAX_QUOTED_SERVER_TEXT ? `${text.slice(0, MAX_QUOTED_SERVER_TEXT)}…` : text;
}

function configError(message: string): KingdeeError {
  return new KingdeeError({
    kind: 'permanent',
    code: 'KD_CONFIG',
    message: `kingdee client config: ${message}`,
  });
}

function shortService(service: string): string {
  const parts = service.split('.');
  return parts.slice(-2).join('.');
}

/** Validates options and keeps only the non-secret ones in plain sight. */
function resolveConfig(options: KingdeeClientOptions): ResolvedConfig {
  if (!options || typeof options !== 'object') throw configError('options missing');
  let url: URL;
  try {
    url = new URL(options.serverUrl);
  } catch {
    throw configError('serverUrl is not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw configError('serverUrl must be http(s)');
  if (!AUTH_MODES.includes(options.authMode))
    throw configError(`authMode must be one of ${AUTH_MODES.join(', ')}`);
  const dialect = options.dialect ?? KINGDEE_DEFAULTS.dialect;
  if (!DIALECTS.includes(dialect)) throw configError(`dialect must be one of ${DIALECTS.join(', ')}`);
  const loginBody = options.loginBody ?? KINGDEE_DEFAULTS.loginBody;
  if (!LOGIN_BODIES.includes(loginBody)) {
    throw configError(`loginBody must be one of ${LOGIN_BODIES.join(', ')}`);
  }
  if (!options.acctId) throw configError('acctId is required');
  if (!options.username) throw configError('username is required');
  if (options.authMode === 'validate_user' && !options.password) {
    throw configError('password is required for validate_user');
  }
  if (options.authMode !== 'validate_user') {
    if (!options.appId) throw configError(`appId is required for ${options.authMode}`);
    if (!options.appSecret) throw configError(`appSecret is required for ${options.authMode}`);
  }
  if (options.authMode === 'api_signature') {
    const split = splitAppId(options.appId ?? '');
    if (!split || deriveClientSecret(split.secPart) === '') {
      throw configError('appId must be clientId_secPart with a 32-character secPart for api_signature');
    }
  }
  const timeoutMs = options.timeoutMs ?? KINGDEE_DEFAULTS.timeoutMs;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw configError('timeoutMs must be > 0');
  const base = options.serverUrl.endsWith('/') ? options.serverUrl : `${options.serverUrl}/`;
  return {
    serverUrl: base,
    acctId: options.acctId,
    username: options.username,
    appId: options.appId ?? '',
    lcid: options.lcid ?? KINGDEE_DEFAULTS.lcid,
    orgNumber: options.orgNumber ?? KINGDEE_DEFAULTS.orgNumber,
    authMode: options.authMode,
    timeoutMs,
    dialect,
    loginBody,
    signAlgorithm: options.signAlgorithm ?? KINGDEE_DEFAULTS.signAlgorithm,
    sendSessionHeader: options.sendSessionHeader ?? true,
    msgCodeKinds: options.msgCodeKinds,
  };
}

interface SessionState {
  cookies: Map<string, string>;
  generation: number;
}

/**
 * One Kingdee session. Logs in lazily, reuses the session cookie, re-authenticates once on a lost
 * session (MsgCode 1) and classifies every failure as a {@link KingdeeError}. Secrets and session ids
 * live in private fields and are scrubbed from every error message.
 */
export class KingdeeClient implements KingdeeApi {
  private readonly config: ResolvedConfig;
  private readonly transport: KingdeeHttpTransport;
  private readonly clock: Clock;
  private readonly logger: AppLogger;
  private readonly connection?: string;
  private readonly randomId: () => string;
  #password: string;
  #appSecret: string;
  #secrets: KingdeeSecrets;
  #session: SessionState | null = null;
  #generation = 0;
  #login: Promise<void> | null = null;

  constructor(options: KingdeeClientOptions, deps: KingdeeClientDeps = {}) {
    this.config = resolveConfig(options);
    this.#password = options.password ?? '';
    this.#appSecret = options.appSecret ?? '';
    const split = splitAppId(this.config.appId);
    this.#secrets = new KingdeeSecrets([
      this.#password,
      this.#appSecret,
      split ? deriveClientSecret(split.secPart) : undefined,
    ]);
    this.transport = deps.transport ?? new FetchKingdeeHttpTransport();
    this.clock = deps.clock ?? systemClock;
    this.logger = deps.logger ?? silentLogger;
    this.connection = deps.connection;
    this.randomId = deps.randomId ?? (() => randomUUID());
  }

  get authMode(): KingdeeAuthMode {
    return this.config.authMode;
  }

  /** True when the client holds a session (cookie) from a login or a signed call. */
  get hasSession(): boolean {
    return this.#session !== null && this.#session.cookies.has(KINGDEE_SESSION_COOKIE);
  }

  /** Logs in unless a session is held (no-op for api_signature, whose every call is signed). */
  async ensureSession(): Promise<void> {
    if (this.config.authMode === 'api_signature' || this.#session) return;
    if (!this.#login) {
      this.#login = this.login().finally(() => {
        this.#login = null;
      });
    }
    await this.#login;
  }

  /** Forgets the session; the next call logs in again. */
  invalidateSession(): void {
    if (this.#session) {
      for (const value of this.#session.cookies.values()) this.#secrets.delete(value);
    }
    this.#session = null;
  }

  toJSON(): Record<string, unknown> {
    return { kind: 'KingdeeClient', serverUrl: this.config.serverUrl, authMode: this.config.authMode };
  }

  /** util.inspect / console.log show the same safe summary. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `KingdeeClient ${JSON.stringify(this.toJSON())}`;
  }

  // ---- business calls --------------------------------------------------------------------------

  async batchSave(
    formId: string,
    models: Record<string, unknown>[],
    options: KingdeeSaveOptions = {},
  ): Promise<KingdeeSaveResult> {
    if (!Array.isArray(models) || models.length === 0) {
      throw new KingdeeError({
        kind: 'permanent',
        code: 'KD_EMPTY_BATCH',
        message: 'batchSave needs at least one model',
      });
    }
    const data = { ...this.saveData(options), Model: models };
    return this.saveCall(KINGDEE_SERVICES.batchSave, formId, data, models.length, options.signal);
  }

  async save(
    formId: string,
    model: Record<string, unknown>,
    options: KingdeeSaveOptions = {},
  ): Promise<KingdeeSaveResult> {
    const data = { ...this.saveData(options), Model: model };
    return this.saveCall(KINGDEE_SERVICES.save, formId, data, 1, options.signal);
  }

  async submit(formId: string, target: KingdeeBillTarget): Promise<KingdeeOperationResult> {
    return this.operationCall(KINGDEE_SERVICES.submit, formId, this.targetData(target), target.signal);
  }

  async audit(formId: string, target: KingdeeBillTarget): Promise<KingdeeOperationResult> {
    return this.operationCall(KINGDEE_SERVICES.audit, formId, this.targetData(target), target.signal);
  }

  /** Deletes bills that are not submitted or audited (Kingdee refuses the others). */
  async delete(formId: string, target: KingdeeBillTarget): Promise<KingdeeOperationResult> {
    return this.operationCall(KINGDEE_SERVICES.delete, formId, this.targetData(target), target.signal);
  }

  async view(formId: string, target: KingdeeViewTarget): Promise<KingdeeViewResult> {
    if (target.number === undefined && target.id === undefined) {
      throw new KingdeeError({
        kind: 'permanent',
        code: 'KD_BAD_ARGUMENT',
        message: 'view needs a number or an id',
      });
    }
    const data: Record<string, unknown> = { CreateOrgId: target.createOrgId ?? 0 };
    if (target.number !== undefined) data.Number = target.number;
    if (target.id !== undefined) data.Id = String(target.id);
    const service = KINGDEE_SERVICES.view;
    const json = await this.invoke(service, this.formParams(formId, data), target.signal);
    const extracted = this.requireStatus(service, json);
    this.throwIfCallLevel(service, extracted.status);
    const inner = extracted.result.Result;
    const bill =
      extracted.status.isSuccess && inner && typeof inner === 'object' && !Array.isArray(inner)
        ? (inner as Record<string, unknown>)
        : null;
    return { status: extracted.status, bill };
  }

  async executeBillQuery(query: KingdeeBillQuery, signal?: AbortSignal): Promise<unknown[][]> {
    const service = KINGDEE_SERVICES.executeBillQuery;
    const data: Record<string, unknown> = {
      FormId: query.FormId,
      FieldKeys: normaliseFieldKeys(query.FieldKeys).join(','),
      FilterString: query.FilterString ?? '',
      OrderString: query.OrderString ?? '',
      TopRowCount: query.TopRowCount ?? 0,
      StartRow: query.StartRow ?? 0,
      Limit: query.Limit ?? 0,
    };
    if (query.SubSystemId !== undefined) data.SubSystemId = query.SubSystemId;
    const json = await this.invoke(service, [{ name: 'data', value: data, json: true }], signal);
    const parsed = parseQueryReply(json);
    if (parsed.ok) return parsed.rows;
    if (parsed.status === null) throw this.badResponse(service, false);
    throw this.statusError(service, parsed.status);
  }

  async executeBillQueryObjects(query: KingdeeBillQuery, signal?: AbortSignal): Promise<KingdeeQueryRow[]> {
    const keys = normaliseFieldKeys(query.FieldKeys);
    const rows = await this.executeBillQuery({ ...query, FieldKeys: keys }, signal);
    return rowsToObjects(keys, rows);
  }

  // ---- request building --------------------------------------------------------------------------

  private saveData(options: KingdeeSaveOptions): Record<string, unknown> {
    const b = (v: boolean): boolean | string => (options.booleansAsStrings ? String(v) : v);
    const data: Record<string, unknown> = {};
    const put = (key: string, v: unknown): void => {
      if (v !== undefined) data[key] = typeof v === 'boolean' ? b(v) : v;
    };
    put('NeedUpDateFields', options.needUpDateFields);
    put('NeedReturnFields', options.needReturnFields);
    put('IsDeleteEntry', options.isDeleteEntry);
    put('SubSystemId', options.subSystemId);
    put('IsVerifyBaseDataField', options.isVerifyBaseDataField);
    put('IsEntryBatchFill', options.isEntryBatchFill);
    put('ValidateFlag', options.validateFlag);
    put('NumberSearch', options.numberSearch);
    put('IsAutoAdjustField', options.isAutoAdjustField);
    put('InterationFlags', options.interationFlags);
    put('IgnoreInterationFlag', options.ignoreInterationFlag);
    put('IsControlPrecision', options.isControlPrecision);
    put('ValidateRepeatJson', options.validateRepeatJson);
    put('IsAutoSubmitAndAudit', options.isAutoSubmitAndAudit);
    put('BatchCount', options.batchCount);
    return { ...data, ...(options.extra ?? {}) };
  }

  private targetData(target: KingdeeBillTarget): Record<string, unknown> {
    const numbers = target.numbers ?? [];
    const ids = target.ids ?? [];
    if (numbers.length === 0 && ids.length === 0) {
      throw new KingdeeError({
        kind: 'permanent',
        code: 'KD_BAD_ARGUMENT',
        message: 'numbers or ids required',
      });
    }
    return {
      CreateOrgId: target.createOrgId ?? 0,
      Numbers: numbers,
      Ids: ids.map(String).join(','),
      ...(target.extra ?? {}),
    };
  }

  private formParams(formId: string, data: Record<string, unknown>): KingdeeParam[] {
    return [
      { name: 'formid', value: formId },
      { name: 'data', value: data, json: true },
    ];
  }

  // ---- result handling --------------------------------------------------------------------------

  private async saveCall(
    service: string,
    formId: string,
    data: Record<string, unknown>,
    modelCount: number,
    signal?: AbortSignal,
  ): Promise<KingdeeSaveResult> {
    const json = await this.invoke(service, this.formParams(formId, data), signal);
    const extracted = this.requireStatus(service, json);
    this.throwIfCallLevel(service, extracted.status);
    const needReturnData = Array.isArray(extracted.result.NeedReturnData)
      ? extracted.result.NeedReturnData
      : [];
    const status = this.redactStatus(extracted.status);
    return { status, needReturnData, outcomes: buildModelOutcomes(status, modelCount) };
  }

  private async operationCall(
    service: string,
    formId: string,
    data: Record<string, unknown>,
    signal?: AbortSignal,
  ): Promise<KingdeeOperationResult> {
    const json = await this.invoke(service, this.formParams(formId, data), signal);
    const extracted = this.requireStatus(service, json);
    this.throwIfCallLevel(service, extracted.status);
    const needReturnData = Array.isArray(extracted.result.NeedReturnData)
      ? extracted.result.NeedReturnData
      : [];
    return { status: this.redactStatus(extracted.status), needReturnData };
  }

  private requireStatus(
    service: string,
    json: unknown,
  ): NonNullable<ReturnType<typeof extractResponseStatus>> {
    const extracted = extractResponseStatus(json);
    if (!extracted) throw this.badResponse(service, KINGDEE_WRITE_SERVICES.has(service));
    return extracted;
  }

  /** Whole-call failures (throttling, DB failure, permission, ...) throw when nothing was saved. */
  private throwIfCallLevel(service: string, status: KingdeeResponseStatus): void {
    if (status.isSuccess || status.successEntities.length > 0) return;
    if (CALL_LEVEL_MSG_CODES.has(status.msgCode)) throw this.statusError(service, status);
  }

  private redactStatus(status: KingdeeResponseStatus): KingdeeResponseStatus {
    return {
      ...status,
      errors: status.errors.map((e) => ({ ...e, message: this.#secrets.redact(e.message) })),
      successMessages: status.successMessages.map((m) => ({
        ...m,
        message: this.#secrets.redact(m.message),
      })),
    };
  }

  /**
   * The error for a failed ResponseStatus. On a write without SuccessEntitys, MsgCode 4/6/13 are
   * `ambiguous` (the save may have committed before the failure); otherwise the MsgCode's kind.
   */
  private statusError(service: string, status: KingdeeResponseStatus): KingdeeError {
    const redacted = this.redactStatus(status);
    const first = redacted.errors[0]?.message || 'request failed';
    const write = KINGDEE_WRITE_SERVICES.has(service) && status.successEntities.length === 0;
    const kind = classifyMsgCode(status.msgCode, this.config.msgCodeKinds, write);
    const unknown = kind === 'ambiguous' ? '; the write may have been applied' : '';
    return new KingdeeError({
      kind,
      code: msgCodeErrorCode(status.msgCode),
      message: `${shortService(service)} failed (MsgCode ${status.msgCode})${unknown}: ${first}`,
      service,
      msgCode: status.msgCode,
      errors: redacted.errors,
      requestSent: true,
    });
  }

  private badResponse(service: string, write: boolean, httpStatus?: number): KingdeeError {
    return new KingdeeError({
      kind: write ? 'ambiguous' : 'transient',
      code: 'KD_BAD_RESPONSE',
      message:
        `${shortService(service)}: unreadable reply${httpStatus ? ` (HTTP ${httpStatus})` : ''}` +
        (write ? '; the write may have been applied' : ''),
      service,
      httpStatus,
      requestSent: true,
    });
  }

  // ---- transport + session ---------------------------------------------------------------------

  /** Sends a business call; on a lost session logs in again once and retries, then fails as `auth`. */
  private async invoke(service: string, params: KingdeeParam[], signal?: AbortSignal): Promise<unknown> {
    for (let attempt = 0; ; attempt += 1) {
      await this.ensureSession();
      const generation = this.#session?.generation ?? -1;
      const write = KINGDEE_WRITE_SERVICES.has(service);
      const json = await this.post(service, params, write, signal);
      if (!this.isLostSession(json, write)) return json;
      if (attempt >= 1) {
        const serverMessage = this.#secrets.redact(
          extractResponseStatus(json)?.status.errors[0]?.message ?? '',
        );
        throw new KingdeeError({
          kind: 'auth',
          code: 'KD_SESSION_LOST',
          message: `${shortService(service)}: session rejected again after re-authentication: ${serverMessage}`,
          service,
          msgCode: KingdeeMsgCode.contextLost,
          requestSent: true,
        });
      }
      this.logger.warn({ service: shortService(service) }, 'kingdee session lost; re-authenticating');
      if ((this.#session?.generation ?? -1) === generation) this.invalidateSession();
    }
  }

  private isLostSession(json: unknown, write: boolean): boolean {
    const extracted = extractResponseStatus(json);
    if (!extracted || extracted.status.isSuccess) return false;
    if (extracted.status.msgCode === KingdeeMsgCode.contextLost) return true;
    // A write answered with MsgCode 4/6/13 may have been applied: never resend it on its text alone.
    if (write && WRITE_AMBIGUOUS_MSG_CODES.has(extracted.status.msgCode)) return false;
    return extracted.status.errors.some((e) => e.message.includes(KINGDEE_LOST_SESSION_MESSAGE.slice(0, 6)));
  }

  /**
   * One login, timed as a whole: a login Kingdee refuses (LoginResultType ≠ 1, or not a login reply)
   * counts with its error kind (`auth`), not as `ok` because its HTTP exchange succeeded.
   */
  private login(): Promise<void> {
    const service =
      this.config.authMode === 'validate_user'
        ? KINGDEE_SERVICES.validateUser
        : this.config.authMode === 'app_secret'
          ? KINGDEE_SERVICES.loginByAppSecret
          : KINGDEE_SERVICES.loginBySign;
    return observeKingdeeRequest(shortService(service), () => this.loginExchange(), this.connection);
  }

  private async loginExchange(): Promise<void> {
    const { acctId, username, appId, lcid, authMode } = this.config;
    let service: string;
    let params: KingdeeParam[];
    if (authMode === 'validate_user') {
      service = KINGDEE_SERVICES.validateUser;
      params = [
        { name: 'acctID', value: acctId },
        { name: 'username', value: username },
        { name: 'password', value: this.#password },
        { name: 'lcid', value: lcid },
      ];
    } else if (authMode === 'app_secret') {
      service = KINGDEE_SERVICES.loginByAppSecret;
      params = [
        { name: 'acctID', value: acctId },
        { name: 'username', value: username },
        { name: 'appId', value: appId },
        { name: 'appSecret', value: this.#appSecret },
        { name: 'lcid', value: lcid },
      ];
    } else {
      const timestamp = Math.floor(this.clock.now() / 1000);
      const sign = computeLoginSign(
        { acctId, username, appId, appSecret: this.#appSecret, timestamp },
        this.config.signAlgorithm,
      );
      service = KINGDEE_SERVICES.loginBySign;
      params = [
        { name: 'acctID', value: acctId },
        { name: 'username', value: username },
        { name: 'appId', value: appId },
        { name: 'timestamp', value: timestamp },
        { name: 'sign', value: sign },
        { name: 'lcid', value: lcid },
      ];
    }
    this.#session = null;
    const form = this.config.loginBody;
    let exchanged: { response: KingdeeHttpResponse; json: unknown };
    try {
      exchanged = await this.exchange(service, params, false, undefined, new Map(), form);
    } catch (err) {
      if (isKingdeeError(err) && err.code === 'KD_BAD_RESPONSE') {
        throw this.unrecognisedLogin(service, `no LoginResultType; HTTP ${err.httpStatus ?? '?'}, not JSON`);
      }
      throw err;
    }
    const { response, json } = exchanged;
    const reply = parseLoginReply(json);
    if (reply.loginResultType === KINGDEE_LOGIN_SUCCESS) {
      const cookies = parseSetCookies(response.setCookies);
      const jar = new Map<string, string>();
      const sid = cookies.get(KINGDEE_SESSION_COOKIE) ?? reply.sessionId ?? '';
      if (sid) jar.set(KINGDEE_SESSION_COOKIE, sid);
      const asp = cookies.get(KINGDEE_ASPNET_SESSION_COOKIE);
      if (asp) jar.set(KINGDEE_ASPNET_SESSION_COOKIE, asp);
      for (const v of jar.values()) this.#secrets.add(v);
      this.#generation += 1;
      this.#session = { cookies: jar, generation: this.#generation };
      this.logger.info({ authMode, loginBody: form, sessionCookie: sid !== '' }, 'kingdee login ok');
      return;
    }
    if (reply.loginResultType !== null) {
      const serverMessage = this.#secrets.redact(reply.message ?? 'login rejected');
      throw new KingdeeError({
        kind: 'auth',
        code: 'KD_LOGIN_FAILED',
        message: `${shortService(service)} failed (LoginResultType ${reply.loginResultType}): ${serverMessage}`,
        service,
        requestSent: true,
      });
    }
    // Not a login reply. Throttling (MsgCode 14) stays retryable; anything else may be a server that did
    // not bind the body form sent, so the error names the form and the setting to change.
    const extracted = extractResponseStatus(json);
    if (extracted && !extracted.status.isSuccess && extracted.status.msgCode === KingdeeMsgCode.throttled) {
      const base = this.statusError(service, extracted.status);
      throw new KingdeeError({
        kind: 'transient',
        code: base.code,
        message: base.message,
        service,
        msgCode: base.msgCode,
        errors: base.errors,
        requestSent: true,
      });
    }
    let detail = 'no LoginResultType';
    if (extracted) {
      const first = this.#secrets.redact(extracted.status.errors[0]?.message ?? '');
      detail += `; MsgCode ${extracted.status.msgCode}${first ? `: ${clip(first)}` : ''}`;
    } else if (reply.message) {
      detail += `; Message: ${clip(this.#secrets.redact(reply.message))}`;
    }
    throw this.unrecognisedLogin(service, detail, extracted?.status.msgCode);
  }

  /** A login reply without LoginResultType: names the body form sent and the setting to change. */
  private unrecognisedLogin(service: string, detail: string, msgCode?: number): KingdeeError {
    const sent = this.config.loginBody;
    const other: KingdeeLoginBody = sent === 'positional' ? 'named' : 'positional';
    return new KingdeeError({
      kind: 'auth',
      code: 'KD_LOGIN_REPLY_UNRECOGNISED',
      message:
        `${shortService(service)}: the reply is not a Kingdee login reply (${detail}); ` +
        `the login was sent in the ${sent} body form: if this server binds the ${other} form, ` +
        `set loginBody "${other}" (KINGDEE_LOGIN_BODY=${other})`,
      service,
      msgCode,
      requestSent: true,
    });
  }

  /** A business call with the current session (and signature headers in api_signature mode). */
  private async post(
    service: string,
    params: KingdeeParam[],
    write: boolean,
    signal?: AbortSignal,
  ): Promise<unknown> {
    const { json } = await this.send(service, params, write, signal, this.#session?.cookies ?? new Map());
    return json;
  }

  /**
   * Every HTTP exchange with Kingdee (login included), timed by service and outcome. `bodyForm` is the
   * business `dialect` unless given (logins pass `loginBody`).
   */
  private send(
    service: string,
    params: KingdeeParam[],
    write: boolean,
    signal: AbortSignal | undefined,
    cookies: Map<string, string>,
    bodyForm: KingdeeDialect = this.config.dialect,
  ): Promise<{ response: KingdeeHttpResponse; json: unknown }> {
    return observeKingdeeRequest(
      shortService(service),
      () => this.exchange(service, params, write, signal, cookies, bodyForm),
      this.connection,
    );
  }

  private async exchange(
    service: string,
    params: KingdeeParam[],
    write: boolean,
    signal: AbortSignal | undefined,
    cookies: Map<string, string>,
    bodyForm: KingdeeDialect,
  ): Promise<{ response: KingdeeHttpResponse; json: unknown }> {
    const url = `${this.config.serverUrl}${service}.common.kdsvc`;
    const headers: Record<string, string> = {
      'Content-Type': 'application/json; charset=utf-8',
      'Accept-Charset': 'utf-8',
      'User-Agent': 'wdt-kingdee-sync kingdee-client',
    };
    if (cookies.size > 0) {
      headers.Cookie = [...cookies.entries()].map(([k, v]) => `${k}=${v}`).join('; ');
      const sid = cookies.get(KINGDEE_SESSION_COOKIE);
      if (sid && this.config.sendSessionHeader) headers[KINGDEE_SESSION_COOKIE] = sid;
    }
    if (this.config.authMode === 'api_signature') {
      const timestamp = String(Math.floor(this.clock.now() / 1000));
      Object.assign(
        headers,
        buildApiSignatureHeaders({
          path: signaturePathOf(url),
          appId: this.config.appId,
          appSecret: this.#appSecret,
          acctId: this.config.acctId,
          username: this.config.username,
          lcid: this.config.lcid,
          orgNumber: this.config.orgNumber,
          timestamp,
          nonce: timestamp,
        }),
      );
    }
    const body = buildRequestBody(bodyForm, params, {
      rid: this.randomId(),
      timestamp: new Date(this.clock.now()).toISOString(),
    });
    const started = this.clock.now();
    let response: KingdeeHttpResponse;
    try {
      response = await this.transport.post({ url, headers, body, timeoutMs: this.config.timeoutMs, signal });
    } catch (err) {
      throw this.transportError(service, write, err);
    }
    this.logger.debug(
      { service: shortService(service), httpStatus: response.status, ms: this.clock.now() - started },
      'kingdee call',
    );
    this.absorbCookies(response);
    if (response.status >= 500) {
      // A proxy's 5xx (HTML or not) can come after the write committed: a write's outcome is unknown.
      throw new KingdeeError({
        kind: write ? 'ambiguous' : 'transient',
        code: 'KD_HTTP_5XX',
        message: write
          ? `${shortService(service)}: HTTP ${response.status} after the request was sent; the write may have been applied`
          : `${shortService(service)}: HTTP ${response.status}`,
        service,
        httpStatus: response.status,
        requestSent: true,
      });
    }
    if (response.status !== 200 && response.status !== 206) {
      const kind: KingdeeErrorKind =
        response.status === 401 || response.status === 403
          ? 'auth'
          : response.status === 408 || response.status === 429
            ? 'transient'
            : 'permanent';
      throw new KingdeeError({
        kind,
        code: 'KD_HTTP_STATUS',
        message: `${shortService(service)}: HTTP ${response.status}`,
        service,
        httpStatus: response.status,
        requestSent: true,
      });
    }
    try {
      return { response, json: JSON.parse(response.body) as unknown };
    } catch {
      throw this.badResponse(service, write, response.status);
    }
  }

  /** Keeps session cookies the server (re)issues on any reply (api_signature gets its session this way). */
  private absorbCookies(response: KingdeeHttpResponse): void {
    if (response.setCookies.length === 0) return;
    const cookies = parseSetCookies(response.setCookies);
    const sid = cookies.get(KINGDEE_SESSION_COOKIE);
    if (!sid) return;
    const jar = new Map(this.#session?.cookies ?? []);
    jar.set(KINGDEE_SESSION_COOKIE, sid);
    const asp = cookies.get(KINGDEE_ASPNET_SESSION_COOKIE);
    if (asp) jar.set(KINGDEE_ASPNET_SESSION_COOKIE, asp);
    for (const v of jar.values()) this.#secrets.add(v);
    if (!this.#session) {
      this.#generation += 1;
      this.#session = { cookies: jar, generation: this.#generation };
    } else {
      this.#session.cookies = jar;
    }
  }

  private transportError(service: string, write: boolean, err: unknown): KingdeeError {
    const t =
      err instanceof KingdeeTransportError ? err : new KingdeeTransportError('other', true, 'unknown');
    const name = shortService(service);
    if (t.failure === 'aborted') {
      return new KingdeeError({
        kind: write ? 'ambiguous' : 'transient',
        code: 'KD_ABORTED',
        message: `${name}: aborted by caller`,
        service,
        requestSent: true,
        causeCode: t.causeCode,
      });
    }
    if (write && t.requestSent) {
      return new KingdeeError({
        kind: 'ambiguous',
        code: 'KD_RESPONSE_LOST',
        message: `${name}: no reply after the request was sent (${t.failure}); the write may have been applied`,
        service,
        requestSent: true,
        causeCode: t.causeCode,
      });
    }
    return new KingdeeError({
      kind: 'transient',
      code: t.failure === 'timeout' ? 'KD_TIMEOUT' : 'KD_NETWORK',
      message: `${name}: ${t.failure} failure`,
      service,
      requestSent: t.requestSent,
      causeCode: t.causeCode,
    });
  }
}

import { randomUUID } from 'node:crypto';
import { type AppLogger, type Clock, silentLogger, systemClock } from '@libs/common';
import { observeKingdeeRequest } from '@libs/metrics';
import type { KingdeeApi, KingdeeBillTarget, KingdeeSaveOptions, KingdeeViewTarget } from './kingdee-api';
import {
  type ResolvedKingdeeConfig,
  clip,
  resolveKingdeeConfig,
  shortService,
} from './kingdee-client.config';
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
  WRITE_AMBIGUOUS_MSG_CODES,
  isKingdeeError,
} from './kingdee.errors';
import type {
  KingdeeAuthMode,
  KingdeeClientDeps,
  KingdeeClientOptions,
  KingdeeDialect,
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
import { KingdeeErrorClassifier } from './kingdee-error.classifier';
import {
  FetchKingdeeHttpTransport,
  type KingdeeHttpResponse,
  type KingdeeHttpTransport,
} from './kingdee-http.transport';
import {
  billQueryData,
  formParams,
  loginRequest,
  loginService,
  saveData,
  targetData,
  viewData,
} from './kingdee-request.builder';
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
  deriveClientSecret,
  signaturePathOf,
  splitAppId,
} from './kingdee-sign.util';

interface SessionState {
  cookies: Map<string, string>;
  generation: number;
}

/**
 * One Kingdee session. Logs in lazily, reuses the session cookie, re-authenticates once on a lost
 * session (MsgCode 1) and classifies every failure as a {@link KingdeeError} (the classifier's job;
 * settings are validated by `resolveKingdeeConfig`, request data built by `kingdee-request.builder`). Secrets and session ids
 * live in private fields and are scrubbed from every error message.
 */
export class KingdeeClient implements KingdeeApi {
  private readonly config: ResolvedKingdeeConfig;
  private readonly errors: KingdeeErrorClassifier;
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
    this.config = resolveKingdeeConfig(options);
    this.#password = options.password ?? '';
    this.#appSecret = options.appSecret ?? '';
    const split = splitAppId(this.config.appId);
    this.#secrets = new KingdeeSecrets([
      this.#password,
      this.#appSecret,
      split ? deriveClientSecret(split.secPart) : undefined,
    ]);
    this.errors = new KingdeeErrorClassifier(this.config, this.#secrets);
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
    const data = { ...saveData(options), Model: models };
    return this.saveCall(KINGDEE_SERVICES.batchSave, formId, data, models.length, options.signal);
  }

  async save(
    formId: string,
    model: Record<string, unknown>,
    options: KingdeeSaveOptions = {},
  ): Promise<KingdeeSaveResult> {
    const data = { ...saveData(options), Model: model };
    return this.saveCall(KINGDEE_SERVICES.save, formId, data, 1, options.signal);
  }

  async submit(formId: string, target: KingdeeBillTarget): Promise<KingdeeOperationResult> {
    return this.operationCall(KINGDEE_SERVICES.submit, formId, targetData(target), target.signal);
  }

  async audit(formId: string, target: KingdeeBillTarget): Promise<KingdeeOperationResult> {
    return this.operationCall(KINGDEE_SERVICES.audit, formId, targetData(target), target.signal);
  }

  /** Deletes bills that are not submitted or audited (Kingdee refuses the others). */
  async delete(formId: string, target: KingdeeBillTarget): Promise<KingdeeOperationResult> {
    return this.operationCall(KINGDEE_SERVICES.delete, formId, targetData(target), target.signal);
  }

  async view(formId: string, target: KingdeeViewTarget): Promise<KingdeeViewResult> {
    const data = viewData(target);
    const service = KINGDEE_SERVICES.view;
    const json = await this.invoke(service, formParams(formId, data), target.signal);
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
    const data = billQueryData(query);
    const json = await this.invoke(service, [{ name: 'data', value: data, json: true }], signal);
    const parsed = parseQueryReply(json);
    if (parsed.ok) return parsed.rows;
    if (parsed.status === null) throw this.errors.badResponse(service, false);
    throw this.errors.statusError(service, parsed.status);
  }

  async executeBillQueryObjects(query: KingdeeBillQuery, signal?: AbortSignal): Promise<KingdeeQueryRow[]> {
    const keys = normaliseFieldKeys(query.FieldKeys);
    const rows = await this.executeBillQuery({ ...query, FieldKeys: keys }, signal);
    return rowsToObjects(keys, rows);
  }

  // ---- result handling --------------------------------------------------------------------------

  private async saveCall(
    service: string,
    formId: string,
    data: Record<string, unknown>,
    modelCount: number,
    signal?: AbortSignal,
  ): Promise<KingdeeSaveResult> {
    const json = await this.invoke(service, formParams(formId, data), signal);
    const extracted = this.requireStatus(service, json);
    this.throwIfCallLevel(service, extracted.status);
    const needReturnData = Array.isArray(extracted.result.NeedReturnData)
      ? extracted.result.NeedReturnData
      : [];
    const status = this.errors.redactStatus(extracted.status);
    return { status, needReturnData, outcomes: buildModelOutcomes(status, modelCount) };
  }

  private async operationCall(
    service: string,
    formId: string,
    data: Record<string, unknown>,
    signal?: AbortSignal,
  ): Promise<KingdeeOperationResult> {
    const json = await this.invoke(service, formParams(formId, data), signal);
    const extracted = this.requireStatus(service, json);
    this.throwIfCallLevel(service, extracted.status);
    const needReturnData = Array.isArray(extracted.result.NeedReturnData)
      ? extracted.result.NeedReturnData
      : [];
    return { status: this.errors.redactStatus(extracted.status), needReturnData };
  }

  private requireStatus(
    service: string,
    json: unknown,
  ): NonNullable<ReturnType<typeof extractResponseStatus>> {
    const extracted = extractResponseStatus(json);
    if (!extracted) throw this.errors.badResponse(service, KINGDEE_WRITE_SERVICES.has(service));
    return extracted;
  }

  /** Whole-call failures (throttling, DB failure, permission, ...) throw when nothing was saved. */
  private throwIfCallLevel(service: string, status: KingdeeResponseStatus): void {
    if (status.isSuccess || status.successEntities.length > 0) return;
    if (CALL_LEVEL_MSG_CODES.has(status.msgCode)) throw this.errors.statusError(service, status);
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
    const service = loginService(this.config);
    return observeKingdeeRequest(shortService(service), () => this.loginExchange(), this.connection);
  }

  private async loginExchange(): Promise<void> {
    const { authMode } = this.config;
    const { service, params } = loginRequest(
      this.config,
      { password: this.#password, appSecret: this.#appSecret },
      this.clock.now(),
    );
    this.#session = null;
    const form = this.config.loginBody;
    let exchanged: { response: KingdeeHttpResponse; json: unknown };
    try {
      exchanged = await this.exchange(service, params, false, undefined, new Map(), form);
    } catch (err) {
      if (isKingdeeError(err) && err.code === 'KD_BAD_RESPONSE') {
        throw this.errors.unrecognisedLogin(
          service,
          `no LoginResultType; HTTP ${err.httpStatus ?? '?'}, not JSON`,
        );
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
      const base = this.errors.statusError(service, extracted.status);
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
    throw this.errors.unrecognisedLogin(service, detail, extracted?.status.msgCode);
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
      throw this.errors.transportError(service, write, err);
    }
    this.logger.debug(
      { service: shortService(service), httpStatus: response.status, ms: this.clock.now() - started },
      'kingdee call',
    );
    this.absorbCookies(response);
    const statusError = this.errors.httpStatusError(service, write, response.status);
    if (statusError) throw statusError;
    try {
      return { response, json: JSON.parse(response.body) as unknown };
    } catch {
      throw this.errors.badResponse(service, write, response.status);
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
}

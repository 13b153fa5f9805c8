import type { IncomingHttpHeaders } from 'node:http';
import type { Clock } from '@libs/common';
import {
  apiSignatureString,
  computeLoginSign,
  deriveClientSecret,
  encodeSignaturePath,
  hmacSha256HexBase64,
  safeEqual,
  splitAppId,
} from '@libs/kingdee-client';
import type { KingdeeSandboxCredentials } from './sandbox.options';
import type { ParsedEnvelope } from './sandbox-body.util';
import { param } from './sandbox-body.util';
import { parameterCountMismatchReply } from './sandbox-fault-replies.util';
import type { SandboxSettings } from './sandbox-faults.service';
import type { SandboxSession, SandboxSessions } from './sandbox-session.service';

export interface LoginOutcome {
  body: unknown;
  session?: SandboxSession;
  /** The body did not bind to the login method's parameters (switch `loginBodies: positional`). */
  unbound?: boolean;
}

export type SignatureCheck = { ok: true; username: string } | { ok: false; message: string };

const text = (v: unknown): string => (v === undefined || v === null ? '' : String(v));

function header(headers: IncomingHttpHeaders, name: string): string {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? (v[0] ?? '') : (v ?? '');
}

/** AuthService.* logins and verification of the SDK's per-request signature headers. */
export class SandboxAuth {
  constructor(
    private readonly credentials: KingdeeSandboxCredentials,
    private readonly sessions: SandboxSessions,
    private readonly settings: SandboxSettings,
    private readonly clock: Clock,
  ) {}

  login(method: string, envelope: ParsedEnvelope): LoginOutcome {
    // ASP.NET binds AuthService's parameters by position (the SDKs' form; the legacy wrapper is
    // positional too). Whether a named body binds is unconfirmed; `positional` assumes it does not.
    if (this.settings.switches.loginBodies === 'positional' && envelope.dialect === 'named')
      return { body: parameterCountMismatchReply(), unbound: true };
    const c = this.credentials;
    const acctId = text(param(envelope, 0, 'acctID', 'acctId'));
    const username = text(param(envelope, 1, 'username', 'userName', 'user'));
    if (acctId !== c.acctId) return { body: this.failure(-1, '数据中心不存在或已禁用') };
    if (username !== c.username) return { body: this.failure(0, '用户名或密码错误') };
    if (method === 'ValidateUser') {
      const password = text(param(envelope, 2, 'password'));
      if (!safeEqual(password, c.password)) return { body: this.failure(0, '用户名或密码错误') };
    } else if (method === 'LoginByAppSecret') {
      const appId = text(param(envelope, 2, 'appId', 'appid'));
      const appSecret = text(param(envelope, 3, 'appSecret', 'appsecret', 'appSec'));
      if (appId !== c.appId || !safeEqual(appSecret, c.appSecret)) {
        return { body: this.failure(-1, '第三方应用授权验证失败：应用ID或密钥不正确') };
      }
    } else if (method === 'LoginBySign') {
      const appId = text(param(envelope, 2, 'appId', 'appid'));
      const timestamp = text(param(envelope, 3, 'timestamp'));
      const sign = text(param(envelope, 4, 'sign')).toLowerCase();
      if (appId !== c.appId) return { body: this.failure(-1, '第三方应用授权验证失败：应用ID不正确') };
      if (!this.timestampFresh(timestamp)) return { body: this.failure(-1, '签名已过期，请检查时间戳') };
      const input = { acctId, username, appId, appSecret: c.appSecret, timestamp };
      const algo = this.settings.switches.loginSignAlgorithm;
      const ok =
        (algo !== 'sha1' && safeEqual(sign, computeLoginSign(input, 'sha256'))) ||
        (algo !== 'sha256' && safeEqual(sign, computeLoginSign(input, 'sha1')));
      if (!ok) return { body: this.failure(-1, '签名验证失败') };
    } else {
      return { body: this.failure(-1, `不支持的登录方式 ${method}`) };
    }
    const session = this.sessions.create(username);
    return { body: this.success(session, acctId, username), session };
  }

  /** The acctId a signed request names in `X-KD-AppData` (`acctId,username,…` base64), if any. */
  static signedAcctId(headers: IncomingHttpHeaders): string | undefined {
    const appData = Buffer.from(header(headers, 'x-kd-appdata'), 'base64').toString('utf8');
    const acctId = appData.split(',')[0];
    return acctId === '' ? undefined : acctId;
  }

  /** True when the request carries the SDK's signature headers (api_signature mode). */
  isSigned(headers: IncomingHttpHeaders): boolean {
    return header(headers, 'x-api-signature') !== '' || header(headers, 'x-kd-appkey') !== '';
  }

  /** Verifies "auth version 2.0" headers for a request to `path` (path + query as received). */
  verifySignature(headers: IncomingHttpHeaders, path: string): SignatureCheck {
    const c = this.credentials;
    const fail = (message: string): SignatureCheck => ({ ok: false, message });
    if (header(headers, 'x-api-auth-version') !== '2.0') return fail('授权版本不正确');
    const appId = header(headers, 'x-kd-appkey');
    if (appId !== c.appId) return fail('授权密钥校验失败，请获取最新密钥加密');
    const split = splitAppId(appId);
    if (!split || header(headers, 'x-api-clientid') !== split.clientId)
      return fail('授权密钥校验失败，请获取最新密钥加密');
    const timestamp = header(headers, 'x-api-timestamp');
    const nonce = header(headers, 'x-api-nonce');
    if (!this.timestampFresh(timestamp)) return fail('请求已过期，请检查时间戳');
    const expected = hmacSha256HexBase64(
      deriveClientSecret(split.secPart),
      apiSignatureString(encodeSignaturePath(path), nonce, timestamp),
    );
    if (!safeEqual(header(headers, 'x-api-signature'), expected))
      return fail('授权密钥校验失败，请获取最新密钥加密');
    const appData = Buffer.from(header(headers, 'x-kd-appdata'), 'base64').toString('utf8');
    const kdExpected = hmacSha256HexBase64(c.appSecret, appId + appData);
    if (!safeEqual(header(headers, 'x-kd-signature'), kdExpected))
      return fail('授权密钥校验失败，请获取最新密钥加密');
    const [acctId, username] = appData.split(',');
    if (acctId !== c.acctId) return fail('数据中心不存在或已禁用');
    if (username !== c.username) return fail('用户不存在');
    return { ok: true, username };
  }

  private timestampFresh(timestamp: string): boolean {
    const maxSkew = this.settings.switches.signatureMaxSkewSec;
    if (!/^\d+$/.test(timestamp)) return false;
    if (maxSkew === 0) return true;
    return Math.abs(Math.floor(this.clock.now() / 1000) - Number(timestamp)) <= maxSkew;
  }

  private failure(loginResultType: number, message: string): unknown {
    return {
      Message: message,
      MessageCode: null,
      LoginResultType: loginResultType,
      Context: null,
      KDSVCSessionId: null,
      FormId: null,
      RedirectFormParam: null,
      FormInputObject: null,
      ErrorStackTrace: null,
      Lcid: 0,
      AccessToken: null,
      KdAccessResult: null,
      IsSuccessByAPI: false,
    };
  }

  private success(session: SandboxSession, acctId: string, username: string): unknown {
    return {
      Message: null,
      MessageCode: 'CheckPasswordPolicy',
      LoginResultType: 1,
      Context: {
        UserLocale: 'zh-CN',
        LogLocale: 'zh-CN',
        DBid: acctId,
        DatabaseType: 3,
        SessionId: session.id,
        UseLanguages: [{ LocaleId: 2052, LocaleName: '中文(简体)', Alias: 'CN' }],
        UserId: 100_008,
        UserName: username,
        CustomName: 'Kingdee Sandbox',
        DisplayVersion: '8.2.0 (sandbox)',
        DataCenterName: 'Sandbox',
        UserToken: session.aspNetId,
        CurrentOrganizationInfo: { ID: 1, AcctOrgType: '1', Name: '101', FunctionIds: [101, 102, 103, 104] },
        IsCH_ZH_AutoTrans: false,
        ClientType: 32,
        WeiboAuthInfo: null,
        UTimeZone: {
          OffsetTicks: 288_000_000_000,
          StandardName: '(UTC+08:00)北京，重庆，香港特别行政区，乌鲁木齐',
        },
        STimeZone: {
          OffsetTicks: 288_000_000_000,
          StandardName: '(UTC+08:00)北京，重庆，香港特别行政区，乌鲁木齐',
        },
        GDCID: acctId,
        Gsid: null,
        TRLevel: 0,
        ProductEdition: 0,
        DataCenterNumber: acctId,
      },
      KDSVCSessionId: session.id,
      FormId: null,
      RedirectFormParam: null,
      FormInputObject: null,
      ErrorStackTrace: null,
      Lcid: 0,
      AccessToken: null,
      KdAccessResult: null,
      IsSuccessByAPI: true,
    };
  }
}

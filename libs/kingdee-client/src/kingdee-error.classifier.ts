import { type ResolvedKingdeeConfig, shortService } from './kingdee-client.config';
import { KINGDEE_WRITE_SERVICES } from './kingdee.constants';
import { KingdeeError, type KingdeeErrorKind, classifyMsgCode, msgCodeErrorCode } from './kingdee.errors';
import type { KingdeeLoginBody } from './kingdee.options';
import type { KingdeeResponseStatus } from './kingdee.types';
import { KingdeeTransportError } from './kingdee-http.transport';
import type { KingdeeSecrets } from './kingdee-secrets.util';

/**
 * Every failure of a Kingdee call as a {@link KingdeeError} of the right kind: `ambiguous` whenever a
 * write may have been applied (a lost reply, a 5xx, an unreadable reply, MsgCode 4/6/13 without
 * SuccessEntitys), `transient` when nothing was, `auth` and `permanent` otherwise — with the server's
 * text, secrets and session ids scrubbed (the client's live `secrets`).
 */
export class KingdeeErrorClassifier {
  constructor(
    private readonly config: Pick<ResolvedKingdeeConfig, 'msgCodeKinds' | 'loginBody'>,
    private readonly secrets: KingdeeSecrets,
  ) {}

  /** A ResponseStatus with every message scrubbed of secrets. */
  redactStatus(status: KingdeeResponseStatus): KingdeeResponseStatus {
    return {
      ...status,
      errors: status.errors.map((e) => ({ ...e, message: this.secrets.redact(e.message) })),
      successMessages: status.successMessages.map((m) => ({
        ...m,
        message: this.secrets.redact(m.message),
      })),
    };
  }

  /**
   * The error for a failed ResponseStatus. On a write without SuccessEntitys, MsgCode 4/6/13 are
   * `ambiguous` (the save may have committed before the failure); otherwise the MsgCode's kind.
   */
  statusError(service: string, status: KingdeeResponseStatus): KingdeeError {
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

  /** A reply that is not a readable WebAPI answer. */
  badResponse(service: string, write: boolean, httpStatus?: number): KingdeeError {
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

  /** An HTTP status other than 200/206; undefined for those. */
  httpStatusError(service: string, write: boolean, httpStatus: number): KingdeeError | undefined {
    if (httpStatus >= 500)
      // A proxy's 5xx (HTML or not) can come after the write committed: a write's outcome is unknown.
      return new KingdeeError({
        kind: write ? 'ambiguous' : 'transient',
        code: 'KD_HTTP_5XX',
        message: write
          ? `${shortService(service)}: HTTP ${httpStatus} after the request was sent; the write may have been applied`
          : `${shortService(service)}: HTTP ${httpStatus}`,
        service,
        httpStatus,
        requestSent: true,
      });
    if (httpStatus === 200 || httpStatus === 206) return undefined;
    const kind: KingdeeErrorKind =
      httpStatus === 401 || httpStatus === 403
        ? 'auth'
        : httpStatus === 408 || httpStatus === 429
          ? 'transient'
          : 'permanent';
    return new KingdeeError({
      kind,
      code: 'KD_HTTP_STATUS',
      message: `${shortService(service)}: HTTP ${httpStatus}`,
      service,
      httpStatus,
      requestSent: true,
    });
  }

  /** The transport failed: aborted, no reply after a write was sent (ambiguous), or a network failure. */
  transportError(service: string, write: boolean, err: unknown): KingdeeError {
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

  /** A login reply without LoginResultType: names the body form sent and the setting to change. */
  unrecognisedLogin(service: string, detail: string, msgCode?: number): KingdeeError {
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
}

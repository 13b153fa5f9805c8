import { KingdeeMsgCode } from './kingdee.constants';
import type { KingdeeFieldError } from './kingdee.types';

/**
 * How the caller should react to a failure (reference: kingdee-fault-model.md):
 * - `transient`: nothing was applied (or the call only reads) and retrying later may succeed: a
 *   network failure before the request left (refused, DNS, TLS), MsgCode 14 throttled, HTTP 408/429;
 *   on reads (ExecuteBillQuery, View) also timeouts, resets, HTTP 5xx, unreadable replies and
 *   MsgCode 4/6/13; at login also MsgCode 14 and HTTP 5xx (a login writes nothing);
 * - `permanent`: the request itself is wrong (parameters, fields, validation, missing base data,
 *   other 4xx, bad configuration);
 * - `auth`: login failed or its reply was not a login reply, session lost again after one re-login,
 *   no permission, HTTP 401/403;
 * - `ambiguous`: a write (Save, BatchSave, Submit, Audit, UnAudit, Delete) whose outcome is unknown:
 *   the bill may exist. Raised for any HTTP 5xx, a reply that is not a readable Kingdee reply, a
 *   call-level MsgCode 4 (exception), 6 (DB failure) or 13 (network-control conflict) without
 *   SuccessEntitys, and a reset, timeout or caller abort after the request was sent. Look the bill up
 *   (by the idempotency key) before writing again, and keep looking for a while: the write may still
 *   commit after the reply was lost.
 */
export type KingdeeErrorKind = 'transient' | 'permanent' | 'auth' | 'ambiguous';

export interface KingdeeErrorInit {
  kind: KingdeeErrorKind;
  code: string;
  message: string;
  service?: string;
  msgCode?: number;
  httpStatus?: number;
  errors?: KingdeeFieldError[];
  /** True when the request may have reached the server. */
  requestSent?: boolean;
  /** Low-level cause code (e.g. `ECONNRESET`, `TimeoutError`); never a message with data in it. */
  causeCode?: string;
}

/** The one error type the client throws. Carries no secrets: built from redacted text only. */
export class KingdeeError extends Error {
  override readonly name = 'KingdeeError';
  readonly kind: KingdeeErrorKind;
  readonly code: string;
  readonly service: string | undefined;
  readonly msgCode: number | undefined;
  readonly httpStatus: number | undefined;
  readonly errors: KingdeeFieldError[];
  readonly requestSent: boolean;
  readonly causeCode: string | undefined;

  constructor(init: KingdeeErrorInit) {
    super(init.message);
    this.kind = init.kind;
    this.code = init.code;
    this.service = init.service;
    this.msgCode = init.msgCode;
    this.httpStatus = init.httpStatus;
    this.errors = init.errors ?? [];
    this.requestSent = init.requestSent ?? false;
    this.causeCode = init.causeCode;
  }

  /** True when the write may have been applied: check by query before writing again. */
  get mayHaveWritten(): boolean {
    return this.kind === 'ambiguous';
  }

  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      kind: this.kind,
      code: this.code,
      message: this.message,
      service: this.service,
      msgCode: this.msgCode,
      httpStatus: this.httpStatus,
      errors: this.errors,
      requestSent: this.requestSent,
      causeCode: this.causeCode,
    };
  }
}

export function isKingdeeError(err: unknown): err is KingdeeError {
  return err instanceof KingdeeError;
}

/** Kind of a failed ResponseStatus by MsgCode for reads; writes see {@link WRITE_AMBIGUOUS_MSG_CODES} first. */
const DEFAULT_MSG_CODE_KINDS: Record<number, KingdeeErrorKind> = {
  [KingdeeMsgCode.contextLost]: 'auth',
  [KingdeeMsgCode.noPermission]: 'auth',
  [KingdeeMsgCode.operationIdEmpty]: 'permanent',
  [KingdeeMsgCode.exception]: 'transient',
  [KingdeeMsgCode.billIdEmpty]: 'permanent',
  [KingdeeMsgCode.databaseFailure]: 'transient',
  [KingdeeMsgCode.licence]: 'permanent',
  [KingdeeMsgCode.parameterError]: 'permanent',
  [KingdeeMsgCode.fieldNotFound]: 'permanent',
  [KingdeeMsgCode.dataNotFound]: 'permanent',
  [KingdeeMsgCode.validationFailed]: 'permanent',
  [KingdeeMsgCode.notOperable]: 'permanent',
  [KingdeeMsgCode.networkControlConflict]: 'transient',
  [KingdeeMsgCode.throttled]: 'transient',
  [KingdeeMsgCode.adminLoginForbidden]: 'auth',
};

const MSG_CODE_NAMES: Record<number, string> = {
  [KingdeeMsgCode.contextLost]: 'KD_SESSION_LOST',
  [KingdeeMsgCode.noPermission]: 'KD_NO_PERMISSION',
  [KingdeeMsgCode.operationIdEmpty]: 'KD_OPERATION_ID_EMPTY',
  [KingdeeMsgCode.exception]: 'KD_SERVER_EXCEPTION',
  [KingdeeMsgCode.billIdEmpty]: 'KD_BILL_ID_EMPTY',
  [KingdeeMsgCode.databaseFailure]: 'KD_DATABASE_FAILURE',
  [KingdeeMsgCode.licence]: 'KD_LICENCE',
  [KingdeeMsgCode.parameterError]: 'KD_PARAMETER_ERROR',
  [KingdeeMsgCode.fieldNotFound]: 'KD_FIELD_NOT_FOUND',
  [KingdeeMsgCode.dataNotFound]: 'KD_DATA_NOT_FOUND',
  [KingdeeMsgCode.validationFailed]: 'KD_VALIDATION_FAILED',
  [KingdeeMsgCode.notOperable]: 'KD_NOT_OPERABLE',
  [KingdeeMsgCode.networkControlConflict]: 'KD_NETWORK_CONTROL_CONFLICT',
  [KingdeeMsgCode.throttled]: 'KD_THROTTLED',
  [KingdeeMsgCode.adminLoginForbidden]: 'KD_ADMIN_LOGIN_FORBIDDEN',
};

/**
 * MsgCodes that leave a write's outcome unknown when they come back for the call as a whole: 4
 * (exception: it can be thrown after the save, e.g. in a plug-in or the auto submit/audit step), 6 (DB
 * failure) and 13 (network-control conflict). On a write
 * (`KINGDEE_WRITE_SERVICES`) without SuccessEntitys they are `ambiguous`, whatever `msgCodeKinds` says;
 * on reads they are `transient` (or as `msgCodeKinds` says).
 */
export const WRITE_AMBIGUOUS_MSG_CODES: ReadonlySet<number> = new Set<number>([
  KingdeeMsgCode.exception,
  KingdeeMsgCode.databaseFailure,
  KingdeeMsgCode.networkControlConflict,
]);

/**
 * Kind of a failed ResponseStatus by MsgCode (unknown codes are permanent). With `write` true (the call
 * is a write and the reply lists no SuccessEntitys), {@link WRITE_AMBIGUOUS_MSG_CODES} are `ambiguous`
 * before `overrides` are consulted; `overrides` (option `msgCodeKinds`) apply to everything else.
 */
export function classifyMsgCode(
  msgCode: number,
  overrides?: Partial<Record<number, KingdeeErrorKind>>,
  write = false,
): KingdeeErrorKind {
  if (write && WRITE_AMBIGUOUS_MSG_CODES.has(msgCode)) return 'ambiguous';
  return overrides?.[msgCode] ?? DEFAULT_MSG_CODE_KINDS[msgCode] ?? 'permanent';
}

export function msgCodeErrorCode(msgCode: number): string {
  return MSG_CODE_NAMES[msgCode] ?? `KD_MSGCODE_${msgCode}`;
}

/**
 * MsgCodes that concern the call as a whole, so a Save / BatchSave / Submit / Audit / View with one of
 * them and no SuccessEntitys throws instead of returning per-model outcomes. For most of them the
 * server did not get to the models (1 lost session, 2 permission, 3 operation id, 7 licence, 14
 * throttled, 15 admin login): nothing was applied. For 4 (exception), 6 (DB failure) and 13
 * (network-control conflict) that is not certain: on a write they throw `ambiguous`
 * ({@link WRITE_AMBIGUOUS_MSG_CODES}), on a read `transient`.
 */
export const CALL_LEVEL_MSG_CODES: ReadonlySet<number> = new Set<number>([
  KingdeeMsgCode.contextLost,
  KingdeeMsgCode.noPermission,
  KingdeeMsgCode.operationIdEmpty,
  KingdeeMsgCode.exception,
  KingdeeMsgCode.databaseFailure,
  KingdeeMsgCode.licence,
  KingdeeMsgCode.networkControlConflict,
  KingdeeMsgCode.throttled,
  KingdeeMsgCode.adminLoginForbidden,
]);

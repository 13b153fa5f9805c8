import { KingdeeMsgCode } from './kingdee.constants';
import type { KingdeeFieldError } from './kingdee.types';

/**
 * - `transient`: retrying later may succeed (network before the request left, 5xx, timeouts of
 *   reads, MsgCode 14 throttled, 6 DB failure, 4 exception, 13 network-control conflict);
 * - `permanent`: the request itself is wrong (parameters, fields, validation, missing base data);
 * - `auth`: login failed, session lost again after one re-login, no permission;
 * - `ambiguous`: a write whose request was sent but whose reply never arrived: the bill may or may not
 *   exist — look it up (by the idempotency key) before writing again.
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

/** Kind of a failed ResponseStatus by MsgCode (unknown codes are permanent). */
export function classifyMsgCode(
  msgCode: number,
  overrides?: Partial<Record<number, KingdeeErrorKind>>,
): KingdeeErrorKind {
  return overrides?.[msgCode] ?? DEFAULT_MSG_CODE_KINDS[msgCode] ?? 'permanent';
}

export function msgCodeErrorCode(msgCode: number): string {
  return MSG_CODE_NAMES[msgCode] ?? `KD_MSGCODE_${msgCode}`;
}

/**
 * MsgCodes that concern the call as a whole (the server did not get to the models), so a Save /
 * BatchSave with them throws instead of returning per-model outcomes.
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

/** Kingdee-shaped replies. */

export interface ReplyError {
  FieldName: string | null;
  Message: string;
  DIndex: number;
}

export interface ReplySuccess {
  Id: number | string;
  Number: string;
  DIndex: number;
}

export interface ResponseStatusBody {
  ErrorCode: number | string;
  IsSuccess: boolean;
  Errors: ReplyError[];
  SuccessEntitys: ReplySuccess[];
  SuccessMessages: Array<{ FieldName: string | null; Message: string; DIndex: number }>;
  MsgCode: number;
}

export function responseStatus(
  isSuccess: boolean,
  msgCode: number,
  errors: ReplyError[] = [],
  successes: ReplySuccess[] = [],
): ResponseStatusBody {
  return {
    ErrorCode: isSuccess ? 0 : 500,
    IsSuccess: isSuccess,
    Errors: errors,
    SuccessEntitys: successes,
    SuccessMessages: [],
    MsgCode: msgCode,
  };
}

/** `{"Result":{"ResponseStatus":…, …extra}}` */
export function resultReply(status: ResponseStatusBody, extra: Record<string, unknown> = {}): unknown {
  return { Result: { ResponseStatus: status, ...extra } };
}

/** A call-level failure with one message. */
export function errorReply(msgCode: number, message: string, fieldName: string | null = null): unknown {
  return resultReply(responseStatus(false, msgCode, [{ FieldName: fieldName, Message: message, DIndex: 0 }]));
}

export const LOST_SESSION_MESSAGE = '会话信息已丢失，请重新登录';

/** The reference's exact lost-session reply (MsgCode 1). */
export function lostSessionReply(): unknown {
  return {
    Result: {
      ResponseStatus: {
        ErrorCode: 500,
        IsSuccess: false,
        Errors: [{ FieldName: null, Message: LOST_SESSION_MESSAGE, DIndex: 0 }],
        SuccessEntitys: [],
        SuccessMessages: [],
        MsgCode: 1,
      },
    },
  };
}

export const THROTTLED_MESSAGE = '接口调用次数超过限制，请稍后再试';

export function throttledReply(): unknown {
  return errorReply(14, THROTTLED_MESSAGE);
}

/** ExecuteBillQuery's error shape: `[[{"Result":{"ResponseStatus":…}}]]`. */
export function wrapQueryError(reply: unknown): unknown {
  return [[reply]];
}

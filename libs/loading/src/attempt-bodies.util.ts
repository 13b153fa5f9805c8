import { isKingdeeError, KingdeeOperationResult, KingdeeSaveResult } from '@libs/kingdee-client';

/**
 * The part of a Kingdee reply that concerns the model at `index` of the request: the call's status
 * with only the errors, entities and messages of that DIndex (and those without one). Built from the
 * client's redacted view of the reply, so no session data is kept.
 */
export function replySlice(result: KingdeeSaveResult | KingdeeOperationResult, index?: number): unknown {
  const s = result.status;
  const mine = (d: number | null): boolean => index === undefined || d === null || d === index;
  return {
    ResponseStatus: {
      IsSuccess: s.isSuccess,
      MsgCode: s.msgCode,
      ErrorCode: s.errorCode,
      Errors: s.errors
        .filter((e) => mine(e.dIndex))
        .map((e) => ({
          FieldName: e.fieldName,
          Message: e.message,
          DIndex: e.dIndex,
        })),
      SuccessEntitys: s.successEntities
        .filter((e) => mine(e.dIndex))
        .map((e) => ({ Id: e.id, Number: e.number, DIndex: e.dIndex })),
      SuccessMessages: s.successMessages
        .filter((e) => mine(e.dIndex))
        .map((e) => ({ FieldName: e.fieldName, Message: e.message, DIndex: e.dIndex })),
    },
  };
}

/** What a call that threw came to, as the trail shows it (no reply, or Kingdee's refusal of the call). */
export function errorReply(error: unknown): unknown {
  if (isKingdeeError(error))
    return {
      error: {
        kind: error.kind,
        code: error.code,
        message: error.message,
        msgCode: error.msgCode ?? null,
        httpStatus: error.httpStatus ?? null,
        errors: error.errors,
      },
    };
  return { error: { message: error instanceof Error ? error.message : String(error) } };
}

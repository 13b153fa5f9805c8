import { KINGDEE_LOST_SESSION_MESSAGE } from '@libs/kingdee-client';

/** Kingdee's reply to a call whose session it no longer knows (MsgCode 1), as the real server words it. */
export function lostSessionReply(): { Result: { ResponseStatus: Record<string, unknown> } } {
  return {
    Result: {
      ResponseStatus: {
        ErrorCode: 500,
        IsSuccess: false,
        Errors: [{ FieldName: null, Message: KINGDEE_LOST_SESSION_MESSAGE, DIndex: 0 }],
        SuccessEntitys: [],
        SuccessMessages: [],
        MsgCode: 1,
      },
    },
  };
}

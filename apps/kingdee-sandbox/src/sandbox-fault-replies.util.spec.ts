import {
  EXCEPTION_AFTER_SAVE_MESSAGE,
  exceptionAfterSaveReply,
  isSuccessReply,
  nginxErrorPage,
  parameterCountMismatchReply,
  successCount,
  truncateJson,
  withoutDIndex,
  withoutLastEntity,
} from './sandbox-fault-replies.util';
import { responseStatus, resultReply } from './sandbox-reply.util';

const saved = resultReply(
  responseStatus(
    true,
    0,
    [],
    [
      { Id: 1, Number: 'A1', DIndex: 0 },
      { Id: 2, Number: 'A2', DIndex: 1 },
    ],
  ),
  { NeedReturnData: [{}] },
);

describe('sandbox fault replies', () => {
  it('renders nginx error pages with the status reason phrase', () => {
    expect(nginxErrorPage(502)).toBe(
      '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n' +
        '<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n',
    );
    expect(nginxErrorPage(504)).toContain('<title>504 Gateway Timeout</title>');
    expect(nginxErrorPage(599)).toContain('<h1>599 Error</h1>');
  });

  it('truncates JSON to an unparseable first half', () => {
    const text = JSON.stringify(saved);
    const half = truncateJson(text);
    expect(half).toBe(text.slice(0, Math.floor(text.length / 2)));
    expect(() => JSON.parse(half) as unknown).toThrow();
  });

  it('builds the MsgCode 4 replies', () => {
    expect(exceptionAfterSaveReply()).toEqual({
      Result: {
        ResponseStatus: {
          ErrorCode: 500,
          IsSuccess: false,
          Errors: [{ FieldName: null, Message: EXCEPTION_AFTER_SAVE_MESSAGE, DIndex: 0 }],
          SuccessEntitys: [],
          SuccessMessages: [],
          MsgCode: 4,
        },
      },
    });
    expect(JSON.stringify(parameterCountMismatchReply())).toBe(
      '{"Result":{"ResponseStatus":{"ErrorCode":500,"IsSuccess":false,"Errors":[{"FieldName":null,' +
        '"Message":"参数个数不匹配 (Parameter count mismatch.)","DIndex":0}],"SuccessEntitys":[],' +
        '"SuccessMessages":[],"MsgCode":4}}}',
    );
  });

  it('strips DIndex and drops the last entity on copies', () => {
    expect(successCount(saved)).toBe(2);
    expect(isSuccessReply(saved)).toBe(true);
    expect(withoutDIndex(saved)).toMatchObject({
      Result: {
        ResponseStatus: {
          SuccessEntitys: [
            { Id: 1, Number: 'A1' },
            { Id: 2, Number: 'A2' },
          ],
        },
      },
    });
    const stripped = withoutDIndex(saved) as { Result: { ResponseStatus: { SuccessEntitys: object[] } } };
    expect(stripped.Result.ResponseStatus.SuccessEntitys.every((e) => !('DIndex' in e))).toBe(true);
    const short = withoutLastEntity(saved);
    expect(successCount(short)).toBe(1);
    expect(isSuccessReply(short)).toBe(true);
    // The originals are untouched.
    expect(successCount(saved)).toBe(2);
    expect(JSON.stringify(saved)).toContain('"DIndex":1');
  });

  it('treats non-save replies as having no entities', () => {
    expect(successCount([[1]])).toBe(0);
    expect(successCount(null)).toBe(0);
    expect(isSuccessReply({})).toBe(false);
  });
});

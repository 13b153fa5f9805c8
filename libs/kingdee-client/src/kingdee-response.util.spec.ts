import {
  buildModelOutcomes,
  extractResponseStatus,
  parseKingdeeBoolean,
  parseQueryReply,
  parseResponseStatus,
  parseSetCookies,
  rowsToObjects,
} from './kingdee-response.util';
import { lostSessionReply } from '../../../test/support/kingdee/kingdee-replies.util';

describe('parseResponseStatus', () => {
  it('parses the reference BatchSave reply with string booleans and numbers', () => {
    const status = parseResponseStatus({
      ErrorCode: '',
      IsSuccess: 'false',
      Errors: [{ FieldName: 'FMATERIALID', Message: 'bad', DIndex: '3' }],
      SuccessEntitys: [{ Id: 100231, Number: 'CGTL000123', DIndex: 0 }],
      SuccessMessages: [],
      MsgCode: '11',
    });
    expect(status).toEqual({
      isSuccess: false,
      msgCode: 11,
      errorCode: null,
      errors: [{ fieldName: 'FMATERIALID', message: 'bad', dIndex: 3 }],
      successEntities: [{ id: '100231', number: 'CGTL000123', dIndex: 0 }],
      successMessages: [],
    });
  });

  it('accepts boolean spellings', () => {
    expect(parseKingdeeBoolean(true)).toBe(true);
    expect(parseKingdeeBoolean('True')).toBe(true);
    expect(parseKingdeeBoolean('true')).toBe(true);
    expect(parseKingdeeBoolean('false')).toBe(false);
    expect(parseKingdeeBoolean(undefined)).toBe(false);
  });
});

describe('extractResponseStatus / parseQueryReply', () => {
  const lost = lostSessionReply();

  it('finds the status in plain and query-wrapped replies', () => {
    expect(extractResponseStatus(lost)?.status.msgCode).toBe(1);
    expect(extractResponseStatus([[lost]])?.status.msgCode).toBe(1);
    expect(extractResponseStatus([[1, 'X', 'C']])).toBeNull();
  });

  it('reads bare rows and wrapped errors', () => {
    expect(parseQueryReply([[100231, 'X', 'C']])).toEqual({ ok: true, rows: [[100231, 'X', 'C']] });
    expect(parseQueryReply([])).toEqual({ ok: true, rows: [] });
    const err = parseQueryReply([[lost]]);
    expect(err.ok).toBe(false);
    expect(err.ok === false && err.status?.msgCode).toBe(1);
    expect(parseQueryReply({ nope: 1 })).toEqual({ ok: false, status: null });
  });

  it('maps rows to objects', () => {
    expect(rowsToObjects(['FID', 'FBillNo'], [[1, 'a']])).toEqual([{ FID: 1, FBillNo: 'a' }]);
  });
});

describe('buildModelOutcomes', () => {
  it('assigns successes and errors by DIndex, leaves the rest unreported', () => {
    const status = parseResponseStatus({
      IsSuccess: false,
      MsgCode: 11,
      Errors: [{ FieldName: 'FSTOCKID', Message: 'x', DIndex: 1 }],
      SuccessEntitys: [{ Id: 5, Number: 'A', DIndex: 0 }],
    });
    expect(buildModelOutcomes(status, 3).map((o) => o.status)).toEqual(['saved', 'failed', 'unreported']);
  });

  it('rolled-back calls: errors for some, nothing saved → the others stay unreported', () => {
    const status = parseResponseStatus({
      IsSuccess: false,
      MsgCode: 11,
      Errors: [{ FieldName: 'FSTOCKID', Message: 'x', DIndex: 1 }],
      SuccessEntitys: [],
    });
    expect(buildModelOutcomes(status, 2).map((o) => o.status)).toEqual(['unreported', 'failed']);
  });

  it('a failed call without per-model errors fails every model', () => {
    const status = parseResponseStatus({ IsSuccess: false, MsgCode: 8, Errors: [{ Message: 'bad' }] });
    const outcomes = buildModelOutcomes(status, 2);
    expect(outcomes.map((o) => o.status)).toEqual(['failed', 'failed']);
    expect(outcomes[1].errors[0].message).toBe('bad');
  });
});

describe('parseSetCookies', () => {
  it('reads name=value pairs and ignores attributes', () => {
    const jar = parseSetCookies([
      'kdservice-sessionid=abc123; path=/; HttpOnly',
      'ASP.NET_SessionId=xyz; expires=Wed, 21 Oct 2026 07:28:00 GMT; path=/',
    ]);
    expect(jar.get('kdservice-sessionid')).toBe('abc123');
    expect(jar.get('ASP.NET_SessionId')).toBe('xyz');
    expect(jar.size).toBe(2);
  });
});

import { createHash, createHmac } from 'node:crypto';
import {
  codePointLength,
  nativeSign,
  omitEmptyParams,
  packNativeParams,
  packNativeParamsByByteLength,
  signaturesEqual,
  topSign,
  topSignBaseString,
} from './wdt-sign.util';

const md5 = (text: string) => createHash('md5').update(text, 'utf8').digest('hex');

describe('WDT native packing and sign', () => {
  it('packs the documented example exactly', () => {
    expect(packNativeParams({ end_time: '2016-08-01 13:00:00', appkey: 'test2-xx' })).toBe(
      '06-appkey:0008-test2-xx;08-end_time:0019-2016-08-01 13:00:00',
    );
  });

  it('signs md5(packed + appsecret) in lowercase hex', () => {
    const params = { appkey: 'test2-xx', end_time: '2016-08-01 13:00:00' };
    const sign = nativeSign(params, 's3cret');
    expect(sign).toBe(md5('06-appkey:0008-test2-xx;08-end_time:0019-2016-08-01 13:00:00s3cret'));
    expect(sign).toMatch(/^[0-9a-f]{32}$/);
  });

  it('sorts keys in byte order and never packs sign', () => {
    expect(packNativeParams({ b: '2', a: '1', B: '3', _x: '4', sign: 'zzz' })).toBe(
      '01-B:0001-3;02-_x:0001-4;01-a:0001-1;01-b:0001-2',
    );
  });

  it('counts Chinese characters, not bytes', () => {
    expect(packNativeParams({ warehouse_no: '上海仓' })).toBe('12-warehouse_no:0003-上海仓');
    expect(packNativeParamsByByteLength({ warehouse_no: '上海仓' })).toBe('12-warehouse_no:0009-上海仓');
    expect(nativeSign({ src_order_no: '上海仓' }, 'k')).toBe(md5('12-src_order_no:0003-上海仓k'));
  });

  it('counts an emoji as one code point although it is two UTF-16 units', () => {
    const remark = '退货🙏';
    expect(remark.length).toBe(4);
    expect(codePointLength(remark)).toBe(3);
    expect(packNativeParams({ remark })).toBe('06-remark:0003-退货🙏');
    expect(nativeSign({ remark }, 'k')).toBe(md5('06-remark:0003-退货🙏k'));
  });

  it('keeps the real length of a value longer than 9999 characters', () => {
    const long = '仓'.repeat(12_345);
    expect(packNativeParams({ remark: long })).toBe(`06-remark:12345-${long}`);
  });

  it('omits empty values on the client and packs them as 0000- on the server side', () => {
    const params = { a: '', b: 'x', c: undefined, d: null };
    expect(packNativeParams(params)).toBe('01-b:0001-x');
    expect(nativeSign(params, 'k')).toBe(nativeSign({ b: 'x' }, 'k'));
    expect(omitEmptyParams(params)).toEqual({ b: 'x' });
    expect(packNativeParams({ a: '', b: 'x' }, { includeEmpty: true })).toBe('01-a:0000-;01-b:0001-x');
  });
});

describe('TOP (Qimen) sign', () => {
  const params = {
    method: 'wdt.stockout.order.query.return',
    app_key: '23000001',
    timestamp: '2026-11-28 01:30:00',
    sign_method: 'md5',
    warehouse_no: '上海仓',
    empty: '',
    sign: 'ignored',
  };
  const base =
    'app_key23000001' +
    'methodwdt.stockout.order.query.return' +
    'sign_methodmd5' +
    'timestamp2026-11-28 01:30:00' +
    'warehouse_no上海仓';

  it('concatenates sorted non-empty key+value pairs without sign', () => {
    expect(topSignBaseString(params)).toBe(base);
  });

  it('md5: MD5(secret + base + secret), uppercase', () => {
    const expected = createHash('md5')
      .update(`qm-secret${base}qm-secret`, 'utf8')
      .digest('hex')
      .toUpperCase();
    expect(topSign(params, 'qm-secret', 'md5')).toBe(expected);
  });

  it('hmac: HMAC-MD5(secret, base), uppercase', () => {
    const expected = createHmac('md5', 'qm-secret').update(base, 'utf8').digest('hex').toUpperCase();
    expect(topSign({ ...params, sign_method: 'hmac' }, 'qm-secret', 'hmac')).toBe(
      createHmac('md5', 'qm-secret')
        .update(base.replace('sign_methodmd5', 'sign_methodhmac'), 'utf8')
        .digest('hex')
        .toUpperCase(),
    );
    expect(topSign(params, 'qm-secret', 'hmac')).toBe(expected);
  });

  it('compares signatures case-insensitively', () => {
    expect(signaturesEqual('ABCDEF', 'abcdef')).toBe(true);
    expect(signaturesEqual('ABCDEF', 'abcdee')).toBe(false);
    expect(signaturesEqual('ABC', 'abcd')).toBe(false);
  });
});

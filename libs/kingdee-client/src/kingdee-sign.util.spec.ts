import { createHash, createHmac } from 'node:crypto';
import {
  apiSignatureString,
  buildApiSignatureHeaders,
  computeLoginSign,
  deriveClientSecret,
  encodeSignaturePath,
  hmacSha256HexBase64,
  safeEqual,
  signaturePathOf,
  splitAppId,
} from './kingdee-sign.util';

// Vectors: computed here with node:crypto on literal strings, and cross-checked once with Python's
// hashlib/hmac/base64/urllib (the literal expected values below).
const ACCT = '6500000000000001';
const USER = 'demo';
const SEC_PART = 'c2FuZGJveC1raW5nZGVlLWFwcC0wMDAx'; // base64("sandbox-kingdee-app-0001")
const APP_ID = `260101_${SEC_PART}`;
const APP_SECRET = 'c0ffee00sandbox00secret00c0ffee0';
const TS = '1764264600';
const PATH = '/k3cloud/Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.Save.common.kdsvc';

describe('computeLoginSign', () => {
  it('is the lowercase hex SHA-256 of the five strings sorted ordinally and concatenated', () => {
    const expected = createHash('sha256')
      .update([ACCT, USER, APP_ID, APP_SECRET, TS].sort().join(''))
      .digest('hex');
    const sign = computeLoginSign({
      acctId: ACCT,
      username: USER,
      appId: APP_ID,
      appSecret: APP_SECRET,
      timestamp: TS,
    });
    expect(sign).toBe(expected);
    expect(sign).toBe('a7e5489a715cae7f6d6ebded42240a0109cfbc43fd07272d47dff131f2a5e6c6');
  });

  it('sorts ordinally (upper case before lower case), not by locale', () => {
    const sign = computeLoginSign({ acctId: 'b', username: 'B', appId: 'a', appSecret: 'A', timestamp: 1 });
    expect(sign).toBe(createHash('sha256').update('1ABab').digest('hex'));
  });

  it('supports the SHA-1 variant of older patches', () => {
    const sign = computeLoginSign(
      { acctId: ACCT, username: USER, appId: APP_ID, appSecret: APP_SECRET, timestamp: Number(TS) },
      'sha1',
    );
    expect(sign).toBe('18fcc681440bffa6d1c04e68456848a0df30ed7f');
  });
});

describe('deriveClientSecret', () => {
  it('XORs the decoded secret part with the 32 ASCII bytes of the key, then base64-encodes', () => {
    const decoded = Buffer.from('sandbox-kingdee-app-0001', 'ascii');
    const key = Buffer.from('0054f397c6234378b09ca7d3e5debce7', 'ascii');
    const xored = Buffer.from(decoded.map((b, i) => b ^ key[i]));
    expect(deriveClientSecret(SEC_PART)).toBe(xored.toString('base64'));
    expect(deriveClientSecret(SEC_PART)).toBe('Q1FbUARcQRoIX1xUUFZSFQNASU5RB1QC');
  });

  it('does not hex-decode the key (the mistake of one public port)', () => {
    const decoded = Buffer.from('sandbox-kingdee-app-0001', 'ascii');
    const hexKey = Buffer.from('0054f397c6234378b09ca7d3e5debce7', 'hex');
    const wrong = Buffer.from(decoded.map((b, i) => b ^ hexKey[i % hexKey.length])).toString('base64');
    expect(deriveClientSecret(SEC_PART)).not.toBe(wrong);
  });

  it('yields "" for a secret part that is not 32 characters (as the SDK)', () => {
    expect(deriveClientSecret('abc')).toBe('');
  });

  it('splits the AppID into client id and secret part', () => {
    expect(splitAppId(APP_ID)).toEqual({ clientId: '260101', secPart: SEC_PART });
    expect(splitAppId('no-underscore')).toBeNull();
  });
});

describe('request signature pieces', () => {
  it('base64-encodes the lowercase hex HMAC text', () => {
    const hex = createHmac('sha256', 'key').update('msg').digest('hex');
    expect(hmacSha256HexBase64('key', 'msg')).toBe(Buffer.from(hex).toString('base64'));
  });

  it('encodes the path like Python quote() with / as %2F', () => {
    expect(encodeSignaturePath(PATH)).toBe(
      '%2Fk3cloud%2FKingdee.BOS.WebApi.ServicesStub.DynamicFormService.Save.common.kdsvc',
    );
    expect(encodeSignaturePath('/a b/中文_.-~!*()')).toBe('%2Fa%20b%2F%E4%B8%AD%E6%96%87_.-~%21%2A%28%29');
  });

  it('takes path and query of a URL', () => {
    expect(signaturePathOf('https://h.example:8443/k3cloud/X.common.kdsvc?a=1')).toBe(
      '/k3cloud/X.common.kdsvc?a=1',
    );
  });

  it('builds the string to sign', () => {
    expect(apiSignatureString('%2Fp', 'n', 't')).toBe('POST\n%2Fp\n\nx-api-nonce:n\nx-api-timestamp:t\n');
  });

  it('builds every header of auth version 2.0', () => {
    const headers = buildApiSignatureHeaders({
      path: PATH,
      appId: APP_ID,
      appSecret: APP_SECRET,
      acctId: ACCT,
      username: USER,
      lcid: 2052,
      orgNumber: '101',
      timestamp: TS,
      nonce: TS,
    });
    // Independent computation on literals.
    const clientSec = 'Q1FbUARcQRoIX1xUUFZSFQNASU5RB1QC';
    const toSign = `POST\n%2Fk3cloud%2FKingdee.BOS.WebApi.ServicesStub.DynamicFormService.Save.common.kdsvc\n\nx-api-nonce:${TS}\nx-api-timestamp:${TS}\n`;
    const b64hex = (key: string, msg: string): string =>
      Buffer.from(createHmac('sha256', key).update(msg).digest('hex')).toString('base64');
    const appData = `${ACCT},${USER},2052,101`;
    expect(headers).toEqual({
      'X-Api-ClientID': '260101',
      'X-Api-Auth-Version': '2.0',
      'X-Api-Timestamp': TS,
      'X-Api-Nonce': TS,
      'X-Api-SignHeaders': 'x-api-timestamp,x-api-nonce',
      'X-Api-Signature': b64hex(clientSec, toSign),
      'X-Kd-Appkey': APP_ID,
      'X-Kd-Appdata': Buffer.from(appData).toString('base64'),
      'X-Kd-Signature': b64hex(APP_SECRET, APP_ID + appData),
    });
    // And the Python-computed literals.
    expect(headers['X-Api-Signature']).toBe(
      'MmFmMTM3YWFjYzMzOWIyNjRmMDNhMzI4OWEwODBmMWJhNjg5ZjliMTE0NzlmMDZmNTY1N2VkMmM5MTdmZTcwOA==',
    );
    expect(headers['X-Kd-Appdata']).toBe('NjUwMDAwMDAwMDAwMDAwMSxkZW1vLDIwNTIsMTAx');
    expect(headers['X-Kd-Signature']).toBe(
      'ZTU5OTNjMzU3NGUyM2U4MWE3YWIyMGUzZGMxNGM0MWM1NGEyYWFiODM4YjBlNmQ0OWQ3YTY3YmE1ZWIyZDg5Nw==',
    );
  });

  it('compares secrets safely', () => {
    expect(safeEqual('abc', 'abc')).toBe(true);
    expect(safeEqual('abc', 'abd')).toBe(false);
    expect(safeEqual('abc', 'abcd')).toBe(false);
  });
});

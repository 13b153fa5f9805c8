import { inspect } from 'node:util';
import { ManualClock } from '@libs/common';
import { KingdeeClient } from './kingdee.client';
import { KingdeeError } from './kingdee.errors';
import type { KingdeeClientOptions } from './kingdee.options';
import {
  type KingdeeHttpRequest,
  type KingdeeHttpResponse,
  type KingdeeHttpTransport,
  KingdeeTransportError,
} from './kingdee-http.transport';

const PASSWORD = 'pw-Secret-123';
const APP_SECRET = 'appsecret-XYZ-987654';
import { lostSessionReply } from '../../../test/support/kingdee/kingdee-replies.util';
const SID = 'sid-0123456789abcdef';
const APP_ID = `260101_${Buffer.from('sandbox-kingdee-app-0001').toString('base64')}`;

const lost = lostSessionReply();
const ok = (successes: Array<{ Id: number; Number: string; DIndex: number }> = []): unknown => ({
  Result: {
    ResponseStatus: {
      ErrorCode: 0,
      IsSuccess: true,
      Errors: [],
      SuccessEntitys: successes,
      SuccessMessages: [],
      MsgCode: 0,
    },
    NeedReturnData: [{}],
  },
});
const failed = (msgCode: number, message: string, dIndex = 0): unknown => ({
  Result: {
    ResponseStatus: {
      ErrorCode: 500,
      IsSuccess: 'false',
      Errors: [{ FieldName: 'FSTOCKID', Message: message, DIndex: dIndex }],
      SuccessEntitys: [],
      SuccessMessages: [],
      MsgCode: msgCode,
    },
  },
});
const loginOk = { LoginResultType: 1, Message: null, KDSVCSessionId: SID, Context: { UserName: 'u' } };

type Handler = (
  req: KingdeeHttpRequest,
  service: string,
) => KingdeeHttpResponse | Promise<KingdeeHttpResponse>;

class FakeTransport implements KingdeeHttpTransport {
  readonly requests: Array<{ service: string; req: KingdeeHttpRequest }> = [];
  constructor(private readonly handler: Handler) {}
  async post(req: KingdeeHttpRequest): Promise<KingdeeHttpResponse> {
    const service = /\.(\w+)\.common\.kdsvc$/.exec(req.url)?.[1] ?? '?';
    this.requests.push({ service, req });
    return this.handler(req, service);
  }
  count(service: string): number {
    return this.requests.filter((r) => r.service === service).length;
  }
}

const json = (body: unknown, setCookies: string[] = []): KingdeeHttpResponse => ({
  status: 200,
  setCookies,
  body: JSON.stringify(body),
});
const loginReply = (): KingdeeHttpResponse =>
  json(loginOk, [`kdservice-sessionid=${SID}; path=/; HttpOnly`, 'ASP.NET_SessionId=asp-777; path=/']);

function client(transport: KingdeeHttpTransport, extra: Partial<KingdeeClientOptions> = {}): KingdeeClient {
  return new KingdeeClient(
    {
      serverUrl: 'https://erp.example/k3cloud',
      acctId: 'acct',
      username: 'user',
      password: PASSWORD,
      appId: APP_ID,
      appSecret: APP_SECRET,
      authMode: 'validate_user',
      ...extra,
    },
    { transport, clock: new ManualClock(1_764_264_600_000), randomId: () => 'rid-1' },
  );
}

const model = { FBillNo: 'CT1' };

function expectNoSecrets(value: unknown): void {
  const texts =
    value instanceof Error
      ? [String(value), value.stack ?? '', JSON.stringify(value), inspect(value)]
      : [JSON.stringify(value), inspect(value, { depth: 10 })];
  for (const text of texts) {
    for (const secret of [PASSWORD, APP_SECRET, SID, 'asp-777']) expect(text).not.toContain(secret);
  }
}

async function caught(p: Promise<unknown>): Promise<KingdeeError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(KingdeeError);
    return err as KingdeeError;
  }
  throw new Error('expected a rejection');
}

describe('KingdeeClient sessions', () => {
  it('logs in once and reuses the session cookie (and the SDK header)', async () => {
    const t = new FakeTransport((_req, service) => (service === 'ValidateUser' ? loginReply() : json(ok())));
    const c = client(t);
    await c.save('PUR_MRB', model);
    await c.save('PUR_MRB', model);
    expect(t.count('ValidateUser')).toBe(1);
    const saveReq = t.requests[2].req;
    expect(saveReq.headers.Cookie).toBe(`kdservice-sessionid=${SID}; ASP.NET_SessionId=asp-777`);
    expect(saveReq.headers['kdservice-sessionid']).toBe(SID);
    expect(JSON.parse(t.requests[0].req.body)).toEqual({ parameters: ['acct', 'user', PASSWORD, 2052] });
    expect(t.requests[0].req.url).toBe(
      'https://erp.example/k3cloud/Kingdee.BOS.WebApi.ServicesStub.AuthService.ValidateUser.common.kdsvc',
    );
  });

  it('re-authenticates once on a lost session and retries', async () => {
    let saves = 0;
    const t = new FakeTransport((_req, service) => {
      if (service === 'ValidateUser') return loginReply();
      saves += 1;
      return json(saves === 1 ? lost : ok([{ Id: 7, Number: 'CT1', DIndex: 0 }]));
    });
    const result = await client(t).save('PUR_MRB', model);
    expect(result.outcomes[0]).toMatchObject({ status: 'saved', id: '7', number: 'CT1' });
    expect(t.count('ValidateUser')).toBe(2);
    expect(t.count('Save')).toBe(2);
  });

  it('fails as auth when the session is lost again after re-login', async () => {
    const t = new FakeTransport((_req, service) => (service === 'ValidateUser' ? loginReply() : json(lost)));
    const err = await caught(client(t).save('PUR_MRB', model));
    expect(err.kind).toBe('auth');
    expect(err.code).toBe('KD_SESSION_LOST');
    expect(t.count('ValidateUser')).toBe(2);
    expect(t.count('Save')).toBe(2);
    expectNoSecrets(err);
  });

  it('also handles the query-wrapped lost-session reply', async () => {
    let queries = 0;
    const t = new FakeTransport((_req, service) => {
      if (service === 'ValidateUser') return loginReply();
      queries += 1;
      return json(queries === 1 ? [[lost]] : [[1, 'CT1', 'C']]);
    });
    expect(
      await client(t).executeBillQuery({
        FormId: 'PUR_MRB',
        FieldKeys: ['FID', 'FBillNo', 'FDocumentStatus'],
      }),
    ).toEqual([[1, 'CT1', 'C']]);
    expect(t.count('ValidateUser')).toBe(2);
  });

  it('a rejected login is an auth error without secrets in it', async () => {
    const t = new FakeTransport(() =>
      json({ LoginResultType: 0, Message: `用户名或密码错误 ${PASSWORD}`, KDSVCSessionId: null }),
    );
    const err = await caught(client(t).save('PUR_MRB', model));
    expect(err.kind).toBe('auth');
    expect(err.code).toBe('KD_LOGIN_FAILED');
    expect(err.message).toContain('用户名或密码错误 ***');
    expectNoSecrets(err);
  });

  it('keeps secrets out of the client object and of results', async () => {
    const t = new FakeTransport((_req, service) =>
      service === 'LoginByAppSecret' ? loginReply() : json(ok([{ Id: 1, Number: 'CT1', DIndex: 0 }])),
    );
    const c = client(t, { authMode: 'app_secret' });
    const result = await c.batchSave('PUR_MRB', [model]);
    expectNoSecrets(result);
    expectNoSecrets(c);
    expect(JSON.parse(t.requests[0].req.body)).toEqual({
      parameters: ['acct', 'user', APP_ID, APP_SECRET, 2052],
    });
  });

  it('LoginBySign sends the timestamp in seconds and the SHA-256 sign', async () => {
    const t = new FakeTransport((_req, service) => (service === 'LoginBySign' ? loginReply() : json(ok())));
    await client(t, { authMode: 'sign', dialect: 'positional' }).save('PUR_MRB', model);
    const params = JSON.parse(t.requests[0].req.body).parameters as unknown[];
    expect(params.slice(0, 4)).toEqual(['acct', 'user', APP_ID, 1_764_264_600]);
    expect(params[4]).toMatch(/^[0-9a-f]{64}$/);
    expect(params[5]).toBe(2052);
  });

  it('api_signature signs every request and needs no login', async () => {
    const t = new FakeTransport(() => json(ok(), [`kdservice-sessionid=${SID}; path=/`]));
    const c = client(t, { authMode: 'api_signature' });
    await c.save('PUR_MRB', model);
    await c.save('PUR_MRB', model);
    expect(t.requests.map((r) => r.service)).toEqual(['Save', 'Save']);
    expect(t.requests[0].req.headers['X-Api-Auth-Version']).toBe('2.0');
    expect(t.requests[0].req.headers['X-Api-Timestamp']).toBe('1764264600');
    expect(t.requests[0].req.headers.Cookie).toBeUndefined();
    expect(t.requests[1].req.headers.Cookie).toContain(SID);
  });
});

describe('KingdeeClient login body form', () => {
  const LOGINS = { validate_user: 'ValidateUser', app_secret: 'LoginByAppSecret', sign: 'LoginBySign' };
  const loginThenOk =
    (loginService: string): Handler =>
    (_req, service) =>
      service === loginService ? loginReply() : json(ok());
  const signOf = (t: FakeTransport): string => {
    const body = JSON.parse(t.requests[0].req.body) as Record<string, unknown>;
    const sign = Array.isArray(body.parameters) ? (body.parameters[4] as string) : (body.sign as string);
    expect(sign).toMatch(/^[0-9a-f]{64}$/);
    return sign;
  };

  it('is positional by default for all three login services, whatever the business dialect', async () => {
    const expected = {
      validate_user: (): unknown[] => ['acct', 'user', PASSWORD, 2052],
      app_secret: (): unknown[] => ['acct', 'user', APP_ID, APP_SECRET, 2052],
      sign: (t: FakeTransport): unknown[] => ['acct', 'user', APP_ID, 1_764_264_600, signOf(t), 2052],
    };
    for (const authMode of ['validate_user', 'app_secret', 'sign'] as const) {
      const t = new FakeTransport(loginThenOk(LOGINS[authMode]));
      await client(t, { authMode }).batchSave('PUR_MRB', [model]);
      expect(t.requests.map((r) => r.service)).toEqual([LOGINS[authMode], 'BatchSave']);
      expect(t.requests[0].req.body).toBe(JSON.stringify({ parameters: expected[authMode](t) }));
      // The business call still follows `dialect` (default named).
      expect(JSON.parse(t.requests[1].req.body)).toEqual({ formid: 'PUR_MRB', data: { Model: [model] } });
    }
  });

  it('is named when loginBody is "named"', async () => {
    const expected = {
      validate_user: (): unknown => ({ acctID: 'acct', username: 'user', password: PASSWORD, lcid: 2052 }),
      app_secret: (): unknown => ({
        acctID: 'acct',
        username: 'user',
        appId: APP_ID,
        appSecret: APP_SECRET,
        lcid: 2052,
      }),
      sign: (t: FakeTransport): unknown => ({
        acctID: 'acct',
        username: 'user',
        appId: APP_ID,
        timestamp: 1_764_264_600,
        sign: signOf(t),
        lcid: 2052,
      }),
    };
    for (const authMode of ['validate_user', 'app_secret', 'sign'] as const) {
      const t = new FakeTransport(loginThenOk(LOGINS[authMode]));
      await client(t, { authMode, loginBody: 'named', dialect: 'positional' }).batchSave('PUR_MRB', [model]);
      expect(t.requests[0].req.body).toBe(JSON.stringify(expected[authMode](t)));
      // ...and the business call follows `dialect`, here positional.
      expect(JSON.parse(t.requests[1].req.body)).toEqual({
        parameters: ['PUR_MRB', JSON.stringify({ Model: [model] })],
      });
    }
  });

  it('stays positional with the legacy business dialect', async () => {
    const t = new FakeTransport(loginThenOk('ValidateUser'));
    await client(t, { dialect: 'legacy' }).save('PUR_MRB', model);
    expect(t.requests[0].req.body).toBe(JSON.stringify({ parameters: ['acct', 'user', PASSWORD, 2052] }));
    expect(JSON.parse(t.requests[1].req.body)).toMatchObject({ format: 1, useragent: 'ApiClient' });
  });

  it('rejects an unknown loginBody', () => {
    expect(() =>
      client(new FakeTransport(() => json(ok())), {
        loginBody: 'legacy' as unknown as KingdeeClientOptions['loginBody'],
      }),
    ).toThrow(/loginBody must be one of positional, named/);
  });

  const bareStatus = (msgCode: number, message: string): unknown => ({
    ResponseStatus: {
      ErrorCode: 500,
      IsSuccess: false,
      Errors: [{ FieldName: null, Message: message, DIndex: 0 }],
      SuccessEntitys: [],
      SuccessMessages: [],
      MsgCode: msgCode,
    },
  });

  it('a reply without LoginResultType names the body form sent and the setting to change', async () => {
    const t = new FakeTransport(() => json(bareStatus(4, `未将对象引用设置到对象的实例 ${APP_SECRET}`)));
    const err = await caught(client(t, { authMode: 'sign' }).save('PUR_MRB', model));
    expect(err).toMatchObject({ kind: 'auth', code: 'KD_LOGIN_REPLY_UNRECOGNISED', msgCode: 4 });
    expect(err.message).toBe(
      'AuthService.LoginBySign: the reply is not a Kingdee login reply (no LoginResultType; MsgCode 4: ' +
        '未将对象引用设置到对象的实例 ***); the login was sent in the positional body form: if this server ' +
        'binds the named form, set loginBody "named" (KINGDEE_LOGIN_BODY=named)',
    );
    expect(t.count('Save')).toBe(0);
    expectNoSecrets(err);
  });

  it.each([
    ['an empty object', json({}), 'no LoginResultType)'],
    [
      'a JSON Message only',
      json({ Message: 'Object reference not set' }),
      'Message: Object reference not set',
    ],
    [
      'non-JSON',
      { status: 200, setCookies: [], body: '<html>login</html>' } as KingdeeHttpResponse,
      'HTTP 200, not JSON',
    ],
    ['truncated JSON', { status: 200, setCookies: [], body: '{"LoginResultType":1,' }, 'not JSON'],
  ])('%s as a login reply is KD_LOGIN_REPLY_UNRECOGNISED', async (_label, reply, detail) => {
    const t = new FakeTransport(() => reply);
    const err = await caught(client(t, { loginBody: 'named' }).save('PUR_MRB', model));
    expect(err).toMatchObject({ kind: 'auth', code: 'KD_LOGIN_REPLY_UNRECOGNISED' });
    expect(err.message).toContain(detail);
    expect(err.message).toContain(
      'the login was sent in the named body form: if this server binds the positional form, ' +
        'set loginBody "positional" (KINGDEE_LOGIN_BODY=positional)',
    );
    expectNoSecrets(err);
  });

  it('a throttled login reply (MsgCode 14) stays transient', async () => {
    const t = new FakeTransport(() => json(bareStatus(14, '接口调用次数超过限制')));
    const err = await caught(client(t).save('PUR_MRB', model));
    expect(err).toMatchObject({ kind: 'transient', code: 'KD_THROTTLED', msgCode: 14 });
  });

  it('an HTTP 5xx on a login is transient (a login is not a write)', async () => {
    const t = new FakeTransport(() => ({ status: 502, setCookies: [], body: '<html>Bad Gateway</html>' }));
    const err = await caught(client(t).save('PUR_MRB', model));
    expect(err).toMatchObject({ kind: 'transient', code: 'KD_HTTP_5XX', httpStatus: 502 });
    expect(t.count('Save')).toBe(0);
  });

  it('a reply with LoginResultType other than 1 stays KD_LOGIN_FAILED', async () => {
    const t = new FakeTransport(() => json({ LoginResultType: -1, Message: '数据中心不存在' }));
    const err = await caught(client(t).save('PUR_MRB', model));
    expect(err).toMatchObject({ kind: 'auth', code: 'KD_LOGIN_FAILED' });
    expect(err.message).toContain('LoginResultType -1');
  });
});

describe('KingdeeClient dialects', () => {
  const reply = (): KingdeeHttpResponse => json(ok());
  it.each([
    [
      'named',
      (b: Record<string, unknown>) =>
        expect(b).toEqual({ formid: 'PUR_MRB', data: { IsAutoSubmitAndAudit: true, Model: [model] } }),
    ],
    [
      'positional',
      (b: Record<string, unknown>) =>
        expect(b).toEqual({
          parameters: ['PUR_MRB', JSON.stringify({ IsAutoSubmitAndAudit: true, Model: [model] })],
        }),
    ],
    [
      'legacy',
      (b: Record<string, unknown>) => {
        expect(b).toMatchObject({ format: 1, useragent: 'ApiClient', rid: 'rid-1', v: '1.0' });
        expect(JSON.parse(b.parameters as string)).toEqual([
          'PUR_MRB',
          JSON.stringify({ IsAutoSubmitAndAudit: true, Model: [model] }),
        ]);
      },
    ],
  ] as const)('%s', async (dialect, check) => {
    const t = new FakeTransport((_req, service) => (service === 'ValidateUser' ? loginReply() : reply()));
    await client(t, { dialect }).batchSave('PUR_MRB', [model], { isAutoSubmitAndAudit: true });
    check(JSON.parse(t.requests[1].req.body) as Record<string, unknown>);
  });

  it('sends booleans as strings when asked', async () => {
    const t = new FakeTransport((_req, service) => (service === 'ValidateUser' ? loginReply() : json(ok())));
    await client(t).batchSave('PUR_MRB', [model], {
      isVerifyBaseDataField: false,
      booleansAsStrings: true,
      subSystemId: '21',
    });
    expect(JSON.parse(t.requests[1].req.body).data).toEqual({
      IsVerifyBaseDataField: 'false',
      SubSystemId: '21',
      Model: [model],
    });
  });
});

describe('KingdeeClient error classification', () => {
  const withLogin =
    (h: Handler): Handler =>
    (req, service) =>
      service === 'ValidateUser' ? loginReply() : h(req, service);

  it('a timeout after sending a write is ambiguous; for a query transient', async () => {
    const t = new FakeTransport(
      withLogin(() => {
        throw new KingdeeTransportError('timeout', true, 'TimeoutError');
      }),
    );
    const c = client(t);
    const write = await caught(c.batchSave('PUR_MRB', [model]));
    expect(write.kind).toBe('ambiguous');
    expect(write.mayHaveWritten).toBe(true);
    const read = await caught(c.executeBillQuery({ FormId: 'PUR_MRB', FieldKeys: 'FID' }));
    expect(read.kind).toBe('transient');
  });

  it('a reset after sending a BatchSave is ambiguous; for a query transient', async () => {
    const t = new FakeTransport(
      withLogin(() => {
        throw new KingdeeTransportError('reset', true, 'ECONNRESET');
      }),
    );
    const c = client(t);
    const write = await caught(c.batchSave('PUR_MRB', [model]));
    expect(write).toMatchObject({
      kind: 'ambiguous',
      code: 'KD_RESPONSE_LOST',
      requestSent: true,
      causeCode: 'ECONNRESET',
    });
    expect(t.count('BatchSave')).toBe(1);
    expect((await caught(c.executeBillQuery({ FormId: 'PUR_MRB', FieldKeys: 'FID' }))).kind).toBe(
      'transient',
    );
  });

  it('a connection reset after sending a write is ambiguous; a refused connection transient', async () => {
    let n = 0;
    const t = new FakeTransport(
      withLogin(() => {
        n += 1;
        throw n === 1
          ? new KingdeeTransportError('reset', true, 'ECONNRESET')
          : new KingdeeTransportError('connect', false, 'ECONNREFUSED');
      }),
    );
    const c = client(t);
    expect((await caught(c.save('PUR_MRB', model))).kind).toBe('ambiguous');
    const refused = await caught(c.save('PUR_MRB', model));
    expect(refused.kind).toBe('transient');
    expect(refused.requestSent).toBe(false);
  });

  const query = { FormId: 'PUR_MRB', FieldKeys: 'FID' };
  const proxyPage = (status: number): KingdeeHttpResponse => ({
    status,
    setCookies: [],
    body: `<html><head><title>${status}</title></head><body><center>nginx</center></body></html>`,
  });

  it.each([500, 502, 503, 504])(
    'HTTP %i with an HTML body: ambiguous on BatchSave, transient on ExecuteBillQuery',
    async (status) => {
      const t = new FakeTransport(withLogin(() => proxyPage(status)));
      const c = client(t);
      const write = await caught(c.batchSave('PUR_MRB', [model]));
      expect(write).toMatchObject({
        kind: 'ambiguous',
        code: 'KD_HTTP_5XX',
        httpStatus: status,
        requestSent: true,
      });
      expect(write.mayHaveWritten).toBe(true);
      expect(write.message).toContain(`HTTP ${status}`);
      const read = await caught(c.executeBillQuery(query));
      expect(read).toMatchObject({ kind: 'transient', code: 'KD_HTTP_5XX', httpStatus: status });
      expect(t.count('BatchSave')).toBe(1);
    },
  );

  it.each([
    ['JSON', JSON.stringify(failed(4, 'x'))],
    ['empty', ''],
  ])('HTTP 500 with a %s body is ambiguous on every write service', async (_label, body) => {
    const t = new FakeTransport(withLogin(() => ({ status: 500, setCookies: [], body })));
    const c = client(t);
    for (const call of [
      () => c.save('PUR_MRB', model),
      () => c.batchSave('PUR_MRB', [model]),
      () => c.submit('PUR_MRB', { numbers: ['CT1'] }),
      () => c.audit('PUR_MRB', { numbers: ['CT1'] }),
    ]) {
      expect(await caught(call())).toMatchObject({ kind: 'ambiguous', code: 'KD_HTTP_5XX', httpStatus: 500 });
    }
    expect((await caught(c.view('PUR_MRB', { number: 'CT1' }))).kind).toBe('transient');
  });

  it.each([
    ['HTML with 200', '<html><body>Please wait…</body></html>'],
    ['truncated JSON', '{"Result":{"ResponseStatus":{"IsSuccess":true,"SuccessEntitys":[{"Id":1'],
    ['JSON without a ResponseStatus', JSON.stringify({ Result: { Id: 1 } })],
    ['non-JSON text', 'response_error:'],
  ])('%s in reply to a write is ambiguous; to a query transient', async (_label, body) => {
    const t = new FakeTransport(withLogin(() => ({ status: 200, setCookies: [], body })));
    const c = client(t);
    const write = await caught(c.batchSave('PUR_MRB', [model]));
    expect(write).toMatchObject({ kind: 'ambiguous', code: 'KD_BAD_RESPONSE', requestSent: true });
    expect((await caught(c.executeBillQuery(query))).kind).toBe('transient');
  });

  it.each([
    [4, 'KD_SERVER_EXCEPTION'],
    [6, 'KD_DATABASE_FAILURE'],
    [13, 'KD_NETWORK_CONTROL_CONFLICT'],
  ] as const)('call-level MsgCode %i on BatchSave is ambiguous (%s)', async (msgCode, code) => {
    const t = new FakeTransport(withLogin(() => json(failed(msgCode, '服务器内部错误'))));
    const err = await caught(client(t).batchSave('PUR_MRB', [model]));
    expect(err).toMatchObject({ kind: 'ambiguous', code, msgCode, requestSent: true });
    expect(t.count('BatchSave')).toBe(1);
  });

  it.each([4, 6, 13])(
    'call-level MsgCode %i on a write is ambiguous even with msgCodeKinds overriding it',
    async (msgCode) => {
      const t = new FakeTransport(withLogin(() => json(failed(msgCode, 'x'))));
      const c = client(t, { msgCodeKinds: { [msgCode]: 'transient' } });
      expect((await caught(c.batchSave('PUR_MRB', [model]))).kind).toBe('ambiguous');
      expect((await caught(c.submit('PUR_MRB', { numbers: ['CT1'] }))).kind).toBe('ambiguous');
      expect((await caught(c.audit('PUR_MRB', { numbers: ['CT1'] }))).kind).toBe('ambiguous');
    },
  );

  it('msgCodeKinds still applies to reads and to other codes on writes', async () => {
    let reply: unknown = [[failed(4, 'x')]];
    const t = new FakeTransport(withLogin(() => json(reply)));
    const c = client(t, { msgCodeKinds: { 4: 'permanent', 14: 'permanent' } });
    expect((await caught(c.executeBillQuery(query))).kind).toBe('permanent');
    reply = failed(14, 'x');
    expect((await caught(c.batchSave('PUR_MRB', [model]))).kind).toBe('permanent');
  });

  it('MsgCode 4 on ExecuteBillQuery (and View) is transient', async () => {
    let reply: unknown = [[failed(4, 'x')]];
    const t = new FakeTransport(withLogin(() => json(reply)));
    const c = client(t);
    expect(await caught(c.executeBillQuery(query))).toMatchObject({
      kind: 'transient',
      code: 'KD_SERVER_EXCEPTION',
      msgCode: 4,
    });
    reply = failed(4, 'x');
    expect((await caught(c.view('PUR_MRB', { number: 'CT1' }))).kind).toBe('transient');
  });

  it('MsgCode 4 with SuccessEntitys on a write returns per-model outcomes', async () => {
    const reply = failed(4, 'x', 1) as { Result: { ResponseStatus: Record<string, unknown> } };
    reply.Result.ResponseStatus.SuccessEntitys = [{ Id: 5, Number: 'CT1', DIndex: 0 }];
    const t = new FakeTransport(withLogin(() => json(reply)));
    const result = await client(t).batchSave('PUR_MRB', [model, model]);
    expect(result.outcomes.map((o) => o.status)).toEqual(['saved', 'failed']);
  });

  it('a write answered with MsgCode 4 carrying the lost-session text is not resent', async () => {
    const t = new FakeTransport(withLogin(() => json(failed(4, '会话信息已丢失，请重新登录'))));
    expect((await caught(client(t).save('PUR_MRB', model))).kind).toBe('ambiguous');
    expect(t.count('Save')).toBe(1);
    expect(t.count('ValidateUser')).toBe(1);
  });

  it.each([
    [14, 'transient', 'KD_THROTTLED'],
    [2, 'auth', 'KD_NO_PERMISSION'],
    [7, 'permanent', 'KD_LICENCE'],
  ] as const)('call-level MsgCode %i on BatchSave throws %s', async (msgCode, kind, code) => {
    const t = new FakeTransport(withLogin(() => json(failed(msgCode, 'x'))));
    const err = await caught(client(t).batchSave('PUR_MRB', [model]));
    expect(err).toMatchObject({ kind, code, msgCode });
  });

  it.each([
    [401, 'auth'],
    [403, 'auth'],
    [408, 'transient'],
    [429, 'transient'],
    [400, 'permanent'],
  ] as const)('HTTP %i on a write is %s', async (status, kind) => {
    const t = new FakeTransport(withLogin(() => ({ status, setCookies: [], body: '' })));
    expect(await caught(client(t).batchSave('PUR_MRB', [model]))).toMatchObject({
      kind,
      code: 'KD_HTTP_STATUS',
      httpStatus: status,
    });
  });

  it.each([
    ['connect', 'ECONNREFUSED'],
    ['tls', 'ERR_TLS_CERT_ALTNAME_INVALID'],
  ] as const)('a %s failure before sending a write is transient', async (failure, code) => {
    const t = new FakeTransport(
      withLogin(() => {
        throw new KingdeeTransportError(failure, false, code);
      }),
    );
    const err = await caught(client(t).batchSave('PUR_MRB', [model]));
    expect(err).toMatchObject({ kind: 'transient', code: 'KD_NETWORK', requestSent: false });
  });

  it('model-level failures are returned per DIndex, not thrown', async () => {
    const t = new FakeTransport(withLogin(() => json(failed(11, '仓库是必填项', 1))));
    const result = await client(t).batchSave('PUR_MRB', [model, model]);
    expect(result.status.msgCode).toBe(11);
    expect(result.outcomes.map((o) => o.status)).toEqual(['unreported', 'failed']);
    expect(result.outcomes[1].errors[0]).toEqual({
      fieldName: 'FSTOCKID',
      message: '仓库是必填项',
      dIndex: 1,
    });
  });

  it('query errors are thrown with their kind', async () => {
    const t = new FakeTransport(withLogin(() => json([[failed(9, '字段不存在')]])));
    const err = await caught(client(t).executeBillQuery({ FormId: 'PUR_MRB', FieldKeys: 'FNope' }));
    expect(err).toMatchObject({ kind: 'permanent', msgCode: 9 });
  });

  it('rejects bad configuration without echoing secrets', () => {
    expect(() => client(new FakeTransport(() => json(ok())), { password: undefined })).toThrow(
      /password is required/,
    );
    expect(() =>
      client(new FakeTransport(() => json(ok())), { authMode: 'api_signature', appId: 'x_short' }),
    ).toThrow(/32-character/);
    expect(() => client(new FakeTransport(() => json(ok())), { serverUrl: 'ftp://x' })).toThrow(/http/);
  });
});

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
const SID = 'sid-0123456789abcdef';
const APP_ID = `260101_${Buffer.from('sandbox-kingdee-app-0001').toString('base64')}`;

const lost = {
  Result: {
    ResponseStatus: {
      ErrorCode: 500,
      IsSuccess: false,
      Errors: [{ FieldName: null, Message: '会话信息已丢失，请重新登录', DIndex: 0 }],
      SuccessEntitys: [],
      SuccessMessages: [],
      MsgCode: 1,
    },
  },
};
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
    expect(JSON.parse(t.requests[0].req.body)).toEqual({
      acctID: 'acct',
      username: 'user',
      password: PASSWORD,
      lcid: 2052,
    });
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
      acctID: 'acct',
      username: 'user',
      appId: APP_ID,
      appSecret: APP_SECRET,
      lcid: 2052,
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

  it('5xx is transient (504 on a write ambiguous)', async () => {
    let status = 500;
    const t = new FakeTransport(withLogin(() => ({ status, setCookies: [], body: '<html>boom</html>' })));
    const c = client(t);
    expect((await caught(c.save('PUR_MRB', model))).kind).toBe('transient');
    status = 504;
    expect((await caught(c.save('PUR_MRB', model))).kind).toBe('ambiguous');
    expect((await caught(c.executeBillQuery({ FormId: 'PUR_MRB', FieldKeys: 'FID' }))).kind).toBe(
      'transient',
    );
  });

  it.each([
    [14, 'transient', 'KD_THROTTLED'],
    [6, 'transient', 'KD_DATABASE_FAILURE'],
    [2, 'auth', 'KD_NO_PERMISSION'],
  ] as const)('call-level MsgCode %i throws %s', async (msgCode, kind, code) => {
    const t = new FakeTransport(withLogin(() => json(failed(msgCode, 'x'))));
    const err = await caught(client(t).batchSave('PUR_MRB', [model]));
    expect(err).toMatchObject({ kind, code, msgCode });
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

  it('an unreadable reply to a write is ambiguous', async () => {
    const t = new FakeTransport(withLogin(() => ({ status: 200, setCookies: [], body: 'response_error:' })));
    expect((await caught(client(t).save('PUR_MRB', model))).kind).toBe('ambiguous');
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

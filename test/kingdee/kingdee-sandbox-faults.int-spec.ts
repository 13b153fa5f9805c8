import {
  type KingdeeSandbox,
  type KingdeeSandboxKnobs,
  type SandboxFaultsSnapshot,
  startKingdeeSandbox,
} from '../../apps/kingdee-sandbox/src';
import { optionsFromEnv } from '../../apps/kingdee-sandbox/src/main';
import { adminJson, goldenModel } from './kingdee-test.support';

/**
 * Every fault knob of the sandbox, seen over real HTTP with raw fetch (not the client library, whose
 * error classification is what these faults exist to test): what the client sees, what the store
 * holds, and that /admin/faults counted the firing.
 */

const STUB = 'Kingdee.BOS.WebApi.ServicesStub';

interface Status {
  ErrorCode: number;
  IsSuccess: boolean;
  Errors: Array<{ FieldName: string | null; Message: string; DIndex: number }>;
  SuccessEntitys: Array<{ Id: number; Number: string; DIndex?: number }>;
  MsgCode: number;
}
type Reply = { Result: { ResponseStatus: Status } };

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(check: () => boolean, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await sleep(20);
  }
}

describe('Kingdee sandbox write faults (raw HTTP)', () => {
  let sandbox: KingdeeSandbox;
  let cookie: string;

  function loginBody(dialect: 'positional' | 'named' | 'legacy'): unknown {
    const c = sandbox.credentials;
    const positional = [c.acctId, c.username, c.password, 2052];
    if (dialect === 'positional') return { parameters: positional };
    if (dialect === 'legacy')
      return {
        format: 1,
        useragent: 'ApiClient',
        rid: '1',
        parameters: JSON.stringify(positional),
        v: '1.0',
      };
    return { acctID: c.acctId, username: c.username, password: c.password, lcid: 2052 };
  }

  async function rawLogin(dialect: 'positional' | 'named' | 'legacy' = 'positional'): Promise<Response> {
    return fetch(`${sandbox.url}${STUB}.AuthService.ValidateUser.common.kdsvc`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(loginBody(dialect)),
    });
  }

  async function login(): Promise<string> {
    const res = await rawLogin();
    expect(((await res.json()) as { LoginResultType: number }).LoginResultType).toBe(1);
    return res.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .filter((c) => c.startsWith('kdservice-sessionid='))
      .join('; ');
  }

  function call(method: string, data: unknown, init: { signal?: AbortSignal; as?: string } = {}) {
    return fetch(`${sandbox.url}${STUB}.DynamicFormService.${method}.common.kdsvc`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Cookie: init.as ?? cookie },
      // ExecuteBillQuery takes only `data`; the other methods `formid, data`.
      body: JSON.stringify({
        parameters:
          method === 'ExecuteBillQuery' ? [JSON.stringify(data)] : ['PUR_MRB', JSON.stringify(data)],
      }),
      signal: init.signal,
    });
  }

  async function json(method: string, data: unknown): Promise<Reply> {
    const res = await call(method, data);
    expect(res.status).toBe(200);
    return (await res.json()) as Reply;
  }

  const batch = (numbers: string[], autoAudit = true): unknown => ({
    IsAutoSubmitAndAudit: autoAudit,
    IsVerifyBaseDataField: false,
    Model: numbers.map((n) => goldenModel(n)),
  });
  const single = (number: string, autoAudit = true): unknown => ({
    IsAutoSubmitAndAudit: autoAudit,
    Model: goldenModel(number),
  });
  const query = { FormId: 'PUR_MRB', FieldKeys: 'FBillNo' };

  const statusOf = (billNo: string): string[] =>
    sandbox.store.findByNumber('PUR_MRB', billNo).map((b) => b.documentStatus);
  const knobs = (patch: Partial<KingdeeSandboxKnobs>): Promise<{ status: number; body: unknown }> =>
    adminJson(sandbox, 'PATCH', '/admin/knobs', patch);
  const faults = async (): Promise<SandboxFaultsSnapshot> =>
    (await adminJson(sandbox, 'GET', '/admin/faults')).body as SandboxFaultsSnapshot;

  beforeAll(async () => {
    sandbox = await startKingdeeSandbox({ port: 0 });
  });
  afterAll(async () => {
    await sandbox.close();
  });
  beforeEach(async () => {
    sandbox.reset();
    cookie = await login();
  });

  it('5xx after commit: nginx HTML page, the bill is committed', async () => {
    expect((await knobs({ next5xxAfterCommit: 1 })).status).toBe(200);
    const res = await call('BatchSave', batch(['P5-1']));
    expect(res.status).toBe(502);
    expect(res.headers.get('content-type')).toBe('text/html');
    expect(await res.text()).toBe(
      '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n' +
        '<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n',
    );
    expect(statusOf('P5-1')).toEqual(['C']);

    await knobs({ next5xxAfterCommit: 1, http5xxAfterCommitStatus: 504 });
    const again = await call('Save', single('P5-2'));
    expect(again.status).toBe(504);
    expect(await again.text()).toContain('<center><h1>504 Gateway Timeout</h1></center>');
    expect(statusOf('P5-2')).toEqual(['C']);
    expect((await knobs({ http5xxAfterCommitStatus: 404 })).status).toBe(400);
    expect((await faults()).injected).toMatchObject({ http5xxAfterCommit: 2, http5xxBefore: 0 });
  });

  it('faultMethods restricts after-commit faults; queries never spend them', async () => {
    await knobs({ next5xxAfterCommit: 1, faultMethods: ['BatchSave'] });
    expect(await (await call('ExecuteBillQuery', query)).json()).toEqual([]);
    expect((await json('Save', single('FM-1', false))).Result.ResponseStatus.IsSuccess).toBe(true);
    expect((await json('Submit', { Numbers: ['FM-1'] })).Result.ResponseStatus.IsSuccess).toBe(true);
    expect(sandbox.knobs().next5xxAfterCommit).toBe(1);
    expect((await call('BatchSave', batch(['FM-2']))).status).toBe(502);
    expect(statusOf('FM-2')).toEqual(['C']);
    expect((await knobs({ faultMethods: ['View'] as never })).status).toBe(400);
    expect((await faults()).injected.http5xxAfterCommit).toBe(1);
  });

  it('late commit: a client that gives up sees nothing, the bill appears after the hold', async () => {
    await knobs({ nextLateCommits: 1, lateCommitHoldMs: 1500 });
    const started = Date.now();
    await expect(call('BatchSave', batch(['LC-1']), { signal: AbortSignal.timeout(1000) })).rejects.toThrow();
    expect(sandbox.store.count()).toBe(0);
    expect(await faults()).toMatchObject({ lateCommitsPending: 1, commitsAfterClientGaveUp: 0 });
    await waitFor(() => statusOf('LC-1').length > 0, 2000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
    expect(statusOf('LC-1')).toEqual(['C']);
    expect(await faults()).toMatchObject({
      injected: { lateCommit: 1 },
      commitsAfterClientGaveUp: 1,
      lateCommitsPending: 0,
    });
  });

  it('late commit: a patient client gets the normal reply; the session stays locked meanwhile', async () => {
    await knobs({ nextLateCommits: 1, lateCommitHoldMs: 400 });
    const started = Date.now();
    const slow = json('BatchSave', batch(['LC-2']));
    await sleep(50);
    // Queued behind the held write on the same session: it runs after the commit and sees the bill.
    const rows = (await (await call('ExecuteBillQuery', query)).json()) as unknown[];
    expect(Date.now() - started).toBeGreaterThanOrEqual(380);
    expect(rows).toEqual([['LC-2']]);
    const reply = await slow;
    expect(reply.Result.ResponseStatus).toMatchObject({
      IsSuccess: true,
      SuccessEntitys: [{ Number: 'LC-2', DIndex: 0 }],
    });
    expect(await faults()).toMatchObject({ injected: { lateCommit: 1 }, commitsAfterClientGaveUp: 0 });
  });

  it('late commit: close() cancels pending late commits without applying them', async () => {
    const other = await startKingdeeSandbox({
      port: 0,
      knobs: { nextLateCommits: 1, lateCommitHoldMs: 60_000 },
    });
    const saved = sandbox;
    sandbox = other;
    try {
      const otherCookie = await login();
      const pending = call('BatchSave', batch(['LC-3']), { as: otherCookie }).then(
        () => 'answered',
        () => 'failed',
      );
      await waitFor(() => other.faults().lateCommitsPending === 1, 2000);
      const started = Date.now();
      await other.close();
      expect(Date.now() - started).toBeLessThan(1000);
      expect(await pending).toBe('failed');
      expect(other.store.count()).toBe(0);
      expect(other.faults()).toMatchObject({ lateCommitsPending: 0, commitsAfterClientGaveUp: 0 });
    } finally {
      sandbox = saved;
    }
  });

  it.each([
    ['committed', 'C'],
    ['draft', 'A'],
  ] as const)('MsgCode 4 after save (%s): the bills are saved in status %s', async (mode, status) => {
    await knobs({ nextExceptionsAfterSave: 1, exceptionAfterSaveMode: mode });
    const res = await call('BatchSave', batch([`EX-${mode}-1`, `EX-${mode}-2`]));
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(
      '{"Result":{"ResponseStatus":{"ErrorCode":500,"IsSuccess":false,"Errors":[{"FieldName":null,' +
        '"Message":"服务端异常：未将对象引用设置到对象的实例。","DIndex":0}],"SuccessEntitys":[],' +
        '"SuccessMessages":[],"MsgCode":4}}}',
    );
    expect([...statusOf(`EX-${mode}-1`), ...statusOf(`EX-${mode}-2`)]).toEqual([status, status]);
    // Save/BatchSave only: a Submit does not spend the counter.
    expect((await json('Save', single(`EX-${mode}-3`, false))).Result.ResponseStatus.IsSuccess).toBe(true);
    await knobs({ nextExceptionsAfterSave: 1 });
    expect((await json('Submit', { Numbers: [`EX-${mode}-3`] })).Result.ResponseStatus.IsSuccess).toBe(true);
    expect(sandbox.knobs().nextExceptionsAfterSave).toBe(1);
    expect((await faults()).injected.exceptionAfterSave).toBe(1);
  });

  it('truncated reply: HTTP 200 JSON cut in half, the write is committed', async () => {
    await knobs({ nextTruncatedReplies: 1 });
    const res = await call('BatchSave', batch(['TR-1']));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const text = await res.text();
    expect(text.startsWith('{"Result":{"ResponseStatus":{')).toBe(true);
    expect(() => JSON.parse(text) as unknown).toThrow();
    expect(statusOf('TR-1')).toEqual(['C']);
    // The same reply in full is twice as long (give or take the odd character).
    await adminJson(sandbox, 'POST', '/admin/reset', { bills: true });
    const full = await (await call('BatchSave', batch(['TR-1']))).text();
    expect(text).toBe(full.slice(0, Math.floor(full.length / 2)));
    expect((await faults()).injected.truncatedReply).toBe(1);
  });

  it('omitted DIndex: SuccessEntitys without DIndex, every model saved', async () => {
    await knobs({ nextOmitDIndex: 1 });
    const status = (await json('BatchSave', batch(['OD-1', 'OD-2']))).Result.ResponseStatus;
    expect(status.IsSuccess).toBe(true);
    expect(status.SuccessEntitys.map((e) => e.Number)).toEqual(['OD-1', 'OD-2']);
    expect(status.SuccessEntitys.some((e) => 'DIndex' in e)).toBe(false);
    expect([...statusOf('OD-1'), ...statusOf('OD-2')]).toEqual(['C', 'C']);
    expect((await faults()).injected.omitDIndex).toBe(1);
  });

  it('short entities: IsSuccess with the last entity missing, all models saved', async () => {
    await knobs({ nextShortEntities: 1 });
    // One model cannot be shortened: the counter stays armed.
    expect((await json('Save', single('SE-0'))).Result.ResponseStatus.SuccessEntitys).toHaveLength(1);
    expect(sandbox.knobs().nextShortEntities).toBe(1);
    const status = (await json('BatchSave', batch(['SE-1', 'SE-2', 'SE-3']))).Result.ResponseStatus;
    expect(status).toMatchObject({ IsSuccess: true, Errors: [] });
    expect(status.SuccessEntitys.map((e) => [e.Number, e.DIndex])).toEqual([
      ['SE-1', 0],
      ['SE-2', 1],
    ]);
    expect(statusOf('SE-3')).toEqual(['C']);
    expect((await faults()).injected.shortEntities).toBe(1);
  });

  it('Submit/Audit refused: MsgCode 11 per bill, nothing transitions', async () => {
    await json('BatchSave', batch(['SA-1', 'SA-2'], false));
    await knobs({ nextSubmitAuditFailures: 1 });
    const submit = (await json('Submit', { Numbers: ['SA-1', 'SA-2'] })).Result.ResponseStatus;
    expect(submit).toMatchObject({ IsSuccess: false, MsgCode: 11, SuccessEntitys: [] });
    expect(submit.Errors.map((e) => e.DIndex)).toEqual([0, 1]);
    expect(submit.Errors[0].Message).toMatch(/^单据“SA-1”提交失败：.+/);
    expect([...statusOf('SA-1'), ...statusOf('SA-2')]).toEqual(['A', 'A']);

    expect((await json('Submit', { Numbers: ['SA-1'] })).Result.ResponseStatus.IsSuccess).toBe(true);
    await knobs({ nextSubmitAuditFailures: 1 });
    const fid = sandbox.store.findByNumber('PUR_MRB', 'SA-1')[0].fid;
    const audit = (await json('Audit', { Ids: String(fid) })).Result.ResponseStatus;
    expect(audit).toMatchObject({ IsSuccess: false, MsgCode: 11 });
    expect(audit.Errors).toEqual([
      { FieldName: null, Message: expect.stringMatching(/^单据“SA-1”审核失败：/), DIndex: 0 },
    ]);
    expect(statusOf('SA-1')).toEqual(['B']);
    expect((await faults()).injected.submitAuditFailure).toBe(2);
  });

  it('sessions die after sessionCallLimit business calls', async () => {
    await knobs({ sessionCallLimit: 2 });
    const limited = await login();
    const lost = { Result: { ResponseStatus: { IsSuccess: false, MsgCode: 1 } } };
    for (let i = 0; i < 2; i += 1)
      expect(await (await call('ExecuteBillQuery', query, { as: limited })).json()).toEqual([]);
    expect(await (await call('Save', single('SL-1'), { as: limited })).json()).toMatchObject(lost);
    expect(statusOf('SL-1')).toEqual([]);
    // The session is gone: later calls on it are lost too (but not counted as the limit again).
    expect(await (await call('Save', single('SL-1'), { as: limited })).json()).toMatchObject(lost);
    const fresh = await login();
    expect(await (await call('Save', single('SL-1'), { as: fresh })).json()).toMatchObject({
      Result: { ResponseStatus: { IsSuccess: true } },
    });
    expect((await faults()).injected.sessionCallLimit).toBe(1);
  });

  it('loginBodies positional: a named login is not bound and gets no login reply', async () => {
    expect(((await (await rawLogin('named')).json()) as { LoginResultType: number }).LoginResultType).toBe(1);
    const set = await adminJson(sandbox, 'PATCH', '/admin/switches', { loginBodies: 'positional' });
    expect(set.body).toMatchObject({ loginBodies: 'positional' });
    const named = await rawLogin('named');
    expect(named.status).toBe(200);
    expect(named.headers.getSetCookie()).toEqual([]);
    expect(await named.text()).toBe(
      '{"Result":{"ResponseStatus":{"ErrorCode":500,"IsSuccess":false,"Errors":[{"FieldName":null,' +
        '"Message":"参数个数不匹配 (Parameter count mismatch.)","DIndex":0}],"SuccessEntitys":[],' +
        '"SuccessMessages":[],"MsgCode":4}}}',
    );
    for (const dialect of ['positional', 'legacy'] as const) {
      const res = await rawLogin(dialect);
      expect(((await res.json()) as { LoginResultType: number }).LoginResultType).toBe(1);
    }
    expect((await adminJson(sandbox, 'PATCH', '/admin/switches', { loginBodies: 'named' })).status).toBe(400);
  });

  it('counts the existing knobs too, and every reset clears the counts', async () => {
    await knobs({ next5xx: 1, nextThrottles: 1, nextSessionDrops: 1, nextLostResponses: 1 });
    expect((await call('BatchSave', batch(['EK-1']))).status).toBe(500);
    expect(sandbox.store.count()).toBe(0);
    expect(await (await call('BatchSave', batch(['EK-1']))).json()).toMatchObject({
      Result: { ResponseStatus: { MsgCode: 1 } },
    });
    cookie = await login();
    expect(await (await call('BatchSave', batch(['EK-1']))).json()).toMatchObject({
      Result: { ResponseStatus: { MsgCode: 14 } },
    });
    await expect(call('BatchSave', batch(['EK-1']))).rejects.toThrow();
    expect(statusOf('EK-1')).toEqual(['C']);
    const counted = await faults();
    expect(counted).toEqual({
      injected: {
        http5xxBefore: 1,
        http5xxAfterCommit: 0,
        lostResponse: 1,
        lateCommit: 0,
        exceptionAfterSave: 0,
        truncatedReply: 0,
        omitDIndex: 0,
        shortEntities: 0,
        submitAuditFailure: 0,
        throttled: 1,
        sessionDrop: 1,
        sessionCallLimit: 0,
      },
      commitsAfterClientGaveUp: 0,
      lateCommitsPending: 0,
    });
    expect(sandbox.faults()).toEqual(counted);
    const zero = (f: SandboxFaultsSnapshot): number => Object.values(f.injected).reduce((a, b) => a + b, 0);

    await adminJson(sandbox, 'POST', '/admin/stats/reset');
    expect(zero(await faults())).toBe(0);
    await knobs({ nextThrottles: 1 });
    await call('ExecuteBillQuery', query);
    expect(zero(await faults())).toBe(1);
    await adminJson(sandbox, 'POST', '/admin/reset', { stats: true });
    expect(zero(await faults())).toBe(0);
    await knobs({ nextThrottles: 1 });
    await call('ExecuteBillQuery', query);
    await adminJson(sandbox, 'POST', '/admin/reset', { bills: true });
    expect(zero(await faults())).toBe(1);
    sandbox.reset();
    expect(zero(sandbox.faults())).toBe(0);
  });

  it('new knobs and the switch come from KINGDEE_SANDBOX_KNOBS / _SWITCHES', async () => {
    const options = optionsFromEnv({
      KINGDEE_SANDBOX_KNOBS: JSON.stringify({
        faultMethods: ['BatchSave'],
        http5xxAfterCommitRate: 0.1,
        lateCommitRate: 0.05,
        lateCommitHoldMs: 1000,
        exceptionAfterSaveMode: 'draft',
        sessionCallLimit: 50,
      }),
      KINGDEE_SANDBOX_SWITCHES: '{"loginBodies":"positional"}',
    });
    const fromEnv = await startKingdeeSandbox({ ...options, port: 0 });
    try {
      expect(fromEnv.knobs()).toMatchObject({
        faultMethods: ['BatchSave'],
        http5xxAfterCommitRate: 0.1,
        http5xxAfterCommitStatus: 502,
        lateCommitHoldMs: 1000,
        exceptionAfterSaveMode: 'draft',
        sessionCallLimit: 50,
        nextTruncatedReplies: 0,
      });
      expect(fromEnv.switches().loginBodies).toBe('positional');
    } finally {
      await fromEnv.close();
    }
    await expect(startKingdeeSandbox({ port: 0, knobs: { omitDIndexRate: 2 } })).rejects.toThrow();
  });
});
